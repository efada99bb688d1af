"""Masks with subject-model detail: a coarse prior (person or class) and IS-Net's crisp edges, fused."""

from __future__ import annotations

from typing import Literal, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from mattekit.segmenters.base import Mask, SegmenterInfo, StatelessSegmenter
from mattekit.segmenters.isnet import ISNetSegmenter
from mattekit.stages.refine import UpsampleMethod, upsample_mask

__all__ = ["DetailSegmenter", "Fusion", "Prior", "combine_prior_and_detail", "fuse", "keep_prior_parts"]

Fusion = Literal["mean", "filter"]
"""How a prior and IS-Net detail combine: `combine_prior_and_detail` ("mean") or
`keep_prior_parts` ("filter", the mean where IS-Net missed the subject); see `fuse`."""


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


def keep_prior_parts(
    prior: NDArray[np.float32],
    detail: NDArray[np.float32],
    min_share: float = 0.5,
    min_cover: float = 0.9,
) -> NDArray[np.float32] | None:
    """The detail mask with only its parts that the prior says are the subject.

    A filter, not a blend: IS-Net's mask is kept as it is (its edges, its soft hair) but
    each connected part of it (pixels above 0.1, so soft edges stay with their part) is
    dropped unless at least `min_share` of its core (pixels at 0.5 or more) lies inside
    the prior's region. On people photos where IS-Net found just the person this is the
    auto mask unchanged; a lamp or a dog beside the person is cut away. (Measured on both
    people sets: any `min_share` from 0.25 to 0.75 gives the same masks.)

    Args:
        prior: subject probability, same size as `detail`.
        detail: subject mask with fine edges, values 0..1.
        min_share: the share of a part's core that must be the subject.
        min_cover: the kept parts must be at least this share of the prior's area, else
            IS-Net missed part of the subject (chosen on the tune halves of the people
            sets: 0.85-0.95 alike, 0.7 and below never falls back).

    Returns:
        float32 mask in [0, 1]; None when IS-Net missed the subject (no part qualifies, or
        the kept parts cover too little of it): the caller falls back to another fusion.
    """
    count, labels = cv2.connectedComponents((detail > 0.1).astype(np.uint8), connectivity=8)
    core = detail >= 0.5
    inside = core & (prior > 0.5)
    cores = np.bincount(labels[core], minlength=count)
    hits = np.bincount(labels[inside], minlength=count)
    keep = (hits >= min_share * np.maximum(cores, 1)) & (cores > 0)
    keep[0] = False
    if not keep.any() or cores[keep].sum() < min_cover * np.count_nonzero(prior > 0.5):
        return None
    return np.asarray(detail * keep[labels], np.float32)


def fuse(prior: NDArray[np.float32], detail: NDArray[np.float32], fusion: Fusion) -> NDArray[np.float32]:
    """A prior and IS-Net detail (same size) combined as `fusion` says (see `Fusion`)."""
    kept = keep_prior_parts(prior, detail) if fusion == "filter" else None
    return combine_prior_and_detail(prior, detail) if kept is None else kept


class DetailSegmenter(StatelessSegmenter):
    """A prior (which subject: the selfie person model, or kept DeepLab classes) combined
    with IS-Net detail (where its edges are).

    Args:
        prior: gives the subject's coarse probability map.
        detail: the IS-Net segmenter giving the edges.
        upsample: "guided" (edge-aware) or "bilinear".
        fusion: see `Fusion`.
    """

    def __init__(
        self,
        prior: Prior,
        detail: ISNetSegmenter,
        *,
        upsample: UpsampleMethod = "guided",
        fusion: Fusion = "mean",
    ) -> None:
        providers = tuple(dict.fromkeys(prior.info.providers + detail.info.providers))
        joint = "|" if fusion == "filter" else "+"
        self.info = SegmenterInfo(
            f"{prior.info.name}{joint}{detail.info.name}", providers, prior.info.classes
        )
        self._prior = prior
        self._detail = detail
        self._upsample = upsample
        self._fusion = fusion

    def segment(self, rgb: NDArray[np.uint8]) -> Mask:
        """Subject mask at the frame's size."""
        prior = self._prior.predict(rgb)
        if not prior.any():  # nothing of the subject (e.g. no kept class): skip IS-Net
            return np.zeros(rgb.shape[:2], np.float32)
        small = self._detail.predict(rgb)
        size = small.shape[1], small.shape[0]
        prior = np.asarray(cv2.resize(prior, size), np.float32)
        return upsample_mask(fuse(prior, small, self._fusion), rgb, method=self._upsample)
