"""Person segmentation with MediaPipe's selfie models (square and landscape)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mattekit.models import get_spec, load_model
from mattekit.segmenters.base import Mask, SegmenterInfo, StatelessSegmenter, model_input
from mattekit.stages.refine import UpsampleMethod, upsample_mask

__all__ = ["SelfieSegmenter"]

# Frames at least this much wider than tall use the 256x144 landscape model, which was trained
# for 16:9 video; everything else uses the square 256x256 model.
_LANDSCAPE_ASPECT = 1.5
_SQUARE, _LANDSCAPE = "selfie", "selfie-landscape"


class SelfieSegmenter(StatelessSegmenter):
    """Person probability from the selfie model, upsampled along the image's edges.

    Both the square and the landscape model are loaded when it is built.

    Args:
        device: ONNX Runtime device ("cpu", "cuda", ...); None for the default.
        refine: "guided" (edge-aware upsampling, the default) or "bilinear".
    """

    def __init__(self, device: str | None = None, *, refine: UpsampleMethod = "guided") -> None:
        self._sessions = {name: load_model(name, device) for name in (_SQUARE, _LANDSCAPE)}
        self._refine = refine
        providers = tuple(dict.fromkeys(s.provider for s in self._sessions.values()))
        self.info = SegmenterInfo("selfie", providers)

    def predict(self, rgb: NDArray[np.uint8]) -> Mask:
        """The model's raw probability map at its own input size."""
        h, w = rgb.shape[:2]
        name = _LANDSCAPE if w >= _LANDSCAPE_ASPECT * h else _SQUARE
        output = self._sessions[name].run(model_input(rgb, get_spec(name)))[0]
        return np.asarray(output[0, :, :, 0], np.float32)

    def segment(self, rgb: NDArray[np.uint8]) -> Mask:
        """Person mask at the frame's size."""
        return upsample_mask(self.predict(rgb), rgb, method=self._refine)
