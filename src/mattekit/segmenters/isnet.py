"""Any-subject segmentation with IS-Net (dichotomous image segmentation)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from mattekit.models import ensure_model, get_spec, load_session
from mattekit.models.fetch import ensure_derived
from mattekit.models.resize import resize_square_model
from mattekit.stages.refine import upsample_mask
from mattekit.segmenters.base import resize_for_model

__all__ = ["ISNetSegmenter"]


class ISNetSegmenter:
    """Salient-subject mask from an IS-Net model at one or more square input sizes.

    The published graphs take 1024x1024; other sizes (multiples of 32) run the same weights
    through a graph whose fixed Resize sizes are rewritten once and cached. With several
    sizes the masks are averaged (multi-scale inference): the smaller size sees the whole
    subject, the larger one its fine edges.

    Args:
        model: "isnet-medium" or "isnet-small".
        size: square inference size in pixels (a multiple of 32), or several sizes.
        device: ONNX Runtime device; None for the default.
        refine: "guided" (edge-aware upsampling) or "bilinear".
    """

    def __init__(
        self,
        model: str = "isnet-medium",
        size: int | tuple[int, ...] = 1024,
        device: str | None = None,
        *,
        refine: str = "guided",
    ) -> None:
        self._sizes = (size,) if isinstance(size, int) else tuple(sorted(size))
        self.name = f"{model}@{'+'.join(map(str, self._sizes))}"
        self._model = model
        self._device = device
        self._refine = refine

    def _session_path(self, size: int) -> Path:
        if size == get_spec(self._model).input_size[0]:
            return ensure_model(self._model)
        build = partial(resize_square_model, size=size)
        return ensure_derived(self._model, f"{size}px", build)

    def _predict_at(self, rgb: NDArray[np.uint8], size: int) -> NDArray[np.float32]:
        session = load_session(
            f"{self._model}@{size}", partial(self._session_path, size), self._device
        )
        x = resize_for_model(rgb, size, size).astype(np.float32)
        x *= 1.0 / 255.0
        x -= 0.5
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        return session.run(x)[0][0, 0]

    def predict(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The raw mask at the largest inference size (the mean over sizes, if several)."""
        largest = self._sizes[-1]
        total = self._predict_at(rgb, largest)
        for size in self._sizes[:-1]:
            total += cv2.resize(self._predict_at(rgb, size), (largest, largest))
        if len(self._sizes) > 1:
            total /= len(self._sizes)
        return total

    def segment(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Subject mask at the frame's size."""
        return upsample_mask(self.predict(rgb), rgb, method=self._refine)

