"""Temporal smoothing of per-frame subject probabilities that does not lag behind motion.

Per-frame models flicker: a pixel near the subject's edge reads 0.4, 0.7, 0.3 in three
frames of a still scene. A plain running average steadies it but drags every moving edge
behind. Here each pixel's running estimate moves towards the new frame by a weight that
depends on the pixel:

    weight = max(floor, confidence(new) ** 2, |new - estimate| / jump)      clipped to 1

- where the new frame is sure (probability near 0 or 1) it is followed at once;
- where it differs from the estimate by `jump` or more (something moved in or out) it is
  followed at once, so edges do not trail;
- the rest, unsure pixels that wobble by small amounts, are averaged with weight `floor`.

The knobs were chosen on the first half of the frames of ../shared/eval/video and checked on
the second half (benchmarks/video_quality.py).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["TemporalSmoother", "smooth_step"]

FloatMap = NDArray[np.float32]

FLOOR = 0.25
"""The new frame's least weight: how much an unsure, steady pixel moves per frame."""
JUMP = 0.5
"""A change at least this large is followed at once."""


def smooth_step(
    estimate: FloatMap, current: FloatMap, *, floor: float = FLOOR, jump: float = JUMP
) -> FloatMap:
    """One step of the confidence-aware exponential smoothing (see the module's text).

    Args:
        estimate: the running estimate (float32 HxW in [0, 1]).
        current: the new frame's probabilities, same shape.
        floor: the new frame's least weight, in (0, 1].
        jump: the change, in (0, 1], that is followed at once.

    Returns:
        The new estimate (float32 HxW in [0, 1]).
    """
    if not 0.0 < floor <= 1.0 or not 0.0 < jump <= 1.0:
        raise ValueError(f"floor and jump must be in (0, 1], got {floor} and {jump}")
    if estimate.shape != current.shape:
        raise ValueError(f"estimate {estimate.shape} and frame {current.shape} differ in shape")
    diff = current - estimate
    confidence = np.abs(2.0 * current - 1.0)
    weight = np.maximum(confidence * confidence, np.abs(diff) * (1.0 / jump))
    np.clip(weight, floor, 1.0, out=weight)
    return np.asarray(estimate + weight * diff, np.float32)


class TemporalSmoother:
    """A stream's running estimate: `update` with each frame's probabilities, `reset` between streams.

    A frame of another shape starts the estimate again.

    Args:
        floor, jump: see `smooth_step`.
    """

    def __init__(self, *, floor: float = FLOOR, jump: float = JUMP) -> None:
        smooth_step(np.zeros(1, np.float32), np.zeros(1, np.float32), floor=floor, jump=jump)  # checks
        self.floor = floor
        self.jump = jump
        self._estimate: FloatMap | None = None

    def update(self, current: FloatMap) -> FloatMap:
        """The smoothed probabilities of the next frame."""
        current = np.asarray(current, np.float32)
        if self._estimate is None or self._estimate.shape != current.shape:
            self._estimate = current.copy()
        else:
            self._estimate = smooth_step(self._estimate, current, floor=self.floor, jump=self.jump)
        return self._estimate.copy()

    def reset(self) -> None:
        """Forget the estimate: the next frame starts a new stream."""
        self._estimate = None
