"""Semantic segmentation of the 21 Pascal VOC classes with DeepLabV3 (MobileNetV2, 257x257).

Class decisions come from DeepLab, edges from the image: the per-class probabilities
(softmax of the logits) are assembled at a working resolution and upsampled to the
photo's size with the fast guided filter, so class borders snap to the image's edges
instead of the model's 257-pixel grid.

With ``tiles=True`` the model also sees overlapping square crops of the photo (each side
0.65 of the image's shorter side) and the probabilities are averaged with the whole-image
pass. Each object then covers more of the model's small input: on ../shared/eval/voc this
lifts mIoU from 0.67 to 0.78 (see the README), at one model run per tile.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from mattekit.models import get_spec, load_model
from mattekit.segmenters.base import (
    Mask,
    SegmenterInfo,
    StatelessSegmenter,
    model_input,
    resize_for_model,
)
from mattekit.stages.classes import VOC_CLASSES
from mattekit.stages.refine import UpsampleMethod, upsample_mask

__all__ = ["ClassSegmenter", "SemanticSegmenter", "tile_boxes"]

_MODEL = "deeplabv3-voc"
# Tile side as a fraction of the image's shorter side, and the least overlap between tiles.
_TILE_FRACTION = 0.65
_TILE_STEP = 0.7
# A class must win at least this share of the working-resolution pixels to count as present.
_MIN_PRESENT = 1e-3


def tile_boxes(height: int, width: int, fraction: float = _TILE_FRACTION) -> list[tuple[int, int, int]]:
    """Square tiles (y0, x0, side) covering the image with overlap.

    The side is `fraction` of the shorter side; along each axis the tiles are spread evenly
    from edge to edge, stepping at most 0.7 of a side (so a square image gets 2x2 tiles and
    a 16:9 one 2x4).
    """
    side = max(1, round(fraction * min(height, width)))

    def starts(length: int) -> list[int]:
        if length <= side:
            return [0]
        count = max(2, math.ceil((length - side) / (_TILE_STEP * side)) + 1)
        return [round(i * (length - side) / (count - 1)) for i in range(count)]

    return [(y0, x0, side) for y0 in starts(height) for x0 in starts(width)]


def _softmax(logits: NDArray[np.float32]) -> NDArray[np.float32]:
    e = np.asarray(np.exp(logits - logits.max(axis=-1, keepdims=True)), np.float32)
    e /= e.sum(axis=-1, keepdims=True)
    return e


class SemanticSegmenter:
    """Per-pixel VOC class probabilities and class maps.

    The model is loaded when it is built.

    Args:
        device: ONNX Runtime device; None for the default.
        tiles: also run overlapping crops (better small objects; about 5 model runs for a
            square photo instead of 1).
        refine: "guided" (edge-aware upsampling) or "bilinear".
    """

    def __init__(
        self, device: str | None = None, *, tiles: bool = True, refine: UpsampleMethod = "guided"
    ) -> None:
        self.name = "deeplabv3" + ("+tiles" if tiles else "")
        self._session = load_model(_MODEL, device)
        self.provider = self._session.provider
        self._tiles = tiles
        self._refine = refine

    def _run(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        return _softmax(self._session.run(model_input(rgb, get_spec(_MODEL)))[0][0])

    def probabilities(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Class probabilities (h, w, 21) at the working resolution.

        Without tiles that is the model's 257x257 grid; with tiles, the image scaled so that
        a tile maps onto the model's input pixel for pixel (about 395 px on the short side),
        or the image's own size if it is smaller.
        """
        if not self._tiles:
            return self._run(rgb)
        h, w = rgb.shape[:2]
        model_side = get_spec(_MODEL).input_size[0]
        scale = min(1.0, model_side / (_TILE_FRACTION * min(h, w)))
        sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
        small = resize_for_model(rgb, sh, sw)
        total = np.asarray(cv2.resize(self._run(small), (sw, sh), interpolation=cv2.INTER_LINEAR), np.float32)
        count = np.ones((sh, sw, 1), np.float32)
        for y0, x0, side in tile_boxes(sh, sw):
            probs = self._run(small[y0 : y0 + side, x0 : x0 + side])
            total[y0 : y0 + side, x0 : x0 + side] += cv2.resize(
                probs, (side, side), interpolation=cv2.INTER_LINEAR
            )
            count[y0 : y0 + side, x0 : x0 + side] += 1
        total /= count
        return total

    def present(self, probs: NDArray[np.float32]) -> list[int]:
        """Object classes (not background) that win a share of the working-resolution pixels."""
        counts = np.bincount(probs.argmax(axis=-1).ravel(), minlength=probs.shape[-1])
        return [int(c) for c in np.flatnonzero(counts >= _MIN_PRESENT * probs[..., 0].size) if c]

    def _upsample(self, prob: NDArray[np.float32], rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        return upsample_mask(np.ascontiguousarray(prob), rgb, method=self._refine)

    def class_map(self, rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """Class index of every pixel (uint8 HxW at the image's size)."""
        probs = self.probabilities(rgb)
        classes = [0, *self.present(probs)]
        if len(classes) == 1:
            return np.zeros(rgb.shape[:2], np.uint8)
        upsampled = np.stack([self._upsample(probs[..., c], rgb) for c in classes], axis=-1)
        return np.asarray(np.asarray(classes, np.uint8)[upsampled.argmax(axis=-1)], np.uint8)

    def class_probability(self, rgb: NDArray[np.uint8], classes: frozenset[int]) -> NDArray[np.float32]:
        """Probability of the union of `classes` at the working resolution.

        All zero when none of them is present, so that no faint ghost of a class the
        model does not pick anywhere leaks into a cutout.
        """
        probs = self.probabilities(rgb)
        if not classes.intersection(self.present(probs)):
            return np.zeros(probs.shape[:2], np.float32)
        return np.asarray(np.clip(probs[..., sorted(classes)].sum(axis=-1), 0.0, 1.0), np.float32)

    def class_mask(self, rgb: NDArray[np.uint8], classes: frozenset[int]) -> NDArray[np.float32]:
        """Soft mask of the union of `classes` at the image's size; all zero if none is present."""
        return self._upsample(self.class_probability(rgb, classes), rgb)


class ClassSegmenter(StatelessSegmenter):
    """The Segmenter for a set of kept VOC classes.

    Args:
        classes: indices of the classes that stay (see `mattekit.stages.classes.select_classes`).
        semantic: the class model.
    """

    def __init__(self, classes: frozenset[int], semantic: SemanticSegmenter) -> None:
        names = "+".join(VOC_CLASSES[i] for i in sorted(classes))
        self.info = SegmenterInfo(f"{semantic.name}[{names}]", (semantic.provider,), classes)
        self.classes = classes
        self._semantic = semantic

    def predict(self, rgb: NDArray[np.uint8]) -> Mask:
        """Probability of the kept classes at the working resolution (zero if none is present)."""
        return self._semantic.class_probability(rgb, self.classes)

    def segment(self, rgb: NDArray[np.uint8]) -> Mask:
        """Mask of the kept classes at the frame's size (empty if none is present)."""
        return self._semantic.class_mask(rgb, self.classes)
