"""Person masks with subject-model detail: the selfie prior and IS-Net's crisp edges, fused."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from mattekit.refine import upsample_mask
from mattekit.segmenters.person import SelfieSegmenter
from mattekit.segmenters.subject import ISNetSegmenter

__all__ = ["PersonDetailSegmenter", "combine_prior_and_detail"]


def combine_prior_and_detail(
    prior: NDArray[np.float32], detail: NDArray[np.float32], margin: float = 0.03
) -> NDArray[np.float32]:
    """Average the person prior and the detail mask, kept to near the person region.

    The two models fail differently: the selfie model sees whole people but blurs their
    outline; IS-Net draws crisp outlines but sometimes picks another salient object or
    drops a limb. Their mean keeps what both agree on, and the grown prior region cuts
    away salient non-person objects. (Measured on ../shared/eval/people against the
    alternatives: detail only, min, max, weighted and geometric means; see the README.)

    Args:
        prior: person probability, same size as `detail`.
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
    grown = cv2.dilate(region, kernel).astype(np.float32)
    grown = cv2.blur(grown, (radius | 1, radius | 1))
    return np.minimum(0.5 * (prior + detail), grown)


class PersonDetailSegmenter:
    """Selfie person prior combined with IS-Net detail.

    Args:
        detail: the IS-Net segmenter giving the edges.
        device: ONNX Runtime device for the selfie model.
    """

    def __init__(self, detail: ISNetSegmenter, device: str | None = None) -> None:
        self.name = f"selfie+{detail.name}"
        self._prior = SelfieSegmenter(device)
        self._detail = detail

    def segment(self, rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
        """Person mask at the frame's size."""
        small = self._detail.predict(rgb)
        prior = self._prior.predict(rgb)
        size = small.shape[1], small.shape[0]
        combined = combine_prior_and_detail(cv2.resize(prior, size), small)
        return upsample_mask(combined, rgb, method="guided")
