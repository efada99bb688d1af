"""The one place that knows the order: segment -> combine with input alpha -> compose.

Pipeline code takes and returns arrays; only the edges (api, cli, server) touch files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mattekit.stages import compose, refine
from mattekit.errors import MattekitError, OptionError
from mattekit.io.images import DecodedImage, decode_image
from mattekit.segmenters import Segmenter

__all__ = [
    "Background",
    "MaskEdits",
    "StickerStyle",
    "edit_mask",
    "parse_background",
    "render",
    "subject_mask",
    "trim",
]

# Portrait-mode blur radius when none is given: a fraction of the image's longer side, so a
# 12 MP photo and a 720p frame look alike.
_DEFAULT_BLUR_FRACTION = 0.015


@dataclass(frozen=True)
class Background:
    """What goes behind the subject.

    kind is "transparent" (a cutout), "color", "image" or "blur"; the matching field holds
    the colour (RGB), the image (RGB uint8) or the blur radius in pixels (None: automatic).
    """

    kind: str = "transparent"
    color: tuple[int, int, int] | None = None
    image: NDArray[np.uint8] | None = None
    radius: float | None = None


def parse_background(spec: object) -> Background:
    """Read a background from the forms users give it.

    Accepts None (transparent), "blur" or "blur:RADIUS", a colour name or #hex code, an
    (r, g, b) tuple, a path to an image, or an image (PIL, array, bytes).

    Raises:
        OptionError: the text is none of those.
    """
    if spec is None or isinstance(spec, Background):
        return spec or Background()
    if isinstance(spec, tuple) and len(spec) == 3:
        return Background("color", color=(int(spec[0]), int(spec[1]), int(spec[2])))
    if isinstance(spec, str):
        text = spec.strip()
        if text.lower() == "blur" or text.lower().startswith("blur:"):
            return Background("blur", radius=_blur_radius(text))
        if text.lower() in {"none", "transparent"}:
            return Background()
        if text.startswith("#") or not os.path.exists(text):
            try:
                return Background("color", color=compose.parse_color(text))
            except OptionError:
                raise OptionError(
                    f"background '{text}' is not a colour (a name like 'white' or a code like "
                    "'#00ff00'), 'blur' or 'blur:RADIUS', or an existing image file"
                ) from None
        spec = Path(text)
    try:
        return Background("image", image=decode_image(spec, name="background").rgb)
    except MattekitError as exc:
        raise OptionError(f"background image: {exc}") from exc


def _blur_radius(text: str) -> float | None:
    _, _, value = text.partition(":")
    if not value:
        return None
    try:
        radius = float(value)
    except ValueError:
        radius = -1.0
    if not 0 < radius <= 500:
        raise OptionError(f"blur radius must be a number of pixels in (0, 500], got '{value}'")
    return radius


@dataclass(frozen=True)
class MaskEdits:
    """Changes to a finished mask, applied in this order.

    erode / dilate: shrink or grow the subject by this many pixels; threshold: make the mask
    hard (1 where alpha >= threshold); feather: soften its edge with a Gaussian of this
    standard deviation in pixels.
    """

    erode: int = 0
    dilate: int = 0
    threshold: float | None = None
    feather: float = 0.0

    def __post_init__(self) -> None:
        for name in ("erode", "dilate"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1000:
                raise OptionError(f"{name} must be a whole number of pixels from 0 to 1000, got {value!r}")
        if self.threshold is not None and not (
            isinstance(self.threshold, (int, float)) and 0 < self.threshold <= 1
        ):
            raise OptionError(f"threshold must be in (0, 1], got {self.threshold!r}")
        if not (isinstance(self.feather, (int, float)) and 0 <= self.feather <= 1000):
            raise OptionError(f"feather must be a number of pixels from 0 to 1000, got {self.feather!r}")


def edit_mask(mask: NDArray[np.float32], edits: MaskEdits | None) -> NDArray[np.float32]:
    """Apply `edits` to a mask (a no-op for None or the defaults)."""
    if edits is None:
        return mask
    if edits.erode:
        mask = refine.erode(mask, edits.erode)
    if edits.dilate:
        mask = refine.dilate(mask, edits.dilate)
    if edits.threshold is not None:
        mask = refine.threshold(mask, edits.threshold)
    if edits.feather:
        mask = refine.feather(mask, edits.feather)
    return mask


def subject_mask(
    image: DecodedImage, segmenter: Segmenter, edits: MaskEdits | None = None
) -> NDArray[np.float32]:
    """The subject's soft mask, edited, and intersected with the input's own alpha if it has one."""
    mask = edit_mask(segmenter.segment(image.rgb), edits)
    if image.alpha is not None:
        mask = np.minimum(mask, image.alpha)
    return mask


def render(
    rgb: NDArray[np.uint8],
    alpha: NDArray[np.float32],
    background: Background,
    *,
    estimate_foreground: bool = True,
) -> NDArray[np.uint8]:
    """Compose the subject over a background.

    Returns:
        RGBA (HxWx4) for a transparent background, else RGB (HxWx3), uint8.
    """
    foreground = compose.estimate_foreground(rgb, alpha) if estimate_foreground else None
    if background.kind == "transparent":
        return compose.cutout(rgb, alpha, foreground=foreground)
    if background.kind == "color" and background.color is not None:
        return compose.over_color(rgb, alpha, background.color, foreground=foreground)
    if background.kind == "image" and background.image is not None:
        return compose.over_image(rgb, alpha, background.image, foreground=foreground)
    if background.kind == "blur":
        radius = background.radius or max(2.0, _DEFAULT_BLUR_FRACTION * max(rgb.shape[:2]))
        return compose.over_blur(rgb, alpha, radius, foreground=foreground)
    raise OptionError(f"incomplete background {background!r}")


@dataclass(frozen=True)
class StickerStyle:
    """How a sticker looks: margin (pixels, "16px" or "5%" of the subject), outline width in
    pixels (0 for none) and colour, and whether it casts a drop shadow."""

    margin: int | float | str = "5%"
    outline: float = 0
    outline_color: str | tuple[int, int, int] = "white"
    shadow: bool = False


def trim(
    cutout: NDArray[np.uint8],
    *,
    crop: int | float | str | None = None,
    sticker: StickerStyle | None = None,
) -> NDArray[np.uint8]:
    """Crop a transparent cutout to its subject plus a margin, or make it a sticker.

    Raises:
        OptionError: the image is not a cutout (it has a background), or a bad option.
    """
    if crop is None and sticker is None:
        return cutout
    if cutout.ndim != 3 or cutout.shape[2] != 4:
        raise OptionError("cropping and stickers need a transparent cutout, not a background")
    from mattekit.stages import stickers

    if sticker is not None:
        return stickers.make_sticker(
            cutout,
            margin=sticker.margin,
            outline=sticker.outline,
            outline_color=sticker.outline_color,
            shadow=sticker.shadow,
        )
    return stickers.crop_to_subject(cutout, crop if crop is not None else 0)
