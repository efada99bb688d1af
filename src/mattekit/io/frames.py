"""What flows between the video and animation readers, the Remover and the writers.

A `Frame` is one picture of a stream with its timing: pixels (upright RGB uint8 HxWx3, or
RGBA where a reader was asked for alpha) and its presentation time as an integer `pts` in a
`time_base`, as containers store it, so variable frame rates and exact timestamps pass
through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

__all__ = ["Frame"]


@dataclass(frozen=True, eq=False)
class Frame:
    """One frame of a video or animation.

    Attributes:
        pixels: RGB uint8 HxWx3 (RGBA HxWx4 when read with alpha), upright.
        pts: presentation time in `time_base` units, counted from the stream's start.
        time_base: the unit of `pts` and `duration`, in seconds.
        duration: how long the frame shows, in `time_base` units (0 when unknown).
    """

    pixels: NDArray[np.uint8]
    pts: int
    time_base: Fraction
    duration: int = 0

    @property
    def time(self) -> float:
        """Presentation time in seconds."""
        return float(self.pts * self.time_base)

    @property
    def timestamp_ms(self) -> float:
        """Presentation time in milliseconds, as the Remover's stream calls take it."""
        return float(self.pts * self.time_base * 1000)
