"""Session settings from the environment: the memory arena is off unless MATTEKIT_ARENA asks."""

from __future__ import annotations

import numpy as np
import pytest

from mattekit import OptionError
from mattekit.models import ensure_model
from mattekit.models.runtime import clear_cache, describe_runtime, load_session, memory_arena


@pytest.fixture(autouse=True)
def _fresh_sessions() -> None:
    clear_cache()


def _selfie_session():  # type: ignore[no-untyped-def]
    return load_session("selfie", lambda: ensure_model("selfie"))


@pytest.mark.parametrize(
    ("value", "expected"), [("", False), ("0", False), ("off", False), ("1", True), ("ON", True)]
)
def test_arena_setting_reaches_the_session(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("MATTEKIT_ARENA", value)
    assert memory_arena() is expected
    session = _selfie_session()
    assert session.inner.get_session_options().enable_cpu_mem_arena is expected
    # The same model and settings share one session; another arena setting loads its own.
    assert _selfie_session() is session
    out = session.run(np.zeros((1, 256, 256, 3), np.float32))[0]
    assert out.shape == (1, 256, 256, 1)
    assert f"memory arena: {'on' if expected else 'off'}" in describe_runtime()


def test_bad_arena_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATTEKIT_ARENA", "maybe")
    with pytest.raises(OptionError, match=r"^MATTEKIT_ARENA must be on or off \(1 or 0\), got 'maybe'$"):
        _selfie_session()
