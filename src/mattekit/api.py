"""The one-call functions: thin wrappers that build a Remover and call it once.

For many images, or frames, build a `Remover` yourself and reuse it: the one-call
functions check their options on every call (the models themselves stay loaded).

Example:
    >>> from mattekit import remove
    >>> cutout = remove("dog.jpg", quality="accurate")  # doctest: +SKIP
    >>> cutout.save("dog.png")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mattekit.errors import InputError
from mattekit.io.images import DecodedImage, decode_image
from mattekit.options import RemoveOptions
from mattekit.remover import ImageInput, Remover, Segmentation, Target
from mattekit.stages import compose
from mattekit.stages.backgrounds import parse_background
from mattekit.stages.classes import ClassShare

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "RemoveArgs",
    "SegmentArgs",
    "StickerArgs",
    "class_map",
    "classes",
    "composite",
    "process_file",
    "remove",
    "segment",
    "sticker",
]


class SegmentArgs(TypedDict, total=False):
    """What to keep and how well (see `RemoveOptions` for each)."""

    subject: str | Iterable[str]
    quality: str
    keep: str | Iterable[str] | None
    drop: str | Iterable[str] | None
    instance: str | int | None
    refine: str | None
    erode: int
    dilate: int
    threshold: float | None
    feather: float
    model: str | None
    device: str | None
    max_pixels: int | None


class RemoveArgs(SegmentArgs, total=False):
    """`SegmentArgs` plus what to make of the subject."""

    background: object
    crop: int | float | str | None
    estimate_foreground: bool


class StickerArgs(SegmentArgs, total=False):
    """`SegmentArgs` plus the sticker's look."""

    margin: int | float | str
    outline: float
    outline_color: str | tuple[int, int, int]
    shadow: bool


def _options(args: Any, output: str) -> RemoveOptions:
    return RemoveOptions.from_values({**args, "output": output})


def segment(image: ImageInput, **options: Unpack[SegmentArgs]) -> NDArray[np.float32]:
    """The subject's soft mask.

    Args:
        image: the photo: a path, bytes, a binary file, a PIL image or a numpy array.
        **options: subject ("auto", "person" or VOC classes), quality ("fast", "balanced",
            "accurate"), keep, drop, instance, refine, erode, dilate, threshold, feather,
            model, device, max_pixels: see `RemoveOptions`.

    Returns:
        float32 HxW mask in [0, 1] at the image's size (after EXIF orientation); all zero
        when none of the kept classes is in the picture.

    Raises:
        InputError: the image cannot be read.
        OptionError: a bad option; the message names it.
        ModelError: the model is missing and cannot be fetched.
    """
    return Remover(_options(options, "mask")).segment(image).mask


def remove(image: ImageInput, **options: Unpack[RemoveArgs]) -> Image.Image:
    """Remove (or replace) the background of a photo.

    Args:
        image: the photo.
        **options: as in `segment`, plus background (None for a transparent cutout; a colour
            such as "white", "#00ff00" or (r, g, b); "blur" or "blur:RADIUS"; or an image),
            crop (crop the cutout to the subject with this margin: pixels, "16px" or "5%")
            and estimate_foreground (recover the subject's colours at soft edges, so no halo
            of the old background shows; default True).

    Returns:
        An RGBA cutout, or an RGB image when a background is given.

    Example:
        >>> remove("portrait.jpg", subject="person", background="blur:20")  # doctest: +SKIP
        >>> remove("paddock.jpg", keep=["horse"], drop=["person"], crop="5%")  # doctest: +SKIP
    """
    return Image.fromarray(Remover(_options(options, "image")).process(image))


