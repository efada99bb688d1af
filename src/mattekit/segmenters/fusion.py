"""Masks with subject-model detail: a coarse prior (person or class) and IS-Net's crisp edges, fused."""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from mattekit.segmenters.base import Mask, SegmenterInfo, StatelessSegmenter
from mattekit.segmenters.isnet import ISNetSegmenter
from mattekit.stages.refine import UpsampleMethod, upsample_mask

__all__ = ["DetailSegmenter", "Prior", "combine_prior_and_detail"]


class Prior(Protocol):
    """A segmenter that also gives its raw, low-resolution probability map."""

    @property
    def info(self) -> SegmenterInfo:
        """What the prior is and runs on."""
        ...

    def predict(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The probability of the wanted subject, at the model's resolution."""
        ...


def combine_prior_and_detail(
    prior: NDArray[np.float32], detail: NDArray[np.float32], margin: float = 0.03
) -> NDArray[np.float32]:
    """Average the prior and the detail mask, kept to near the prior's region.

    The two models fail differently: the prior (the selfie model, or DeepLab's classes)
    knows what the subject is but blurs its outline; IS-Net draws crisp outlines but
    sometimes picks another salient object or drops a limb. Their mean keeps what both
    agree on, and the grown prior region cuts away salient objects of other kinds.
    (Measured on ../shared/eval/people against the alternatives: detail only, min, max,
    weighted and geometric means; and on ../shared/eval/voc with kept classes, where the
    mean also beat detail-inside-the-region; see the README.)

    Args:
        prior: subject probability, same size as `detail`.
        detail: subject mask with fine edges (hair), values 0..1.
        margin: how far beyond the prior's region detail may reach, as a fraction of the
            image diagonal (hair and loose clothing stick out of a coarse prior).

    Returns:
        float32 mask in [0, 1].
    """
    h, w = prior.shape
    radius = max(1, round(margin * float(np.hypot(h, w))))
    region = (prior > 0.5).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    grown = np.asarray(cv2.dilate(region, kernel), np.float32)
    grown = np.asarray(cv2.blur(grown, (radius | 1, radius | 1)), np.float32)
    return np.asarray(np.minimum(0.5 * (prior + detail), grown), np.float32)


class DetailSegmenter(StatelessSegmenter):
    """A prior (which subject: the selfie person model, or kept DeepLab classes) combined
    with IS-Net detail (where its edges are).

    Args:
        prior: gives the subject's coarse probability map.
        detail: the IS-Net segmenter giving the edges.
        upsample: "guided" (edge-aware) or "bilinear".
    """

    def __init__(self, prior: Prior, detail: ISNetSegmenter, *, upsample: UpsampleMethod = "guided") -> None:
        providers = tuple(dict.fromkeys(prior.info.providers + detail.info.providers))
        self.info = SegmenterInfo(f"{prior.info.name}+{detail.info.name}", providers, prior.info.classes)
        self._prior = prior
        self._detail = detail
        self._upsample = upsample

    def segment(self, rgb: NDArray[np.uint8]) -> Mask:
        """Subject mask at the frame's size."""
        prior = self._prior.predict(rgb)
        if not prior.any():  # nothing of the subject (e.g. no kept class): skip IS-Net
            return np.zeros(rgb.shape[:2], np.float32)
        small = self._detail.predict(rgb)
        size = small.shape[1], small.shape[0]
        combined = combine_prior_and_detail(np.asarray(cv2.resize(prior, size), np.float32), small)
        return upsample_mask(combined, rgb, method=self._upsample)
