"""Segmenters, one module per model family, and the quality levels that pick among them.

| subject | fast             | balanced                           | accurate                                |
|---------|------------------|------------------------------------|-----------------------------------------|
| person  | selfie           | selfie + isnet-medium@512, mean    | selfie + isnet-medium@768+1024, mean    |
| auto    | isnet-medium@512 | isnet-medium@768                   | isnet-medium@768+1024 (multi-scale)     |
| classes | deeplabv3        | deeplabv3+tiles + isnet-medium@512 | deeplabv3+tiles + isnet-medium@768+1024 |

A subject that names VOC classes ("dog", "dog,cat"), or `keep` / `drop` lists, selects the
class levels: DeepLab says which pixels belong to the kept classes, IS-Net where their
edges are (as the selfie model and IS-Net do for people).

Every level upsamples the model's mask to the source size with a guided filter. The sizes
were chosen by measurement on ../shared/eval (see the README's level table): IS-Net falls
apart below 512 px on people (IoU 0.47 at 320), 768 px matches 1024 px, and the mean of
768 and 1024 beats either alone.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from mattekit.stages.classes import VOC_CLASSES, parse_classes, select_classes
from mattekit.errors import OptionError
from mattekit.segmenters.base import Segmenter
from mattekit.segmenters.fusion import DetailSegmenter
from mattekit.segmenters.instances import InstanceSegmenter, parse_instance
from mattekit.segmenters.matted import MattingSegmenter
from mattekit.segmenters.selfie import SelfieSegmenter
from mattekit.segmenters.deeplab import ClassSegmenter, SemanticSegmenter
from mattekit.segmenters.isnet import ISNetSegmenter

__all__ = ["DEFAULT_REFINE", "QUALITIES", "REFINES", "Segmenter", "load_segmenter", "load_semantic"]

Classes = str | Iterable[str] | None

QUALITIES = ("fast", "balanced", "accurate")

_AUTO_SIZES: dict[str, tuple[int, ...]] = {"fast": (512,), "balanced": (768,), "accurate": (768, 1024)}
_DETAIL_SIZES: dict[str, tuple[int, ...]] = {"balanced": (512,), "accurate": (768, 1024)}
_PERSON_WORDS = ("person", "people")
REFINES = ("none", "guided", "matting")
DEFAULT_REFINE = {"fast": "guided", "balanced": "guided", "accurate": "guided"}


def load_segmenter(
    subject: str | Iterable[str] = "auto",
    quality: str = "balanced",
    device: str | None = None,
    *,
    keep: Classes = None,
    drop: Classes = None,
    instance: str | int | None = None,
    refine: str | None = None,
) -> Segmenter:
    """The segmenter for a subject at a quality level.

    Args:
        subject: "auto" (any salient subject), "person", or VOC classes to keep ("dog",
            "dog,cat" or a list of names).
        quality: "fast", "balanced" or "accurate".
        device: ONNX Runtime device; None for ``$MATTEKIT_DEVICE`` or the CPU.
        keep: VOC classes to keep (added to those named by `subject`).
        drop: VOC classes to drop; with no class kept, every other object class stays.
        instance: keep only one object: "largest", or its rank by size (1 = the largest).
        refine: how the model's small mask becomes the photo's: "none" (bilinear), "guided"
            (edge-aware upsampling) or "matting" (guided, then alpha matting in the uncertain
            band); None for the level's own choice.

    Raises:
        OptionError: unknown subject, class, quality or refinement.
    """
    _check_choice("quality", quality, QUALITIES)
    refine = refine or DEFAULT_REFINE[quality]
    _check_choice("refine", refine, REFINES)
    upsample = "bilinear" if refine == "none" else "guided"
    segmenter = _subject_segmenter(subject, quality, device, keep, drop, upsample)
    if instance is not None:
        segmenter = InstanceSegmenter(segmenter, parse_instance(instance))
    if refine == "matting":
        segmenter = MattingSegmenter(segmenter)
    return segmenter


def _subject_segmenter(
    subject: str | Iterable[str], quality: str, device: str | None, keep: Classes, drop: Classes,
    upsample: str,
) -> Segmenter:  # fmt: skip
    named = subject.strip().lower() if isinstance(subject, str) else None
    if keep is None and drop is None and named in ("auto", "", *_PERSON_WORDS):
        if named in _PERSON_WORDS:
            return _with_detail(SelfieSegmenter(device, refine=upsample), quality, device, upsample)
        return ISNetSegmenter(size=_AUTO_SIZES[quality], device=device, refine=upsample)
    if named not in (None, "auto"):
        _check_subject(str(subject))
    kept = [] if named == "auto" else [subject] if isinstance(subject, str) else list(subject)
    if keep is not None:
        kept += [keep] if isinstance(keep, str) else list(keep)
    classes = select_classes(keep=kept or None, drop=drop)
    semantic = load_semantic(quality, device, upsample=upsample)
    return _with_detail(ClassSegmenter(classes, semantic), quality, device, upsample)


def load_semantic(
    quality: str = "balanced", device: str | None = None, *, upsample: str = "guided"
) -> SemanticSegmenter:
    """The VOC class model at a quality level: "fast" runs it once on the whole photo,
    "balanced" and "accurate" also on overlapping tiles.

    Raises:
        OptionError: unknown quality.
    """
    _check_choice("quality", quality, QUALITIES)
    return SemanticSegmenter(device, tiles=quality != "fast", refine=upsample)


def _with_detail(
    prior: SelfieSegmenter | ClassSegmenter, quality: str, device: str | None, upsample: str
) -> Segmenter:
    if quality == "fast":
        return prior
    detail = ISNetSegmenter(size=_DETAIL_SIZES[quality], device=device)
    return DetailSegmenter(prior, detail, upsample=upsample)


def _check_subject(subject: str) -> None:
    try:
        parse_classes(subject)
    except OptionError:
        if "," in subject:  # a list of classes: name the unknown one
            raise
        words = ("auto", "person", *VOC_CLASSES[1:])
        close = difflib.get_close_matches(subject.strip().lower(), words, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise OptionError(
            f"unknown subject '{subject}'; use auto, person, or VOC classes: "
            f"{', '.join(VOC_CLASSES[1:])}.{hint}"
        ) from None


def _check_choice(what: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        close = difflib.get_close_matches(value, choices, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise OptionError(f"unknown {what} '{value}'; choose one of: {', '.join(choices)}.{hint}")
