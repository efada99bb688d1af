"""Where the tests find the evaluation set and the bundled photos, and the shared scorer."""

from __future__ import annotations

import importlib.util
import os
from functools import cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MATTEKIT_SHARED", ROOT.parent / "shared"))
EVAL = SHARED / "eval"
EXAMPLES = ROOT / "examples"


@cache
def load_scorer() -> ModuleType:
    """../shared/eval/score.py, the project's official scorer."""
    path = EVAL / "score.py"
    if not path.is_file():
        raise RuntimeError(f"the evaluation set is missing: {path} (set MATTEKIT_SHARED)")
    spec = importlib.util.spec_from_file_location("eval_score", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module
