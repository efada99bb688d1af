"""Objects in a mask: its connected pieces ranked by size, and one of them kept."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = ["ranked_pieces", "select_instance"]

# Pieces smaller than this fraction of the largest one are specks, not objects of their own.
_MIN_RELATIVE_AREA = 0.05
# Soft edge pixels (alpha < 0.5) within this fraction of the diagonal of the chosen object stay.
_EDGE_REACH = 0.01


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
