"""The real sequences of ../shared/eval/video and the scores the video-model tests use."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from evalset import EVAL

FPS = 24.0


@dataclass(frozen=True)
class Clip:
    """Consecutive frames (RGB uint8) of a sequence and their truth masks (bool)."""

    frames: list[NDArray[np.uint8]]
    truth: list[NDArray[np.bool_]]


def load_clip(name: str, count: int, start: int = 0, width: int | None = None) -> Clip:
    """`count` frames of sequence `name` from `start`, optionally resized to `width`."""
    folder = EVAL / "video" / name
    paths = sorted((folder / "frames").glob("*.jpg"))[start : start + count]
    assert len(paths) == count, f"expected {count} frames in {folder}"
    frames, truth = [], []
    for path in paths:
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        mask = cv2.imread(str(folder / "masks" / f"{path.stem}.png"), cv2.IMREAD_GRAYSCALE)
        if width is not None:
            height = round(rgb.shape[0] * width / rgb.shape[1])
            rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
            mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
        frames.append(rgb)
        truth.append(mask > 127)
    return Clip(frames, truth)


def mean_iou(masks: list[NDArray[np.float32]], truth: list[NDArray[np.bool_]]) -> float:
    """Mean per-frame IoU of the masks thresholded at 0.5."""
    ious = []
    for alpha, true in zip(masks, truth, strict=True):
        pred = alpha >= 0.5
        ious.append(float((pred & true).sum() / max(1, (pred | true).sum())))
    return float(np.mean(ious))


def flicker(masks: list[NDArray[np.float32]], truth: list[NDArray[np.bool_]]) -> float:
    """Mean |alpha_t - alpha_t-1| inside the pixels whose truth is the same in both frames."""
    changes = []
    for i in range(1, len(masks)):
        same = truth[i] == truth[i - 1]
        changes.append(float(np.abs(masks[i] - masks[i - 1])[same].mean()))
    return float(np.mean(changes))
