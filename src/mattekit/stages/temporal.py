"""Temporal smoothing of per-frame subject probabilities that does not lag behind motion.

Per-frame models flicker: a pixel near the subject's edge reads 0.4, 0.7, 0.3 in three
frames of a still scene, and a plain running average that steadies it drags every moving
edge behind. The base step (`smooth_step`) follows each pixel's new value by how far apart
they are (a dead band with a slow drift), unless the new frame is sure:

    d = new - estimate
    estimate += floor * d + (1 - floor) * sign(d) * max(|d| - deadband, 0)
    estimate = new  where |2 * new - 1| >= sure

Given the frames too (`gated_step`, `TemporalSmoother.update(p, frame)`), that step is kept
only where a change can be real: where the pixel grows more confident on its side of 0.5,
or crosses 0.5 within `reach` of the estimate's edge (a subject's edge moves a few pixels a
frame) or where the image itself changed (the grey frame, shifted by the camera's global
motion, differs by `motion` or more). Everywhere else (a still background patch that flips
to "sure subject" for a frame, a halo that comes and goes, a pixel losing confidence) the
estimate follows only `still` of the change a frame.

The knobs were chosen on the first half of the frames of the three sequences of
../shared/eval/video (selfie and IS-Net masks) among the settings whose IoU stayed within
0.005 of the unsmoothed and whose mean alpha error grew by at most 0.005, and checked on the
second half (benchmarks/video_quality.py --halves), where the dancer's IoU under the selfie
model fell 0.007 (the base step alone: 0.005) and flicker went to 0.64 of the unsmoothed
(0.57 on the first half, 0.61 over all: short of half). The base step alone: larger dead bands
(0.4-0.6) cost the dancer up to 0.03 IoU; plain running averages halve flicker but cost
0.02-0.08 IoU; optical-flow averaging gained IoU but cut flicker less; a dead band without
`sure` halves flicker but leaves masks 30-60% further from the truth. Gating on image
motion alone does nothing on these clips (the camera pans: the median pixel changes by
9-20 grey levels a frame) and even after global alignment the residual is too noisy to
gate alone; gating crossings on the distance to the estimate's edge alone cost the dancer
0.01-0.02 IoU under IS-Net (limbs it misses and finds again far from the edge); together
they keep IoU. A perfect 256x144 map, upsampled, still "flickers" 8.3 (x1000) on the
dancer: soft edges that move with her, so 0.5 of the selfie's 20 is near that floor.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DEADBAND",
    "FLOOR",
    "MOTION",
    "REACH",
    "STILL",
    "SURE",
    "TemporalSmoother",
    "gated_step",
    "image_motion",
    "smooth_step",
]

FloatMap = NDArray[np.float32]
GreyFrame = NDArray[np.uint8]

DEADBAND = 0.3
"""Changes up to this size are dropped (bar the drift); larger ones are followed."""
FLOOR = 0.1
"""The drift: the share of any change followed every frame."""
SURE = 0.96
"""Pixels whose confidence |2p - 1| reaches this take the new frame's value."""
STILL = 0.1
"""With frames: the share of a change followed where it cannot be real (see the module)."""
REACH = 3 / 256
"""With frames: crossings of 0.5 this far from the estimate's edge (a share of the map's
width: 3 pixels of the selfie model's 256) are followed."""
MOTION = 0.12
"""With frames: pixels whose grey level changed by this much (of 255, after the global
shift) count as moving; their crossings are followed."""


def _check(deadband: float, floor: float, sure: float) -> None:
    if not 0.0 <= deadband < 1.0:
        raise ValueError(f"deadband must be in [0, 1), got {deadband}")
    if not 0.0 < floor <= 1.0:
        raise ValueError(f"floor must be in (0, 1], got {floor}")
    if sure <= 0.0:
        raise ValueError(f"sure must be above 0 (above 1: never), got {sure}")


def _check_gate(still: float, reach: float, motion: float) -> None:
    if not 0.0 < still <= 1.0:
        raise ValueError(f"still must be in (0, 1], got {still}")
    if not 0.0 <= reach < 1.0:
        raise ValueError(f"reach must be in [0, 1), got {reach}")
    if not 0.0 < motion <= 1.0:
        raise ValueError(f"motion must be in (0, 1], got {motion}")


def smooth_step(
    estimate: FloatMap,
    current: FloatMap,
    *,
    deadband: float = DEADBAND,
    floor: float = FLOOR,
    sure: float = SURE,
) -> FloatMap:
    """One step of the base smoothing (see the module's text).

    Args:
        estimate: the running estimate (float32 HxW in [0, 1]).
        current: the new frame's probabilities, same shape.
        deadband: changes up to this size are dropped, bar the drift; in [0, 1).
        floor: the drift, the share of any change followed; in (0, 1].
        sure: pixels at least this confident take the new value (above 1: never).

    Returns:
        The new estimate (float32 HxW in [0, 1]).

    Example:
        >>> est = np.array([0.0, 0.0, 0.5, 0.2], np.float32)
        >>> [round(float(v), 3) for v in smooth_step(est, np.array([1.0, 0.9, 0.6, 0.0], np.float32))]
        [1.0, 0.63, 0.51, 0.0]
    """
    _check(deadband, floor, sure)
    if estimate.shape != current.shape:
        raise ValueError(f"estimate {estimate.shape} and frame {current.shape} differ in shape")
    diff = current - estimate
    beyond = np.abs(diff)
    beyond -= deadband
    np.maximum(beyond, 0.0, out=beyond)
    np.copysign(beyond, diff, out=beyond)
    out = estimate + floor * diff + (1.0 - floor) * beyond
    confident = np.abs(2.0 * current - 1.0) >= sure
    np.copyto(out, current, where=confident)
    return np.asarray(out, np.float32)


