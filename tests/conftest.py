"""Shared fixtures. Real models are loaded once per process: ONNX Runtime sessions are cached
by `mattekit.models.runtime`, so tests share them without fixtures of their own."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from evalset import EVAL, load_scorer


@pytest.fixture(scope="session")
def scorer() -> ModuleType:
    """../shared/eval/score.py."""
    return load_scorer()


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """../shared/eval."""
    return EVAL


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """The real model cache the test run fetched into (scripts/test.sh)."""
    from mattekit.models import cache_home

    return cache_home()
