"""The model store: model cards, the cache, user models, and ONNX Runtime sessions."""

from __future__ import annotations

from mattekit.models.fetch import (
    ModelStatus,
    cache_home,
    ensure_model,
    fetch_model,
    import_model,
    verify_model,
)
from mattekit.models.registry import MODELS, ModelSpec, all_specs, get_spec
from mattekit.models.runtime import Session, load_session
from mattekit.models.user import add_user_model, remove_user_model, user_models

__all__ = [
    "MODELS",
    "ModelSpec",
    "ModelStatus",
    "Session",
    "add_user_model",
    "all_specs",
    "cache_home",
    "ensure_model",
    "fetch_model",
    "get_spec",
    "import_model",
    "load_model",
    "remove_user_model",
    "user_models",
    "verify_model",
]


def load_model(name: str, device: str | None = None) -> Session:
    """Fetch (if needed), verify and load model `name` on `device`, once per process.

    User models (`mattekit models add`) load the same way; they are verified, never fetched.
    """
    return load_session(name, lambda: ensure_model(name), device)
