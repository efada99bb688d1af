"""Decoding an image from a file, bytes, a file object, a PIL image or an array (`decode_image`).

Decoding reads the header first and refuses images over the pixel limit (`mattekit.io.images.limits`)
before any pixel is decoded. JPEGs take a libjpeg-turbo fast path through OpenCV when that is safe
(complete file, RGB or grey); everything else goes through Pillow. EXIF orientation is always applied,
from Pillow's reading of the header, on both paths.
"""

from __future__ import annotations

import functools
import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from PIL import (
    BmpImagePlugin,
    GifImagePlugin,
    Image,
    ImageFile,
    ImageOps,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

from mattekit.errors import InputError, InputTooLargeError, OptionError, UnsupportedInputError
from mattekit.io.images.limits import _check_pixels, max_pixels_from_env

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["DecodedImage", "ImageSource", "decode_image"]

ImageSource = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | Image.Image | NDArray[np.generic]
)
"""Anything :func:`decode_image` accepts."""

# Pillow plugins we decode, in the order tried; importing the modules above registers them, so
# nothing else (no EPS, no fonts, no exotic plugins) ever parses untrusted bytes.
_PIL_FORMATS = (
    JpegImagePlugin.JpegImageFile.format,
    PngImagePlugin.PngImageFile.format,
    WebPImagePlugin.WebPImageFile.format,
    GifImagePlugin.GifImageFile.format,
    BmpImagePlugin.BmpImageFile.format,
    TiffImagePlugin.TiffImageFile.format,
)
_SUPPORTED_INPUTS = "JPEG, PNG, WebP, GIF, BMP, TIFF"

# EXIF Orientation (1-8), the tag PIL.ImageOps.exif_transpose reads.
_ORIENTATION_TAG = 0x0112

_JPEG_EOI = b"\xff\xd9"
_DECODE_ERRORS = (OSError, EOFError, SyntaxError, ValueError, IndexError, TypeError, struct.error)


@dataclass(frozen=True, eq=False)
class DecodedImage:
    """A decoded image: RGB pixels, the input's own alpha, and the container format.

    Attributes:
        rgb: ``uint8`` array of shape (H, W, 3), EXIF orientation applied.
        alpha: ``float32`` array of shape (H, W) in [0, 1] when the input had transparency
            (an alpha channel or a transparent palette entry / colour key), else None.
        format: Pillow's format name ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"), or None for
            arrays and PIL images that came without one.
    """

    rgb: NDArray[np.uint8]
    alpha: NDArray[np.float32] | None
    format: str | None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels, like ``PIL.Image.size``."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


def decode_image(
    source: ImageSource,
    *,
    max_pixels: int | None = None,
    name: str | None = None,
) -> DecodedImage:
    """Decode an image from a file, bytes, a file object, a PIL image or an array.

    Args:
        source: A path (str or PathLike), encoded bytes, a binary file object, a ``PIL.Image.Image``,
            or a numpy array: HxW grey, HxWx3 RGB or HxWx4 RGBA, ``uint8`` or float in [0, 1].
        max_pixels: Refuse images with more pixels than this, checked from the header before any
            pixel is decoded. None means ``MATTEKIT_MAX_PIXELS`` or :data:`DEFAULT_MAX_PIXELS`.
        name: How to name the input in error messages; defaults to the path or file name.

    Returns:
        The decoded image; the source is never modified and the arrays never alias it.

    Raises:
        InputError: Missing, empty, truncated or corrupt input, or an unusable array.
        UnsupportedInputError: The data is not an image in a supported format.
        InputTooLargeError: The image has more than ``max_pixels`` pixels.
        OptionError: ``max_pixels`` is not positive, or ``MATTEKIT_MAX_PIXELS`` is malformed.

    Example:
        >>> decode_image(np.zeros((2, 3), np.uint8)).rgb.shape
        (2, 3, 3)
    """
    limit = max_pixels_from_env() if max_pixels is None else max_pixels
    if limit <= 0:
        raise OptionError(f"max_pixels must be a positive number of pixels, got {limit}")

    if isinstance(source, np.ndarray):
        return _decode_array(source, name or "array", limit)
    if isinstance(source, Image.Image):
        return _decode_pil(source, name or _pil_label(source), limit)
    if isinstance(source, (str, os.PathLike)):
        label = name or os.fspath(source)
        return _decode_bytes(_read_path(source, label), label, limit, from_file=True)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _decode_bytes(bytes(source), name or "input", limit, from_file=False)
    read = getattr(source, "read", None)
    if callable(read):
        file_name = getattr(source, "name", None)
        label = name or (file_name if isinstance(file_name, str) else "input")
        data = read()
        if not isinstance(data, (bytes, bytearray)):
            raise InputError(
                f"{label}: the file object returned {type(data).__name__}, not bytes; open it in binary mode ('rb')"
            )
        return _decode_bytes(bytes(data), label, limit, from_file=True)
    raise InputError(
        f"{name or 'input'}: cannot decode a {type(source).__name__}; expected a path, bytes, "
        "a binary file object, a PIL image or a numpy array"
    )


