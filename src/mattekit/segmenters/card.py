"""Any one-model segmenter described by its card: resize, normalise, run, upsample.

This runs user models added with `mattekit models add` (as rembg's `u2net_custom` and
MediaPipe's any-`.tflite` do) and built-in person/subject models asked for by name.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mattekit.models import ModelSpec, load_model
from mattekit.segmenters.base import Mask, SegmenterInfo, StatelessSegmenter, model_input
from mattekit.stages.refine import UpsampleMethod, upsample_mask

__all__ = ["CardSegmenter"]


class CardSegmenter(StatelessSegmenter):
    """The mask of a single-output model that takes one RGB image, as its card describes.

    The output's first tensor is read as (1, 1, H, W), (1, H, W, 1) or (1, H, W) and taken
    as a probability in [0, 1].

    Args:
        spec: the model's card.
        device: ONNX Runtime device; None for the default.
        refine: "guided" (edge-aware upsampling) or "bilinear".
    """

    def __init__(
        self, spec: ModelSpec, device: str | None = None, *, refine: UpsampleMethod = "guided"
    ) -> None:
        self._spec = spec
        self._session = load_model(spec.name, device)
        self._refine = refine
        self.info = SegmenterInfo(spec.name, (self._session.provider,))

    def predict(self, rgb: NDArray[np.uint8]) -> Mask:
        """The model's raw mask at its own output size."""
        out = self._session.run(model_input(rgb, self._spec))[0]
        return np.asarray(np.squeeze(out), np.float32)

    def segment(self, rgb: NDArray[np.uint8]) -> Mask:
        """Mask at the frame's size."""
        return upsample_mask(self.predict(rgb), rgb, method=self._refine)
