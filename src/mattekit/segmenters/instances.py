"""Pick one object out of several: connected components of a mask, ranked by size."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
from numpy.typing import NDArray

from mattekit.errors import OptionError
from mattekit.segmenters.base import Mask, MaskStep, Segmenter

__all__ = ["InstanceSegmenter", "parse_instance", "ranked_pieces", "select_instance"]

# Pieces smaller than this fraction of the largest one are specks, not objects of their own.
_MIN_RELATIVE_AREA = 0.05
# Soft edge pixels (alpha < 0.5) within this fraction of the diagonal of the chosen object stay.
_EDGE_REACH = 0.01


def parse_instance(which: str | int) -> int:
    """The 1-based rank by size from "largest", "2", 2 ... .

    Raises:
        OptionError: not "largest" or a whole number >= 1.
    """
    text = str(which).strip().lower()
    if text == "largest":
        return 1
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise OptionError(f"instance must be 'largest' or a number from 1 (the largest), got '{which}'")


def ranked_pieces(solid: NDArray[np.bool_] | NDArray[np.uint8]) -> tuple[NDArray[np.int32], list[int]]:
    """Connected pieces (8-connected) of a binary mask: the label image, and the labels of the
    pieces that count as objects, largest first (pieces under 5% of the largest do not)."""
    _, found, stats, _ = cv2.connectedComponentsWithStats(solid.astype(np.uint8), connectivity=8)
    labels = np.asarray(found, np.int32)
    areas = np.asarray(stats)[1:, cv2.CC_STAT_AREA]
    if areas.size == 0:
        return labels, []
    order = np.argsort(-areas, kind="stable")
    return labels, [int(i) + 1 for i in order if areas[i] >= _MIN_RELATIVE_AREA * areas.max()]


def select_instance(mask: NDArray[np.float32], rank: int) -> NDArray[np.float32]:
    """Keep one object of a mask: the `rank`-th largest connected piece (1 = the largest).

    The piece keeps its soft edge; every other piece is cleared. Pieces under 5% of the
    largest one's area do not count. Returns an all-zero mask when there are fewer pieces.
    """
    solid = (mask >= 0.5).astype(np.uint8)
    labels, order = ranked_pieces(solid)
    if rank > len(order):
        return np.zeros_like(mask)
    chosen = (labels == order[rank - 1]).astype(np.uint8)
    reach = max(1, round(_EDGE_REACH * float(np.hypot(*mask.shape))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    near = cv2.dilate(chosen, kernel).astype(bool) & ((solid == 0) | (chosen == 1))
    return np.where(near, mask, 0.0).astype(np.float32)


class InstanceSegmenter(MaskStep):
    """Wraps a segmenter and keeps only one of the objects it finds.

    Args:
        inner: any segmenter (classes, person, auto).
        rank: which object by size, 1 = the largest.
    """

    def __init__(self, inner: Segmenter, rank: int) -> None:
        super().__init__(inner)
        self.info = replace(inner.info, name=f"{inner.info.name}#{rank}", instance=rank)
        self.rank = rank

    def apply(self, rgb: NDArray[np.uint8], mask: Mask) -> Mask:
        """Mask of the chosen object."""
        return select_instance(mask, self.rank)