def image_motion(previous: GreyFrame, frame: GreyFrame) -> NDArray[np.uint8]:
    """Per pixel, how much the grey frame changed (0-255) once the previous one is shifted by
    the camera's global motion (phase correlation), spread over 3x3 pixels."""
    if previous.shape != frame.shape:
        raise ValueError(f"frames {previous.shape} and {frame.shape} differ in shape")
    h, w = frame.shape
    (dx, dy), _ = cv2.phaseCorrelate(previous.astype(np.float32), frame.astype(np.float32))
    shift = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
    aligned = cv2.warpAffine(previous, shift, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    change = cv2.dilate(cv2.absdiff(aligned, frame), np.ones((3, 3), np.uint8))
    return np.asarray(cv2.blur(change, (3, 3)), np.uint8)


def gated_step(
    estimate: FloatMap,
    current: FloatMap,
    moving: NDArray[np.bool_],
    *,
    still: float = STILL,
    reach: float = REACH,
    deadband: float = DEADBAND,
    floor: float = FLOOR,
    sure: float = SURE,
) -> FloatMap:
    """One step of the smoothing with the frames' motion (see the module's text).

    Args:
        estimate, current: as in `smooth_step`.
        moving: where the image changed (bool HxW, e.g. `image_motion(...) >= MOTION * 255`).
        still: the share of a change followed where it cannot be real; in (0, 1].
        reach: crossings this far from the estimate's edge are followed (share of the width).
        deadband, floor, sure: the base step's (see `smooth_step`).

    Returns:
        The new estimate (float32 HxW in [0, 1]).

    Example:
        >>> est = np.zeros((1, 40), np.float32); est[0, :10] = 1.0
        >>> new = est.copy(); new[0, 10] = new[0, 30] = 0.99
        >>> out = gated_step(est, new, np.zeros((1, 40), bool), reach=0.05)
        >>> round(float(out[0, 10]), 2), round(float(out[0, 30]), 2)  # next to the edge; far off
        (0.99, 0.1)
    """
    _check_gate(still, reach, 0.5)
    base = smooth_step(estimate, current, deadband=deadband, floor=floor, sure=sure)
    if moving.shape != current.shape:
        raise ValueError(f"motion {moving.shape} and frame {current.shape} differ in shape")
    inside = (estimate >= 0.5).view(np.uint8)
    radius = max(1, round(reach * current.shape[1]))
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    near_edge = cv2.dilate(inside, kernel) != cv2.erode(inside, kernel)
    crosses = (current >= 0.5) != (estimate >= 0.5)
    grows = np.abs(current - 0.5) > np.abs(estimate - 0.5)
    follow = (crosses & (near_edge | moving)) | (grows & ~crosses)
    slow = estimate + still * (current - estimate)
    return np.asarray(np.where(follow, base, slow), np.float32)


class TemporalSmoother:
    """A stream's running estimate: `update` with each frame's probabilities (and the frame,
    for the motion gate), `reset` between streams. A frame of another shape starts the
    estimate again.

    Args:
        deadband, floor, sure: see `smooth_step`.
        still, reach, motion: see `gated_step` and `MOTION`.
    """

    def __init__(
        self,
        *,
        deadband: float = DEADBAND,
        floor: float = FLOOR,
        sure: float = SURE,
        still: float = STILL,
        reach: float = REACH,
        motion: float = MOTION,
    ) -> None:
        _check(deadband, floor, sure)
        _check_gate(still, reach, motion)
        self.deadband = deadband
        self.floor = floor
        self.sure = sure
        self.still = still
        self.reach = reach
        self.motion = motion
        self._estimate: FloatMap | None = None
        self._grey: GreyFrame | None = None

    def update(self, current: FloatMap, frame: NDArray[np.uint8] | None = None) -> FloatMap:
        """The smoothed probabilities of the next frame (a new array).

        Args:
            current: the frame's probabilities (HxW).
            frame: the RGB frame (any size; shrunk to HxW) for the motion gate; without it
                (or after a frame without it) the base step runs.
        """
        current = np.asarray(current, np.float32)
        h, w = current.shape[:2]
        grey = None
        if frame is not None:
            small = cv2.resize(frame, (w, h), interpolation=cv2.INTER_LINEAR)
            grey = np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), np.uint8)
        if self._estimate is None or self._estimate.shape != current.shape:
            self._estimate = current.copy()
        elif grey is not None and self._grey is not None:
            moving = image_motion(self._grey, grey) >= round(self.motion * 255)
            self._estimate = gated_step(
                self._estimate,
                current,
                moving,
                still=self.still,
                reach=self.reach,
                deadband=self.deadband,
                floor=self.floor,
                sure=self.sure,
            )
        else:
            self._estimate = smooth_step(
                self._estimate, current, deadband=self.deadband, floor=self.floor, sure=self.sure
            )
        self._grey = grey
        return self._estimate.copy()

    def reset(self) -> None:
        """Forget the estimate: the next frame starts a new stream."""
        self._estimate = None
        self._grey = None
