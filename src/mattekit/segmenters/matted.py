"""Alpha matting after segmentation: the mask's uncertain band solved from the image's colours."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mattekit.segmenters.base import Segmenter

__all__ = ["MattingSegmenter"]


class MattingSegmenter:
    """Wraps a segmenter and re-solves its mask's edge band by alpha matting
    (`mattekit.stages.matting.matte` on a trimap built from the mask).

    Args:
        inner: any segmenter.
    """

    def __init__(self, inner: Segmenter) -> None:
        self.name = f"{inner.name}+matting"
        self.classes = getattr(inner, "classes", None)
        self.rank = getattr(inner, "rank", None)
        self._inner = inner

    def segment(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Mask at the frame's size with its edge band matted."""
        from mattekit.stages.matting import matte

        return matte(rgb, self._inner.segment(rgb))
