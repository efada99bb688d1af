"""The model store: model cards, the cache, and ONNX Runtime sessions."""

from __future__ import annotations

from mattekit.models.fetch import (
    ModelStatus,
    cache_home,
    ensure_model,
    fetch_model,
    import_model,
    verify_model,
)
from mattekit.models.registry import MODELS, ModelSpec, get_spec
from mattekit.models.runtime import Session, load_session

__all__ = [
    "MODELS",
    "ModelSpec",
    "ModelStatus",
    "Session",
    "cache_home",
    "ensure_model",
    "fetch_model",
    "get_spec",
    "import_model",
    "load_model",
    "verify_model",
]


def load_model(name: str, device: str | None = None) -> Session:
    """Fetch (if needed), verify and load model `name` on `device`, once per process."""
    return load_session(name, lambda: ensure_model(name), device)
