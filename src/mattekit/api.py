"""The few high-level functions users call.

Example:
    >>> from mattekit import remove
    >>> cutout = remove("dog.jpg", quality="accurate")  # doctest: +SKIP
    >>> cutout.save("dog.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import IO, Any, Union

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mattekit.io import images as imageio
from mattekit.stages import compose
from mattekit.stages.classes import ClassShare, class_report, voc_palette
from mattekit.errors import InputError
from mattekit.io.images import DecodedImage, decode_image
from mattekit.pipeline import (
    Background,
    MaskEdits,
    StickerStyle,
    parse_background,
    render,
    subject_mask,
    trim,
)
from mattekit.segmenters import Segmenter, load_segmenter, load_semantic
from mattekit.segmenters.deeplab import SemanticSegmenter

__all__ = [
    "ImageInput",
    "class_map",
    "classes",
    "composite",
    "load_segmenter",
    "process_class_map",
    "process_file",
    "remove",
    "segment",
    "sticker",
]

ImageInput = Union[str, "os.PathLike[str]", bytes, IO[bytes], Image.Image, NDArray[np.generic]]
"""Anything an image can be given as: a path, encoded bytes, a binary file, PIL or numpy."""

Subject = Union[str, Iterable[str]]
""""auto", "person", or Pascal VOC classes to keep: "dog", "dog,cat" or ["dog", "cat"]."""
Classes = Union[str, Iterable[str], None]


def segment(
    image: ImageInput,
    *,
    subject: Subject = "auto",
    quality: str = "balanced",
    keep: Classes = None,
    drop: Classes = None,
    instance: str | int | None = None,
    refine: str | None = None,
    erode: int = 0,
    dilate: int = 0,
    threshold: float | None = None,
    feather: float = 0.0,
    device: str | None = None,
) -> NDArray[np.float32]:
    """The subject's soft mask.

    Args:
        image: the photo.
        subject: "auto" (any salient subject), "person", or VOC classes to keep.
        quality: "fast", "balanced" or "accurate".
        keep: VOC classes to keep, e.g. ["dog"].
        drop: VOC classes to drop, e.g. ["horse"]; alone, every other object class stays.
        instance: keep one object only: "largest", or its rank by size (2 = second largest).
        refine: "none", "guided" or "matting" (alpha matting of the edge band); None for the
            level's default.
        erode, dilate: shrink or grow the mask by this many pixels.
        threshold: make the mask hard, 1 where it is >= threshold (0 < threshold <= 1).
        feather: soften the edge with a Gaussian of this many pixels (sigma).
        device: ONNX Runtime device ("cpu", "cuda", ...); None for the default.

    Returns:
        float32 HxW mask in [0, 1] at the image's size (after EXIF orientation); all zero
        when none of the kept classes is in the picture.

    Raises:
        InputError: the image cannot be read.
        OptionError: unknown subject, class, quality, refinement or device, or a bad edit.
        ModelError: the model is missing and cannot be fetched.
    """
    _, mask = _segment(image, locals())
    return mask


def _segment(image: ImageInput, options: dict[str, Any]) -> tuple[DecodedImage, NDArray[np.float32]]:
    """Decode and segment with the options `segment` takes."""
    edits = MaskEdits(options["erode"], options["dilate"], options["threshold"], options["feather"])
    segmenter = load_segmenter(
        options["subject"], options["quality"], options["device"], keep=options["keep"],
        drop=options["drop"], instance=options["instance"], refine=options["refine"],
    )  # fmt: skip
    decoded = decode_image(image)
    return decoded, subject_mask(decoded, segmenter, edits)


def remove(
    image: ImageInput,
    *,
    subject: Subject = "auto",
    quality: str = "balanced",
    keep: Classes = None,
    drop: Classes = None,
    instance: str | int | None = None,
    refine: str | None = None,
    erode: int = 0,
    dilate: int = 0,
    threshold: float | None = None,
    feather: float = 0.0,
    background: object = None,
    crop: int | float | str | None = None,
    estimate_foreground: bool = True,
    device: str | None = None,
) -> Image.Image:
    """Remove (or replace) the background of a photo.

    Args:
        image: the photo.
        subject, quality, keep, drop, instance, refine, erode, dilate, threshold, feather:
            what to keep and how (see `segment`).
        background: None for a transparent cutout; else a colour ("white", "#00ff00",
            (r, g, b)), "blur" or "blur:RADIUS", or an image (path, PIL, array, bytes).
        crop: crop the cutout to the subject with this margin: pixels, "16px", or "5%" of
            the subject's size (transparent cutouts only).
        estimate_foreground: recover the subject's own colours at soft edges, so no halo
            of the old background shows on a new one.
        device: ONNX Runtime device; None for the default.

    Returns:
        An RGBA cutout, or an RGB image when a background is given.

    Example:
        >>> remove("portrait.jpg", subject="person", background="blur:20")  # doctest: +SKIP
        >>> remove("paddock.jpg", keep=["horse"], drop=["person"], crop="5%")  # doctest: +SKIP
    """
    decoded, mask = _segment(image, locals())
    out = render(decoded.rgb, mask, parse_background(background), estimate_foreground=estimate_foreground)
    return Image.fromarray(trim(out, crop=crop))


def sticker(
    image: ImageInput,
    *,
    subject: Subject = "auto",
    quality: str = "balanced",
    keep: Classes = None,
    drop: Classes = None,
    instance: str | int | None = None,
    refine: str | None = None,
    erode: int = 0,
    dilate: int = 0,
    threshold: float | None = None,
    feather: float = 0.0,
    margin: int | float | str = "5%",
    outline: float = 0,
    outline_color: str | tuple[int, int, int] = "white",
    shadow: bool = False,
    device: str | None = None,
) -> Image.Image:
    """A sticker: the cutout cropped to the subject, with an optional outline and drop shadow.

    Args:
        image, subject, quality, keep, drop, instance, refine, erode, dilate, threshold,
            feather, device: as in `segment`.
        margin: transparent space around the sticker: pixels, "16px", or "5%" of the subject.
        outline: outline width in pixels (0 for none); outline_color: its colour.
        shadow: add a soft drop shadow.

    Returns:
        RGBA image, as large as the subject plus outline, shadow and margin.

    Example:
        >>> sticker("cat.jpg", outline=8, shadow=True).save("cat.sticker.png")  # doctest: +SKIP
    """
    decoded, mask = _segment(image, locals())
    style = StickerStyle(margin, outline, outline_color, shadow)
    return Image.fromarray(trim(render(decoded.rgb, mask, Background()), sticker=style))


def class_map(
    image: ImageInput, *, quality: str = "balanced", device: str | None = None
) -> NDArray[np.uint8]:
    """The Pascal VOC class index of every pixel (uint8 HxW; `mattekit.stages.classes.VOC_CLASSES`).

    Args:
        image: the photo.
        quality: "fast" runs DeepLab once on the whole photo; "balanced" and "accurate" also
            run it on overlapping tiles (better small objects, about 5x the time).
        device: ONNX Runtime device; None for the default.
    """
    return load_semantic(quality, device).class_map(decode_image(image).rgb)


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
    return class_report(class_map(image, quality=quality, device=device), min_share)


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
            f"mask must have the image's shape (H, W) = {decoded.rgb.shape[:2]}, "
            f"got {alpha.shape}"
        )
    out = render(decoded.rgb, alpha, parse_background(background), estimate_foreground=estimate_foreground)
    return Image.fromarray(out)


def _as_alpha(mask: NDArray[np.floating] | ImageInput) -> NDArray[np.float32]:
    if isinstance(mask, np.ndarray) and mask.ndim == 2 and np.issubdtype(mask.dtype, np.floating):
        return np.clip(mask, 0.0, 1.0).astype(np.float32, copy=False)
    decoded: DecodedImage = decode_image(mask, name="mask")
    grey = decoded.rgb[..., 0].astype(np.float32) / 255.0
    return grey if decoded.alpha is None else np.minimum(grey, decoded.alpha)


def process_file(
    source: ImageInput,
    target: str | os.PathLike[str] | IO[bytes],
    segmenter: Segmenter,
    *,
    background: Background | None = None,
    mask_only: bool = False,
    estimate_foreground: bool = True,
    fmt: str | None = None,
    name: str | None = None,
    max_pixels: int | None = None,
    edits: MaskEdits | None = None,
    crop: int | float | str | None = None,
    sticker: StickerStyle | None = None,
) -> NDArray[np.float32]:
    """Decode, segment, compose and encode one image to a file (written atomically) or stream.

    Args:
        source: the photo.
        target: output path (never one of the inputs), or a binary stream.
        segmenter: from `load_segmenter`, reused across files.
        background: None for a transparent cutout.
        mask_only: write the 8-bit mask instead of a composite.
        estimate_foreground: as in `remove`.
        fmt: "PNG", "WEBP" or "JPEG"; None to take it from the target's suffix.
        name: how to call the input in error messages.
        max_pixels: pixel limit for the input; None for the default.
        edits: erode / dilate / threshold / feather the mask.
        crop: crop a cutout to the subject with this margin (pixels, "16px" or "5%").
        sticker: make a sticker of the cutout instead.

    Returns:
        The mask used (float32 HxW), e.g. to warn when it is empty.

    Raises:
        InputError: unreadable input, or the target is the input.
        OptionError: an unknown output format, or a transparent result asked for as JPEG.
    """
    fmt = _check_target(source, target, fmt)
    decoded = decode_image(source, name=name, max_pixels=max_pixels)
    alpha = subject_mask(decoded, segmenter, edits)
    if mask_only:
        pixels = compose.mask_to_l8(alpha)
    else:
        bg = background or Background()
        pixels = render(decoded.rgb, alpha, bg, estimate_foreground=estimate_foreground)
        pixels = trim(pixels, crop=crop, sticker=sticker)
    _emit(target, imageio.encode_image(pixels, fmt))
    return alpha


def process_class_map(
    source: ImageInput,
    target: str | os.PathLike[str] | IO[bytes],
    semantic: SemanticSegmenter,
    *,
    name: str | None = None,
    max_pixels: int | None = None,
) -> NDArray[np.uint8]:
    """Write an image's VOC class map as a palette PNG (standard VOC colours); return the map.

    Raises:
        InputError: unreadable input, or the target is the input.
    """
    _check_target(source, target, "PNG")
    decoded = decode_image(source, name=name, max_pixels=max_pixels)
    indices = semantic.class_map(decoded.rgb)
    _emit(target, imageio.encode_indexed_png(indices, voc_palette()))
    return indices


def _check_target(
    source: ImageInput, target: str | os.PathLike[str] | IO[bytes], fmt: str | None
) -> str:
    """Refuse to write over the input; the output format (from the target's name if not given)."""
    is_path = isinstance(target, (str, os.PathLike))
    if is_path and isinstance(source, (str, os.PathLike)):
        imageio.ensure_not_input(target, [source])
    if fmt is None:
        fmt = imageio.format_for_path(target) if is_path else "PNG"
    return fmt


def _emit(target: str | os.PathLike[str] | IO[bytes], encoded: bytes) -> None:
    if isinstance(target, (str, os.PathLike)):
        imageio.write_atomic(target, encoded)
    else:
        target.write(encoded)
        target.flush()
