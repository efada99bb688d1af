"""Person video matting with Robust Video Matting (RVM, MobileNetV3), a recurrent model.

RVM keeps four recurrent states from frame to frame; on a stream they carry what it saw
before, so masks are steadier and fill in what one frame alone misses. The network runs on
the frame shrunk by `downsample_ratio` and its own guided filter brings alpha back to the
frame's size. The ratio is chosen from the frame size so the shrunk long side is about
`long_side` pixels (RVM's documentation: 0.375 for 720p, 0.25 for 1080p, i.e. ~480 px).

Images (`segment`) run once from a zero state; streams (`segment_frame`) carry the state,
which starts again at zero on `reset()` and whenever the frame size changes (the states'
shapes follow the frame's).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mattekit.models import load_model
from mattekit.segmenters.base import Mask, SegmenterInfo

__all__ = ["RVMSegmenter", "downsample_ratio"]

_STATES = {"r1o": "r1i", "r2o": "r2i", "r3o": "r3i", "r4o": "r4i"}
_ZERO = np.zeros((1, 1, 1, 1), np.float32)


def downsample_ratio(height: int, width: int, long_side: int) -> float:
    """The ratio that shrinks a frame's long side to about `long_side` (1 for smaller frames).

    Example:
        >>> downsample_ratio(720, 1280, 480)
        0.375
    """
    if long_side < 16:
        raise ValueError(f"long_side must be at least 16, got {long_side}")
    return min(1.0, long_side / max(height, width))


class RVMSegmenter:
    """Person alpha from RVM at the frame's size, with recurrent state on streams.

    Args:
        long_side: the long side, in pixels, that the network sees (via the downsample
            ratio); larger is slower and finer.
        device: ONNX Runtime device; None for the default.
    """

    def __init__(self, long_side: int = 480, device: str | None = None) -> None:
        downsample_ratio(1, 1, long_side)  # checks it
        self._session = load_model("rvm", device)
        self._long_side = long_side
        self._state: dict[str, NDArray[np.float32]] | None = None
        self._shape: tuple[int, int] | None = None
        self.info = SegmenterInfo(f"rvm@{long_side}", (self._session.provider,))
        self.foreground: NDArray[np.float32] | None = None
        """The last stream frame's foreground colours (float32 HxWx3 in [0, 1]), for compositing."""

    def _run(
        self, rgb: NDArray[np.uint8], state: dict[str, NDArray[np.float32]]
    ) -> dict[str, NDArray[np.float32]]:
        h, w = rgb.shape[:2]
        src = rgb.astype(np.float32)[None]
        src *= 1.0 / 255.0
        ratio = np.asarray(downsample_ratio(h, w, self._long_side), np.float32)
        return self._session.run_named({"src": src, "downsample_ratio": ratio, **state})

    def segment(self, rgb: NDArray[np.uint8]) -> Mask:
        """Person alpha of one image, from a zero state (the stream's state is untouched)."""
        out = self._run(rgb, {name: _ZERO for name in _STATES.values()})
        return np.clip(out["pha"][0, :, :, 0], 0.0, 1.0)

    def segment_frame(self, rgb: NDArray[np.uint8], timestamp_ms: float) -> Mask:
        """Person alpha of the next frame, carrying the state (reset on a new frame size)."""
        shape = (rgb.shape[0], rgb.shape[1])
        if self._state is None or shape != self._shape:
            self._state = {name: _ZERO for name in _STATES.values()}
            self._shape = shape
        out = self._run(rgb, self._state)
        self._state = {inp: out[outp] for outp, inp in _STATES.items()}
        self.foreground = out["fgr"][0]
        return np.clip(out["pha"][0, :, :, 0], 0.0, 1.0)

    def reset(self) -> None:
        """Forget the recurrent state: the next frame starts from zero."""
        self._state = None
        self._shape = None
