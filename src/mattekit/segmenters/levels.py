"""The level table: subject kind x quality -> which models run, at which sizes, fused how.

| subject | fast             | balanced                              | accurate                                   |
|---------|------------------|---------------------------------------|--------------------------------------------|
| person  | selfie           | isnet-medium@1024, person parts kept  | isnet-medium@768+1024, person parts kept   |
| auto    | isnet-medium@640 | isnet-medium@1024                     | isnet-medium@768+1024 (multi-scale mean)   |
| classes | deeplabv3        | deeplabv3+tiles + isnet-medium@512    | deeplabv3+tiles + isnet-medium@768+1024    |

IS-Net sees a square (as it was trained; at each photo's own aspect ratio it scored lower on
the video frames and objects at the same long side). People: the auto mask with only the
parts the selfie model calls a person (`keep_prior_parts`), so a person level is the auto
level where the photo holds just a person; where IS-Net missed part of the person, the mean
of the two (`combine_prior_and_detail`). Classes: DeepLab says which pixels belong to the
kept classes, IS-Net where their edges are. Every level upsamples the model's mask to the
source size with a guided filter. Sizes and fusion were chosen on one half of every public
set (people, fullbody, objects, video frames) and confirmed on the other
(benchmarks/isnet_sizes.py; the README's level table): below 640 px IS-Net collapses on the
video frames, and only 1024 px keeps 0.98 of its own IoU at 1024 on every set; for
accurate, the means of 640+1024 and 768+1024 tied on the tune halves, so the level stayed.

A new model family is a model card, one small segmenter module, and a builder in
`_FAMILIES`; a new level is a row in `LEVELS`.

Video (`build_segmenter(..., video=True)`, a Remover in "video" mode) has its own small
table, `VIDEO_LEVELS`: people at balanced and accurate run the recurrent RVM model; every
other level runs its image segmenter with temporal smoothing (segmenters/temporal.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mattekit.errors import OptionError
from mattekit.models import get_spec
from mattekit.segmenters.base import Segmenter
from mattekit.segmenters.card import CardSegmenter
from mattekit.segmenters.deeplab import ClassSegmenter, SemanticSegmenter
from mattekit.segmenters.fusion import DetailSegmenter, Fusion
from mattekit.segmenters.instances import InstanceSegmenter
from mattekit.segmenters.isnet import ISNetSegmenter
from mattekit.segmenters.matted import MattingSegmenter
from mattekit.segmenters.rvm import RVMSegmenter
from mattekit.segmenters.selfie import SelfieSegmenter
from mattekit.segmenters.temporal import SmoothedSegmenter
from mattekit.stages.refine import UpsampleMethod

__all__ = [
    "KINDS",
    "LEVELS",
    "QUALITIES",
    "REFINES",
    "VIDEO_LEVELS",
    "Level",
    "VideoLevel",
    "build_segmenter",
    "build_semantic",
]

QUALITIES = ("fast", "balanced", "accurate")
"""Speed/quality levels, fastest first."""

KINDS = ("person", "auto", "classes")
"""Subject kinds: people, any salient subject, or Pascal VOC classes."""

REFINES = ("none", "guided", "matting")
"""Edge refinement: bilinear upscaling, guided (edge-aware) upsampling, or alpha matting."""

DETAIL_MODEL = "isnet-medium"


@dataclass(frozen=True)
class Level:
    """One row of the level table.

    Attributes:
        family: the model family that finds the subject: "selfie", "isnet" or "deeplab".
        sizes: IS-Net inference sizes when the family is "isnet" (several: averaged).
        tiles: DeepLab also runs on overlapping tiles.
        detail: IS-Net sizes whose mask is fused with the family's as edge detail
            (empty: none).
        fusion: how the detail is fused (see `Fusion`).
        refine: the default edge refinement.
    """

    family: str
    sizes: tuple[int, ...] = ()
    tiles: bool = False
    detail: tuple[int, ...] = ()
    fusion: Fusion = "mean"
    refine: str = "guided"


LEVELS: dict[tuple[str, str], Level] = {
    ("person", "fast"): Level("selfie"),
    ("person", "balanced"): Level("selfie", detail=(1024,), fusion="filter"),
    ("person", "accurate"): Level("selfie", detail=(768, 1024), fusion="filter"),
    ("auto", "fast"): Level("isnet", sizes=(640,)),
    ("auto", "balanced"): Level("isnet", sizes=(1024,)),
    ("auto", "accurate"): Level("isnet", sizes=(768, 1024)),
    ("classes", "fast"): Level("deeplab"),
    ("classes", "balanced"): Level("deeplab", tiles=True, detail=(512,)),
    ("classes", "accurate"): Level("deeplab", tiles=True, detail=(768, 1024)),
}


@dataclass(frozen=True)
class VideoLevel:
    """One row of the video level table.

    Attributes:
        family: "rvm" (the recurrent video matting model) or "image" (the image level's
            segmenter, smoothed over time).
        long_side: for "rvm", the long side in pixels the network sees.
    """

    family: str
    long_side: int = 0


VIDEO_LEVELS: dict[tuple[str, str], VideoLevel] = {
    ("person", "balanced"): VideoLevel("rvm", long_side=384),
    ("person", "accurate"): VideoLevel("rvm", long_side=512),
}
"""Video levels that differ from "the image level's segmenter, smoothed" (the default row)."""

_SMOOTHED = VideoLevel("image")

# family -> builder(level, device, upsample, kept classes) of the subject segmenter; each
# must also offer `predict` (the raw map) when a level fuses it with IS-Net detail.
_Builder = Callable[[Level, "str | None", UpsampleMethod, "frozenset[int] | None"], Segmenter]
_FAMILIES: dict[str, _Builder] = {
    "selfie": lambda level, device, upsample, _: SelfieSegmenter(device, refine=upsample),
    "isnet": lambda level, device, upsample, _: ISNetSegmenter(
        DETAIL_MODEL, level.sizes, device, refine=upsample
    ),
    "deeplab": lambda level, device, upsample, classes: ClassSegmenter(
        classes or frozenset(), SemanticSegmenter(device, tiles=level.tiles, refine=upsample)
    ),
}


def build_segmenter(
    kind: str,
    quality: str,
    *,
    classes: frozenset[int] | None = None,
    refine: str | None = None,
    instance: int | None = None,
    model: str | None = None,
    device: str | None = None,
    video: bool = False,
) -> Segmenter:
    """Build (and load every model of) the segmenter for a subject kind at a quality level.

    Args:
        kind: "person", "auto" or "classes" (see `KINDS`).
        quality: see `QUALITIES`.
        classes: the VOC class indices to keep, for kind "classes".
        refine: see `REFINES`; None for the level's default.
        instance: keep only the N-th largest object (1 = the largest); None for all.
        model: a model card's name that runs in place of the level's models (a built-in or
            a user model added with `mattekit models add`); None for the level's.
        device: ONNX Runtime device; None for the default.
        video: build the level's video segmenter (`VIDEO_LEVELS`), steady on streams.

    Raises:
        OptionError: an unknown kind, quality or refinement, or a model that cannot serve.
        ModelError: a model is missing and cannot be fetched, or fails to load.
    """
    level = LEVELS[(kind, quality)]
    refine = refine or level.refine
    upsample: UpsampleMethod = "bilinear" if refine == "none" else "guided"
    segmenter: Segmenter
    video_level = VIDEO_LEVELS.get((kind, quality), _SMOOTHED)
    recurrent = video and model is None and video_level.family == "rvm"
    if recurrent:
        segmenter = RVMSegmenter(video_level.long_side, device, refine=upsample)
    elif model is not None:
        segmenter = _card_segmenter(model, kind, device, upsample)
    else:
        segmenter = _FAMILIES[level.family](level, device, upsample, classes)
        if level.detail:
            detail = ISNetSegmenter(DETAIL_MODEL, level.detail, device)
            segmenter = DetailSegmenter(segmenter, detail, upsample=upsample, fusion=level.fusion)  # type: ignore[arg-type]
    if video and not recurrent:  # a per-frame model: smoothed over time
        low_res = (segmenter, upsample) if isinstance(segmenter, (SelfieSegmenter, ISNetSegmenter)) else None
        segmenter = SmoothedSegmenter(segmenter, low_res=low_res)
    if instance is not None:
        segmenter = InstanceSegmenter(segmenter, instance)
    if refine == "matting":
        segmenter = MattingSegmenter(segmenter)
    return segmenter


def _card_segmenter(model: str, kind: str, device: str | None, upsample: UpsampleMethod) -> Segmenter:
    try:
        spec = get_spec(model)
    except OptionError as exc:
        raise OptionError(f"model: {exc}", "model") from None
    if kind == "classes":
        raise OptionError(
            f"model: '{model}' cannot be combined with VOC classes; classes always use the "
            "deeplabv3-voc model",
            "model",
        )
    if spec.task not in ("person", "subject"):
        raise OptionError(
            f"model: '{model}' is a {spec.task} model; use one whose task is person or subject", "model"
        )
    return CardSegmenter(spec, device, refine=upsample)


def build_semantic(quality: str, device: str | None = None) -> SemanticSegmenter:
    """The VOC class model at a level: "fast" runs it on the whole photo once, the others
    also on overlapping tiles."""
    return SemanticSegmenter(device, tiles=LEVELS[("classes", quality)].tiles)
