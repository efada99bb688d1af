"""Edits of a finished mask, in a fixed order: erode, dilate, threshold, feather."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mattekit.stages import refine

__all__ = ["edit_mask"]


def edit_mask(
    mask: NDArray[np.float32],
    *,
    erode: int = 0,
    dilate: int = 0,
    threshold: float | None = None,
    feather: float = 0.0,
) -> NDArray[np.float32]:
    """Apply the edits to a mask (a no-op with the defaults).

    Args:
        mask: float32 HxW in [0, 1].
        erode, dilate: shrink or grow the subject by this many pixels.
        threshold: make the mask hard, 1 where it is >= threshold; None keeps it soft.
        feather: soften the edge with a Gaussian of this sigma in pixels.
    """
    if erode:
        mask = refine.erode(mask, erode)
    if dilate:
        mask = refine.dilate(mask, dilate)
    if threshold is not None:
        mask = refine.threshold(mask, threshold)
    if feather:
        mask = refine.feather(mask, feather)
    return mask
