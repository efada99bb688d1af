"""Fixtures of the server tests (helpers are in serving.py)."""

from __future__ import annotations

import pytest
from serving import SAMPLE


@pytest.fixture(scope="session")
def sample_bytes() -> bytes:
    """The bundled photo (512x512, a person)."""
    return SAMPLE.read_bytes()
