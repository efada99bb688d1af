"""What every segmenter is: a frame in, a soft mask at the frame's size out."""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = ["Segmenter", "resize_for_model"]


class Segmenter(Protocol):
    """Maps an RGB uint8 HxWx3 frame to a float32 HxW mask in [0, 1] at the frame's size."""

    name: str

    def segment(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Return the soft mask of `rgb` (float32, same height and width, values 0..1)."""
        ...


def resize_for_model(rgb: NDArray[np.uint8], height: int, width: int) -> NDArray[np.uint8]:
    """Resize a frame to a model's input size: area averaging down (no aliasing), linear up.

    Large shrinks go in two steps: an integer-factor area reduction (OpenCV's fast path,
    3x faster at 1080p -> 256) and then a small area resize to the exact size.
    """
    h, w = rgb.shape[:2]
    if (h, w) == (height, width):
        return rgb
    if h < height or w < width:
        return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_LINEAR)
    factor = min(w // width, h // height)
    if factor > 1:
        rgb = cv2.resize(rgb, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
