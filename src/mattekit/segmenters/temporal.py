"""Any per-frame segmenter, steadied over time on streams (see stages/temporal.py).

Images go straight through. On streams the probabilities are smoothed before any mask
step; when the inner segmenter gives its raw low-resolution map (`predict`, as the selfie
model and IS-Net do) the smoothing runs on that map and the result is upsampled along the frame's
edges afterwards. The frame, shrunk to the map's size, goes along for the smoothing's
motion gate.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mattekit.segmenters.base import Mask, Segmenter, SegmenterInfo
from mattekit.segmenters.fusion import Prior
from mattekit.stages.refine import UpsampleMethod, upsample_mask
from mattekit.stages.temporal import TemporalSmoother

__all__ = ["SmoothedSegmenter"]


class SmoothedSegmenter:
    """A segmenter whose stream masks are smoothed over time without lagging behind motion.

    Args:
        inner: the per-frame segmenter.
        low_res: the inner segmenter's raw map and the upsampling that turns it into its
            mask (smoothing then runs on the small map); None to smooth full-size masks.
        smoother: the running estimate with its knobs; None for the defaults (see
            `mattekit.stages.temporal`).
    """

    def __init__(
        self,
        inner: Segmenter,
        *,
        low_res: tuple[Prior, UpsampleMethod] | None = None,
        smoother: TemporalSmoother | None = None,
    ) -> None:
        self._inner = inner
        self._low_res = low_res
        self._smoother = smoother or TemporalSmoother()
        info = inner.info
        self.info = SegmenterInfo(f"{info.name}+smooth", info.providers, info.classes, info.instance)

    def segment(self, rgb: NDArray[np.uint8]) -> Mask:
        """The inner segmenter's mask of one image (nothing to smooth)."""
        return self._inner.segment(rgb)

    def segment_frame(self, rgb: NDArray[np.uint8], timestamp_ms: float) -> Mask:
        """The next frame's mask, smoothed with the stream's running estimate."""
        if self._low_res is not None:
            prior, method = self._low_res
            return upsample_mask(self._smoother.update(prior.predict(rgb), rgb), rgb, method=method)
        return self._smoother.update(self._inner.segment_frame(rgb, timestamp_ms), rgb)

    def reset(self) -> None:
        """Forget the running estimate and the inner segmenter's state."""
        self._smoother.reset()
        self._inner.reset()
