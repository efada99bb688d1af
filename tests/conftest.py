"""Shared fixtures: the evaluation set beside the repository, its scorer, and model files.

The real models are loaded once per process (ONNX Runtime sessions are cached by
`mattekit.models.runtime`), so tests share them without fixtures of their own.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MATTEKIT_SHARED", ROOT.parent / "shared"))
EVAL = SHARED / "eval"
EXAMPLES = ROOT / "examples"


def _load_scorer() -> ModuleType:
    path = EVAL / "score.py"
    if not path.is_file():
        raise RuntimeError(f"the evaluation set is missing: {path} (set MATTEKIT_SHARED)")
    spec = importlib.util.spec_from_file_location("eval_score", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="session")
def scorer() -> ModuleType:
    """../shared/eval/score.py, the project's official scorer."""
    return _load_scorer()


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """../shared/eval."""
    return EVAL


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """The real model cache the test run fetched into (scripts/test.sh)."""
    from mattekit.models import cache_home

    return cache_home()
