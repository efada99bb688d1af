"""Any-subject segmentation with IS-Net (dichotomous image segmentation)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from mattekit.allocator import release_freed_buffers
from mattekit.errors import OptionError
from mattekit.models import Session, get_spec
from mattekit.models.fetch import ensure_derived
from mattekit.models.runtime import load_session
from mattekit.segmenters.base import Mask, SegmenterInfo, StatelessSegmenter, model_input
from mattekit.stages.refine import UpsampleMethod, upsample_mask

__all__ = ["MULTIPLE", "ISNetSegmenter", "input_shape"]

MULTIPLE = 32
"""IS-Net input sides are multiples of this (mattekit.models.resize.MULTIPLE)."""


def input_shape(height: int, width: int, long_side: int) -> tuple[int, int]:
    """The model input (height, width) for a photo: its long side `long_side`, the short
    side scaled by the photo's aspect ratio and rounded to a multiple of 32 (at least 32).

    Example:
        >>> input_shape(1080, 1920, 768), input_shape(800, 550, 768), input_shape(10, 4000, 512)
        ((448, 768), (768, 544), (32, 512))
    """
    short = min(height, width) * long_side / max(height, width)
    short_side = max(MULTIPLE, MULTIPLE * int(short / MULTIPLE + 0.5))  # halves round up
    return (long_side, short_side) if height >= width else (short_side, long_side)


class ISNetSegmenter(StatelessSegmenter):
    """Salient-subject mask from an IS-Net model at one or more input sizes.

    By default each photo is resized to a `long_side` x `long_side` square, as the model was
    trained (and as rembg runs it). With `keep_aspect` it keeps its aspect ratio instead:
    long side `long_side`, short side scaled and rounded to a multiple of 32. Every size,
    the published 1024x1024 included, runs on one graph whose Resize sizes follow the input
    (`mattekit.models.resize`), built once and cached. With several sizes the masks are
    averaged (multi-scale inference): the smaller sees the whole subject, the larger its
    fine edges. The one session is loaded when the segmenter is built.

    Measured on ../shared/eval (benchmarks/isnet_sizes.py), squares did as well or better
    than aspect-preserving inputs with as many pixels, and aspect-preserving inputs fail when
    the short side gets small (IS-Net falls apart below about 512 px), so the levels use
    squares.

    Args:
        model: "isnet-medium", "isnet-small", or a user model with the same interface.
        long_side: the input's (long) side in pixels, a multiple of 32; or several.
        device: ONNX Runtime device; None for the default.
        refine: "guided" (edge-aware upsampling) or "bilinear".
        keep_aspect: keep the photo's aspect ratio instead of resizing it to a square.

    Raises:
        OptionError: a side that is not a positive multiple of 32.
        ModelError: the model is missing and cannot be fetched, or fails to load.
    """

    def __init__(
        self,
        model: str = "isnet-medium",
        long_side: int | tuple[int, ...] = 1024,
        device: str | None = None,
        *,
        refine: UpsampleMethod = "guided",
        keep_aspect: bool = False,
    ) -> None:
        sides = (long_side,) if isinstance(long_side, int) else tuple(sorted(set(long_side)))
        if not sides or any(s < MULTIPLE or s % MULTIPLE for s in sides):
            raise OptionError(f"IS-Net sizes must be positive multiples of {MULTIPLE}, got {sides}")
        self._sides = sides
        self._spec = get_spec(model)
        self._refine = refine
        self._keep_aspect = keep_aspect
        # One session, the any-size graph, whatever the sizes: at 1024 it equals the published
        # graph (within 1e-5) and peaked at 670-760 MB against the published graph's 1085-1100
        # (ONNX Runtime plans the fixed-shape graph's buffers differently), 3-10% slower.
        self._session: Session = load_session(f"{model}@any", self._any_size_path, device)
        providers = (self._session.provider,)
        name = f"{model}@{'+'.join(map(str, sides))}{'/aspect' if keep_aspect else ''}"
        self.info = SegmenterInfo(name, providers)

    def _any_size_path(self) -> Path:
        from mattekit.models.resize import any_size_model  # onnx: only to build the graph

        return ensure_derived(self._spec.name, "anysize", any_size_model)

    def input_shape(self, height: int, width: int, long_side: int) -> tuple[int, int]:
        """The model input (height, width) for a photo of this size at one (long) side."""
        return input_shape(height, width, long_side) if self._keep_aspect else (long_side, long_side)

    def _predict_at(self, rgb: NDArray[np.uint8], long_side: int) -> Mask:
        h, w = self.input_shape(rgb.shape[0], rgb.shape[1], long_side)
        x = model_input(rgb, self._spec, h, w)
        release_freed_buffers()  # its activations dwarf any frame buffers kept for reuse
        return np.asarray(self._session.run(x)[0][0, 0], np.float32)

    def predict(self, rgb: NDArray[np.uint8]) -> Mask:
        """The raw mask at the largest size's input shape (the mean over sizes, if several)."""
        total = self._predict_at(rgb, self._sides[-1])
        size = total.shape[1], total.shape[0]
        for side in self._sides[:-1]:
            total += cv2.resize(self._predict_at(rgb, side), size, interpolation=cv2.INTER_LINEAR)
        if len(self._sides) > 1:
            total /= len(self._sides)
        return total

    def segment(self, rgb: NDArray[np.uint8]) -> Mask:
        """Subject mask at the frame's size."""
        return upsample_mask(self.predict(rgb), rgb, method=self._refine)
