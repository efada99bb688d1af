"""Any-subject segmentation with IS-Net (dichotomous image segmentation)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from mattekit.models import Session, ensure_model, get_spec
from mattekit.models.fetch import ensure_derived
from mattekit.models.runtime import load_session
from mattekit.segmenters.base import Mask, SegmenterInfo, StatelessSegmenter, model_input
from mattekit.stages.refine import UpsampleMethod, upsample_mask

__all__ = ["ISNetSegmenter"]


class ISNetSegmenter(StatelessSegmenter):
    """Salient-subject mask from an IS-Net model at one or more square input sizes.

    The published graphs take 1024x1024; other sizes (multiples of 32) run the same weights
    through a graph whose fixed Resize sizes are rewritten once and cached. With several
    sizes the masks are averaged (multi-scale inference): the smaller size sees the whole
    subject, the larger one its fine edges. Every size's session is loaded when it is built.

    Args:
        model: "isnet-medium", "isnet-small", or a user model with the same interface.
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
        refine: UpsampleMethod = "guided",
    ) -> None:
        self._sizes = (size,) if isinstance(size, int) else tuple(sorted(size))
        self._spec = get_spec(model)
        self._refine = refine
        self._sessions: dict[int, Session] = {
            s: load_session(f"{model}@{s}", partial(self._session_path, s), device) for s in self._sizes
        }
        providers = tuple(dict.fromkeys(s.provider for s in self._sessions.values()))
        self.info = SegmenterInfo(f"{model}@{'+'.join(map(str, self._sizes))}", providers)

    def _session_path(self, size: int) -> Path:
        if size == self._spec.input_size[0]:
            return ensure_model(self._spec.name)
        from mattekit.models.resize import resize_square_model  # onnx: only to build the graph

        build = partial(resize_square_model, size=size)
        return ensure_derived(self._spec.name, f"{size}px", build)

    def _predict_at(self, rgb: NDArray[np.uint8], size: int) -> Mask:
        x = model_input(rgb, self._spec, size, size)
        return np.asarray(self._sessions[size].run(x)[0][0, 0], np.float32)

    def predict(self, rgb: NDArray[np.uint8]) -> Mask:
        """The raw mask at the largest inference size (the mean over sizes, if several)."""
        largest = self._sizes[-1]
        total = self._predict_at(rgb, largest)
        for size in self._sizes[:-1]:
            total += cv2.resize(self._predict_at(rgb, size), (largest, largest))
        if len(self._sizes) > 1:
            total /= len(self._sizes)
        return total

    def segment(self, rgb: NDArray[np.uint8]) -> Mask:
        """Subject mask at the frame's size."""
        return upsample_mask(self.predict(rgb), rgb, method=self._refine)
