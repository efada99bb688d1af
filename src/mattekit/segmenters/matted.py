"""Alpha matting after segmentation: the mask's uncertain band solved from the image's colours."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from mattekit.segmenters.base import Mask, MaskStep, Segmenter

__all__ = ["MattingSegmenter"]


class MattingSegmenter(MaskStep):
    """Wraps a segmenter and re-solves its mask's edge band by alpha matting
    (`mattekit.stages.matting.matte` on a trimap built from the mask).

    Args:
        inner: any segmenter.
    """

    def __init__(self, inner: Segmenter) -> None:
        super().__init__(inner)
        self.info = replace(inner.info, name=f"{inner.info.name}+matting")

    def apply(self, rgb: NDArray[np.uint8], mask: Mask) -> Mask:
        """The mask with its edge band matted."""
        from mattekit.stages.matting import matte  # scipy-free, but only for --refine matting

        return matte(rgb, mask)