def sticker(image: ImageInput, **options: Unpack[StickerArgs]) -> Image.Image:
    """A sticker: the cutout cropped to the subject, with an optional outline and drop shadow.

    Args:
        image: the photo.
        **options: as in `segment`, plus margin (transparent space around the sticker:
            pixels, "16px", or "5%" of the subject; default "5%"), outline (width in pixels,
            0 for none), outline_color (default "white") and shadow (default False).

    Returns:
        RGBA image, as large as the subject plus outline, shadow and margin.

    Example:
        >>> sticker("cat.jpg", outline=8, shadow=True).save("cat.sticker.png")  # doctest: +SKIP
    """
    return Image.fromarray(Remover(_options(options, "sticker")).process(image))


def class_map(
    image: ImageInput, *, quality: str = "balanced", device: str | None = None
) -> NDArray[np.uint8]:
    """The Pascal VOC class index of every pixel (uint8 HxW; `mattekit.VOC_CLASSES`).

    Args:
        image: the photo.
        quality: "fast" runs DeepLab once on the whole photo; "balanced" and "accurate" also
            run it on overlapping tiles (better small objects, about 5x the time).
        device: ONNX Runtime device; None for the default.
    """
    options = RemoveOptions(quality=quality, device=device, output="class-map")
    return Remover(options).class_map(image)


def classes(
    image: ImageInput,
    *,
    quality: str = "balanced",
    min_share: float = 0.0,
    device: str | None = None,
) -> list[ClassShare]:
    """The VOC object classes in a photo, largest first, with pixel shares and boxes.

    Example:
        >>> [(c.name, round(c.share, 2)) for c in classes("dog.jpg")]  # doctest: +SKIP
        [('dog', 0.34)]
    """
    options = RemoveOptions(quality=quality, device=device, output="class-map")
    return Remover(options).classes(image, min_share=min_share)


def process_file(
    source: ImageInput,
    target: Target,
    remover: Remover | RemoveOptions | None = None,
    *,
    fmt: str | None = None,
    name: str | None = None,
) -> Segmentation:
    """Decode, process and encode one image to a file (written atomically) or a stream.

    Args:
        source: the photo.
        target: output path (never the input), or a binary stream.
        remover: a Remover to reuse across files, or options to build one; None for the
            defaults (a transparent cutout of any subject).
        fmt: "PNG", "WEBP" or "JPEG"; None to take it from the target's suffix.
        name: how to call the input in error messages.

    Returns:
        What was segmented (its `empty` says whether anything was found).
    """
    if not isinstance(remover, Remover):
        remover = Remover(remover)
    return remover.process_file(source, target, fmt=fmt, name=name)


def composite(
    image: ImageInput,
    mask: NDArray[np.floating] | ImageInput,
    background: object = None,
    *,
    estimate_foreground: bool = True,
) -> Image.Image:
    """Compose a photo over a background using a mask you already have.

    Args:
        image: the photo.
        mask: float HxW in [0, 1], or an 8-bit mask image (as `mattekit mask` writes).
        background: as in `remove`.
        estimate_foreground: as in `remove`.

    Raises:
        InputError: the mask's size differs from the image's.
    """
    decoded = decode_image(image)
    alpha = _as_alpha(mask)
    if alpha.shape != decoded.rgb.shape[:2]:
        raise InputError(
            f"mask must have the image's shape (H, W) = {decoded.rgb.shape[:2]}, got {alpha.shape}"
        )
    foreground = compose.estimate_foreground(decoded.rgb, alpha) if estimate_foreground else None
    return Image.fromarray(parse_background(background).compose(decoded.rgb, alpha, foreground))


def _as_alpha(mask: NDArray[np.floating] | ImageInput) -> NDArray[np.float32]:
    if isinstance(mask, np.ndarray) and mask.ndim == 2 and np.issubdtype(mask.dtype, np.floating):
        return np.clip(mask, 0.0, 1.0).astype(np.float32, copy=False)
    decoded: DecodedImage = decode_image(mask, name="mask")
    grey = decoded.rgb[..., 0].astype(np.float32) / 255.0
    return grey if decoded.alpha is None else np.minimum(grey, decoded.alpha)
