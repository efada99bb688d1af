"""Any-subject segmentation with IS-Net (dichotomous image segmentation)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mattekit.models import ensure_model, get_spec, load_session
from mattekit.models.fetch import ensure_derived
from mattekit.models.resize import resize_square_model
from mattekit.refine import upsample_mask
from mattekit.segmenters.base import resize_for_model

__all__ = ["ISNetSegmenter"]


class ISNetSegmenter:
    """Salient-subject mask from an IS-Net model at a chosen square input size.

    The published graphs take 1024x1024; other sizes (multiples of 32) run the same weights
    through a graph whose fixed Resize sizes are rewritten once and cached.

    Args:
        model: "isnet-medium" or "isnet-small".
        size: square inference size in pixels, a multiple of 32.
        device: ONNX Runtime device; None for the default.
        refine: "guided" (edge-aware upsampling) or "bilinear".
    """

    def __init__(
        self,
        model: str = "isnet-medium",
        size: int = 1024,
        device: str | None = None,
        *,
        refine: str = "guided",
    ) -> None:
        self.name = f"{model}@{size}"
        self._model = model
        self._size = size
        self._device = device
        self._refine = refine

    def _session_path(self) -> Path:
        if self._size == get_spec(self._model).input_size[0]:
            return ensure_model(self._model)
        build = partial(resize_square_model, size=self._size)
        return ensure_derived(self._model, f"{self._size}px", build)

    def predict(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The model's raw mask at its inference size."""
        session = load_session(self.name, self._session_path(), self._device)
        small = resize_for_model(rgb, self._size, self._size)
        x = small.astype(np.float32)
        x *= 1.0 / 255.0
        x -= 0.5
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        return session.run(x)[0][0, 0]

    def segment(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Subject mask at the frame's size."""
        return upsample_mask(self.predict(rgb), rgb, method=self._refine)

