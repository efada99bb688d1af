"""Imports point down only: shells -> api / remover / options -> segmenters -> stages -> models / io."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "mattekit"

# Higher layers may import lower ones (and their own), never the other way round.
LAYERS = {
    "cli": 5,
    "server": 5,
    "batch": 5,
    "__init__": 4,
    "__main__": 5,
    "api": 4,
    "remover": 4,
    "options": 4,
    "custom": 4,
    "video": 4,  # the video pipeline: an API over the Remover's stream mode, exported by __init__
    "segmenters": 3,
    "stages": 2,
    "models": 1,
    "allocator": 1,
    "io": 1,
    "errors": 0,
}


def _layer(module: str) -> int:
    """The layer of a dotted module inside mattekit ("mattekit.stages.refine" -> 2)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return LAYERS[top]


def _module_name(path: Path) -> str:
    relative = path.relative_to(SRC.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [name for name in found if name == "mattekit" or name.startswith("mattekit.")]


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path: Path) -> None:
    name = _module_name(path)
    own = LAYERS["__init__"] if name == "mattekit" else _layer(name)
    upward = [target for target in _imports(path) if _layer(target) > own]
    assert not upward, f"{name} (layer {own}) imports from higher layers: {upward}"


def test_onnxruntime_is_imported_by_the_runtime_only() -> None:
    users = [p.relative_to(SRC).as_posix() for p in MODULES if "import onnxruntime" in p.read_text()]
    assert users == ["models/runtime.py"]


def test_every_module_has_a_layer() -> None:
    assert {_module_name(p).split(".")[1] for p in MODULES if p.parent != SRC or p.stem != "__init__"} <= set(
        LAYERS
    )
