"""Fixtures for model-store tests: original TFLite files from the real cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mattekit.models import get_spec
from mattekit.models.fetch import model_dir


@pytest.fixture(scope="session")
def tflite_file() -> Callable[[str], Path]:
    """Path of a model's original .tflite in the cache (scripts/test.sh fetches them)."""

    def find(name: str) -> Path:
        spec = get_spec(name)
        path = model_dir(spec) / spec.filename
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing: run `mattekit models fetch {name}` (scripts/test.sh does)"
            )
        return path

    return find
