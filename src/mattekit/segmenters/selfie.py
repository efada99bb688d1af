"""Person segmentation with MediaPipe's selfie models (square and landscape)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mattekit.models import get_spec, load_model
from mattekit.stages.refine import upsample_mask
from mattekit.segmenters.base import resize_for_model

__all__ = ["SelfieSegmenter"]

# Frames at least this much wider than tall use the 256x144 landscape model, which was trained
# for 16:9 video; everything else uses the square 256x256 model.
_LANDSCAPE_ASPECT = 1.5


class SelfieSegmenter:
    """Person probability from the selfie model, upsampled along the image's edges.

    Args:
        device: ONNX Runtime device ("cpu", "cuda", ...); None for the default.
        refine: "guided" (edge-aware upsampling, the default) or "bilinear".
    """

    name = "selfie"

    def __init__(self, device: str | None = None, *, refine: str = "guided") -> None:
        self._device = device
        self._refine = refine

    def predict(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The model's raw probability map at its own input size."""
        h, w = rgb.shape[:2]
        name = "selfie-landscape" if w >= _LANDSCAPE_ASPECT * h else "selfie"
        session = load_model(name, self._device)
        height, width = get_spec(name).input_size
        small = resize_for_model(rgb, height, width)
        x = (small.astype(np.float32) * (1.0 / 255.0))[None]
        return session.run(x)[0][0, :, :, 0]

    def segment(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Person mask at the frame's size."""
        return upsample_mask(self.predict(rgb), rgb, method=self._refine)

