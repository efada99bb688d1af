"""The few high-level functions users call.

Example:
    >>> from mattekit import remove
    >>> cutout = remove("dog.jpg", quality="accurate")  # doctest: +SKIP
    >>> cutout.save("dog.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import IO, Union

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mattekit import compose, imageio
from mattekit.errors import InputError
from mattekit.imageio import DecodedImage, decode_image
from mattekit.pipeline import Background, parse_background, render, subject_mask
from mattekit.segmenters import Segmenter, load_segmenter

__all__ = ["ImageInput", "remove", "segment", "composite", "load_segmenter", "process_file"]

ImageInput = Union[str, "os.PathLike[str]", bytes, IO[bytes], Image.Image, NDArray[np.generic]]
"""Anything an image can be given as: a path, encoded bytes, a binary file, PIL or numpy."""


def segment(
    image: ImageInput,
    *,
    subject: str = "auto",
    quality: str = "balanced",
    device: str | None = None,
) -> NDArray[np.float32]:
    """The subject's soft mask.

    Args:
        image: the photo.
        subject: "auto" (any salient subject) or "person".
        quality: "fast", "balanced" or "accurate".
        device: ONNX Runtime device ("cpu", "cuda", ...); None for the default.

    Returns:
        float32 HxW mask in [0, 1] at the image's size (after EXIF orientation).

    Raises:
        InputError: the image cannot be read.
        OptionError: unknown subject, quality or device.
        ModelError: the model is missing and cannot be fetched.
    """
    decoded = decode_image(image)
    return subject_mask(decoded, load_segmenter(subject, quality, device))


def remove(
    image: ImageInput,
    *,
    subject: str = "auto",
    quality: str = "balanced",
    background: object = None,
    estimate_foreground: bool = True,
    device: str | None = None,
) -> Image.Image:
    """Remove (or replace) the background of a photo.

    Args:
        image: the photo.
        subject: "auto" (any salient subject) or "person".
        quality: "fast", "balanced" or "accurate".
        background: None for a transparent cutout; else a colour ("white", "#00ff00",
            (r, g, b)), "blur" or "blur:RADIUS", or an image (path, PIL, array, bytes).
        estimate_foreground: recover the subject's own colours at soft edges, so no halo
            of the old background shows on a new one.
        device: ONNX Runtime device; None for the default.

    Returns:
        An RGBA cutout, or an RGB image when a background is given.

    Example:
        >>> remove("portrait.jpg", subject="person", background="blur:20")  # doctest: +SKIP
    """
    decoded = decode_image(image)
    mask = subject_mask(decoded, load_segmenter(subject, quality, device))
    out = render(decoded.rgb, mask, parse_background(background), estimate_foreground=estimate_foreground)
    return Image.fromarray(out)


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
) -> None:
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

    Raises:
        InputError: unreadable input, or the target is the input.
        OptionError: an unknown output format, or a transparent result asked for as JPEG.
    """
    is_path = isinstance(target, (str, os.PathLike))
    if is_path and isinstance(source, (str, os.PathLike)):
        imageio.ensure_not_input(target, [source])
    if fmt is None:
        fmt = imageio.format_for_path(target) if is_path else "PNG"
    decoded = decode_image(source, name=name, max_pixels=max_pixels)
    alpha = subject_mask(decoded, segmenter)
    if mask_only:
        pixels = compose.mask_to_l8(alpha)
    else:
        bg = background or Background()
        pixels = render(decoded.rgb, alpha, bg, estimate_foreground=estimate_foreground)
    encoded = imageio.encode_image(pixels, fmt)
    if is_path:
        imageio.write_atomic(target, encoded)
    else:
        target.write(encoded)
        target.flush()
