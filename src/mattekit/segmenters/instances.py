"""Keep one object of several: the segmenter step, and the option that picks it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from mattekit.errors import OptionError
from mattekit.segmenters.base import Mask, MaskStep, Segmenter
from mattekit.stages.pieces import select_instance

__all__ = ["InstanceSegmenter", "parse_instance"]


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
