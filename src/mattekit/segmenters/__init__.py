"""Segmenters: one module per model family, combinators, and the level table that picks them.

base.py       the contract (image and stream calls, reset, SegmenterInfo) and helpers
levels.py     subject kind x quality -> models, sizes, fusion, refinement (data)
selfie.py     MediaPipe selfie (person)           isnet.py    IS-Net (any subject)
deeplab.py    DeepLabV3 (21 VOC classes)          card.py     any model from its card
fusion.py     a prior fused with IS-Net detail    instances.py, matted.py: mask steps
rvm.py        Robust Video Matting (person, recurrent, for video)
temporal.py   any per-frame segmenter smoothed over time on streams
"""

from __future__ import annotations

from mattekit.segmenters.base import Mask, Segmenter, SegmenterInfo
from mattekit.segmenters.deeplab import SemanticSegmenter
from mattekit.segmenters.levels import LEVELS, Level, build_segmenter, build_semantic

__all__ = [
    "LEVELS",
    "Level",
    "Mask",
    "Segmenter",
    "SegmenterInfo",
    "SemanticSegmenter",
    "build_segmenter",
    "build_semantic",
]