def _read_path(path: str | os.PathLike[str], label: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        raise InputError(f"{label}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{label}: is a folder, not an image file") from exc
    except PermissionError as exc:
        raise InputError(f"{label}: permission denied") from exc
    except OSError as exc:
        if Path(path).is_dir():  # Windows reports a folder as PermissionError or EACCES
            raise InputError(f"{label}: is a folder, not an image file") from exc
        raise InputError(f"{label}: cannot read the file ({exc.strerror or exc})") from exc


def _decode_bytes(data: bytes, label: str, limit: int, *, from_file: bool) -> DecodedImage:
    if not data:
        raise InputError(f"{label}: empty file (0 bytes)" if from_file else f"{label}: empty data (0 bytes)")
    image = _open_header(data, label)
    _check_pixels(image.size, label, limit)
    fmt = "JPEG" if image.format == "MPO" else image.format
    if fmt == "JPEG" and image.mode in ("RGB", "L") and data.endswith(_JPEG_EOI):
        rgb = _decode_jpeg_fast(data, image)
        if rgb is not None:
            return DecodedImage(rgb, None, fmt)
    _load(image, label)
    ImageOps.exif_transpose(image, in_place=True)
    rgb, alpha = _split_modes(image)
    return DecodedImage(rgb, alpha, fmt)


def _open_header(data: bytes, label: str) -> ImageFile.ImageFile:
    """Parse the header with one of our Pillow plugins, like ``Image.open`` without its bomb check.

    ``Image.open`` refuses over ``PIL.Image.MAX_IMAGE_PIXELS`` before we see the size; calling the
    registered plugin directly lets our own limit decide, with a message that names the size.
    """
    prefix = data[:16]
    matched: str | None = None
    for fmt in _PIL_FORMATS:
        factory, accept = Image.OPEN[fmt]
        if accept is not None and accept(prefix) is not True:
            continue
        matched = matched or fmt
        try:
            return factory(io.BytesIO(data), "")
        except Image.DecompressionBombError as exc:
            raise InputTooLargeError(f"{label}: over Pillow's decompression-bomb limit ({exc})") from exc
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue  # not this format after all; Image.open tries the next one too
        except (OSError, EOFError, ValueError) as exc:
            raise InputError(f"{label}: truncated or corrupt {fmt} data ({exc})") from exc
    if matched is not None:
        raise InputError(f"{label}: truncated or corrupt {matched} data (the header cannot be read)")
    raise UnsupportedInputError(
        f"{label}: not an image (or an unsupported format); expected one of {_SUPPORTED_INPUTS}"
    )


def _load(image: Image.Image, label: str) -> None:
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise InputTooLargeError(f"{label}: over Pillow's decompression-bomb limit ({exc})") from exc
    except _DECODE_ERRORS as exc:
        raise InputError(f"{label}: truncated or corrupt image data ({exc})") from exc


def _orientation(image: Image.Image) -> int:
    value = image.getexif().get(_ORIENTATION_TAG, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _decode_jpeg_fast(data: bytes, header: Image.Image) -> NDArray[np.uint8] | None:
    """Decode a complete RGB or grey JPEG with libjpeg-turbo through OpenCV, or None to use Pillow.

    OpenCV's own EXIF handling is switched off: the orientation Pillow read from the header is applied
    here, so both paths agree by construction (Pillow also reads the XMP orientation).
    """
    cv2 = _cv2()
    flags = int(cv2.IMREAD_IGNORE_ORIENTATION)
    rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", None)
    flags |= int(cv2.IMREAD_COLOR) if rgb_flag is None else int(rgb_flag)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if decoded is None or decoded.shape != (header.size[1], header.size[0], 3):
        return None
    if rgb_flag is None:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    return _apply_orientation(np.asarray(decoded, np.uint8), _orientation(header))


def _apply_orientation(rgb: NDArray[np.uint8], orientation: int) -> NDArray[np.uint8]:
    """Transpose like ``ImageOps.exif_transpose`` for EXIF orientation 1-8."""
    if orientation == 1:
        return rgb
    cv2 = _cv2()
    if orientation == 2:
        out = cv2.flip(rgb, 1)
    elif orientation == 3:
        out = cv2.rotate(rgb, cv2.ROTATE_180)
    elif orientation == 4:
        out = cv2.flip(rgb, 0)
    elif orientation == 5:
        out = cv2.transpose(rgb)
    elif orientation == 6:
        out = cv2.rotate(rgb, cv2.ROTATE_90_CLOCKWISE)
    elif orientation == 7:
        out = cv2.rotate(cv2.transpose(rgb), cv2.ROTATE_180)
    else:
        out = cv2.rotate(rgb, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return np.asarray(out, np.uint8)


def _has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return True
    if "transparency" in image.info:
        return True
    return image.mode == "P" and image.palette is not None and image.palette.mode.endswith("A")


def _split_modes(image: Image.Image) -> tuple[NDArray[np.uint8], NDArray[np.float32] | None]:
    """Any Pillow mode -> (RGB uint8, alpha float32 or None)."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        # 16-bit grey (PNG, TIFF); mode I is read with the same 0..65535 range. Scale, don't clip.
        wide = np.asarray(image).astype(np.int64)
        grey = ((np.clip(wide, 0, 65535) + 128) // 257).astype(np.uint8)
        alpha = None
        key = image.info.get("transparency")
        if isinstance(key, int):
            alpha = (wide != key).astype(np.float32)
        return _grey_to_rgb(grey), alpha
    if mode == "F":
        # Float grey (TIFF): 0..1 when everything fits in it, else Pillow's own 0..255 convention.
        values = np.nan_to_num(np.asarray(image, np.float32), nan=0.0, posinf=255.0, neginf=0.0)
        scale = 255.0 if values.size and float(values.max()) <= 1.0 else 1.0
        grey = np.clip(np.rint(values * scale), 0, 255).astype(np.uint8)
        return _grey_to_rgb(grey), None
    if _has_transparency(image):
        rgba = np.asarray(image if mode == "RGBA" else image.convert("RGBA"))
        return np.ascontiguousarray(rgba[..., :3]), _alpha_from_uint8(rgba[..., 3])
    # CMYK (Adobe-inverted CMYK JPEGs included), YCbCr, LAB, HSV, 1, L, P: Pillow's conversions.
    return np.array(image if mode == "RGB" else image.convert("RGB")), None


def _grey_to_rgb(grey: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return np.repeat(grey[:, :, None], 3, axis=2)


def _alpha_from_uint8(channel: NDArray[np.uint8]) -> NDArray[np.float32]:
    return channel.astype(np.float32) * np.float32(1.0 / 255.0)


def _pil_label(image: Image.Image) -> str:
    filename = getattr(image, "filename", "")
    return filename if isinstance(filename, str) and filename else "image"


def _decode_pil(image: Image.Image, label: str, limit: int) -> DecodedImage:
    _check_pixels(image.size, label, limit)
    fmt = "JPEG" if image.format == "MPO" else image.format
    _load(image, label)
    if _orientation(image) != 1:
        image = ImageOps.exif_transpose(image)  # a transposed copy; the caller's image is untouched
    rgb, alpha = _split_modes(image)
    return DecodedImage(rgb, alpha, fmt)


def _decode_array(array: NDArray[np.generic], label: str, limit: int) -> DecodedImage:
    shape = array.shape
    if array.ndim == 3 and shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise InputError(
            f"{label}: expected an array of shape (H, W), (H, W, 3) or (H, W, 4), got shape {shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InputError(f"{label}: the array is empty (shape {shape})")
    _check_pixels((int(array.shape[1]), int(array.shape[0])), label, limit)
    if array.dtype == np.uint8:
        pixels = np.array(array, np.uint8)  # always a copy: never alias the caller's array
    elif np.issubdtype(array.dtype, np.floating):
        values = np.asarray(array, np.float32)
        low, high = float(np.min(values)), float(np.max(values))
        if not (np.isfinite(low) and np.isfinite(high) and low >= 0.0 and high <= 1.0):
            raise InputError(
                f"{label}: a float array must hold values in 0..1, got {low:g}..{high:g}; "
                "scale it, or pass uint8 for 0..255"
            )
        pixels = np.rint(values * np.float32(255.0)).astype(np.uint8)
    else:
        raise InputError(
            f"{label}: unsupported array dtype {array.dtype}; expected uint8 (0..255) or float (0..1)"
        )
    if pixels.ndim == 2:
        return DecodedImage(_grey_to_rgb(pixels), None, None)
    if pixels.shape[2] == 4:
        return DecodedImage(np.ascontiguousarray(pixels[..., :3]), _alpha_from_uint8(pixels[..., 3]), None)
    return DecodedImage(pixels, None, None)


@functools.lru_cache(maxsize=1)
def _cv2() -> ModuleType:
    """OpenCV, imported on first use so that ``import mattekit`` stays fast (cv2 takes ~0.3 s)."""
    import cv2

    return cv2
