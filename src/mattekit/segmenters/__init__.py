"""Segmenters, one module per model family, and the quality levels that pick among them.

| subject | fast             | balanced                        | accurate                              |
|---------|------------------|---------------------------------|---------------------------------------|
| person  | selfie           | selfie + isnet-medium@512, mean | selfie + isnet-medium@768+1024, mean  |
| auto    | isnet-medium@512 | isnet-medium@768                | isnet-medium@768+1024 (multi-scale)   |

Every level upsamples the model's mask to the source size with a guided filter. The sizes
were chosen by measurement on ../shared/eval (see the README's level table): IS-Net falls
apart below 512 px on people (IoU 0.47 at 320), 768 px matches 1024 px, and the mean of
768 and 1024 beats either alone.
"""

from __future__ import annotations

import difflib

from mattekit.errors import OptionError
from mattekit.segmenters.base import Segmenter
from mattekit.segmenters.combined import PersonDetailSegmenter
from mattekit.segmenters.person import SelfieSegmenter
from mattekit.segmenters.subject import ISNetSegmenter

__all__ = ["QUALITIES", "SUBJECTS", "Segmenter", "load_segmenter"]

QUALITIES = ("fast", "balanced", "accurate")
SUBJECTS = ("auto", "person")

_AUTO_SIZES: dict[str, tuple[int, ...]] = {"fast": (512,), "balanced": (768,), "accurate": (768, 1024)}
_PERSON_DETAIL_SIZES: dict[str, tuple[int, ...]] = {"balanced": (512,), "accurate": (768, 1024)}


def load_segmenter(
    subject: str = "auto", quality: str = "balanced", device: str | None = None
) -> Segmenter:
    """The segmenter for a subject kind at a quality level.

    Args:
        subject: "auto" (any salient subject) or "person".
        quality: "fast", "balanced" or "accurate".
        device: ONNX Runtime device; None for ``$MATTEKIT_DEVICE`` or the CPU.

    Raises:
        OptionError: unknown subject or quality.
    """
    _check_choice("quality", quality, QUALITIES)
    _check_choice("subject", subject, SUBJECTS)
    if subject == "person":
        if quality == "fast":
            return SelfieSegmenter(device)
        detail = ISNetSegmenter(size=_PERSON_DETAIL_SIZES[quality], device=device)
        return PersonDetailSegmenter(detail, device)
    return ISNetSegmenter(size=_AUTO_SIZES[quality], device=device)


def _check_choice(what: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        close = difflib.get_close_matches(value, choices, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise OptionError(f"unknown {what} '{value}'; choose one of: {', '.join(choices)}.{hint}")
