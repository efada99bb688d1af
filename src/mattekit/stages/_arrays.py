"""Shared helpers: array checks, numeric option checks and the sparse-tile helpers.

Used by refine, compose, matting and stickers. The module is private, so its names carry no
leading underscore; the public functions built on them live in `mattekit.stages.refine`,
`mattekit.stages.compose`, `mattekit.stages.matting` and `mattekit.stages.stickers`, and their error messages are
the ones raised here.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import ImageColor

from mattekit.errors import InputError, OptionError

FloatArray = NDArray[np.float32]
ByteArray = NDArray[np.uint8]
Color = tuple[int, int, int]

HEX = re.compile(r"#(?:[0-9a-f]{3}|[0-9a-f]{6})")


# --------------------------------------------------------------------------- array checks


def describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__


def check_image(image: object, name: str = "image", *, channels: int = 3, hint: str = "") -> ByteArray:
    """Return `image` if it is a uint8 array of shape (H, W, channels), 3 (RGB) or 4 (RGBA),
    else raise InputError (its message ends with `hint`, if given)."""
    if (
        not isinstance(image, np.ndarray)
        or image.dtype != np.uint8
        or image.ndim != 3
        or image.shape[2] != channels
        or image.shape[0] == 0
        or image.shape[1] == 0
    ):
        mode = "RGBA" if channels == 4 else "RGB"
        raise InputError(
            f"{name} must be an {mode} uint8 array of shape (H, W, {channels}), got {describe(image)}{hint}"
        )
    return image


def check_mask(mask: object, name: str = "alpha", shape: tuple[int, int] | None = None) -> FloatArray:
    """Return `mask` as float32 (H, W), checking its shape against `shape` when given."""
    if not isinstance(mask, np.ndarray):
        raise InputError(f"{name} must be a float32 array of shape (H, W), got {describe(mask)}")
    if mask.dtype.kind != "f":
        raise InputError(
            f"{name} must be a float array with values in [0, 1], got {mask.dtype}; "
            f"convert an 8-bit mask with mask.astype(np.float32) / 255"
        )
    if shape is not None and mask.shape != shape:
        raise InputError(f"{name} must have shape (H, W) = {shape}, got {mask.shape}")
    if mask.ndim != 2 or mask.shape[0] == 0 or mask.shape[1] == 0:
        raise InputError(f"{name} must have shape (H, W), got {mask.shape}")
    return np.asarray(mask, dtype=np.float32)


def number(value: object) -> float | None:
    """`value` as a float if it is a finite real number (not a bool), else None.

    Example:
        >>> number(3), number(True), number(float("nan"))
        (3.0, None, None)
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        x = float(value)
        return x if math.isfinite(x) else None
    return None


def is_count(value: object, least: int) -> bool:
    """Whether `value` is an integer (not a bool) >= least."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and bool(value >= least)


# --------------------------------------------------------------------------- colours


def check_color(color: object) -> Color:
    """`color` as (r, g, b): text goes through `parse_color`, a triple must be 0..255 integers.

    Example:
        >>> check_color("white"), check_color([1, 2, 3])
        ((255, 255, 255), (1, 2, 3))
    """
    if isinstance(color, str):
        return parse_color(color)
    if (
        isinstance(color, (tuple, list))
        and len(color) == 3
        and all(isinstance(c, (int, np.integer)) and 0 <= c <= 255 for c in color)
    ):
        return (int(color[0]), int(color[1]), int(color[2]))
    raise OptionError(f"colour must be a name, a hex code or three integers in 0..255, got {color!r}")


def parse_color(text: str) -> Color:
    """A CSS colour name or a 3- or 6-digit hex code as (r, g, b).

    The public, documented entry point is `mattekit.stages.compose.parse_color`.

    Example:
        >>> parse_color(" #1E90FF ")
        (30, 144, 255)
    """
    if not isinstance(text, str):
        raise OptionError(f"colour must be text like 'white' or '#00ff00', got {type(text).__name__}")
    key = text.strip().lower()
    if HEX.fullmatch(key) or key in ImageColor.colormap:
        r, g, b = ImageColor.getrgb(key)[:3]
        return (r, g, b)
    close = difflib.get_close_matches(key, list(ImageColor.colormap), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise OptionError(f"unknown colour '{text}'{hint}; use a name like 'white' or a hex code like '#00ff00'")


# --------------------------------------------------------------------------- conversion


# float32 -> uint8 runs over strips of about this many values (in cache).
_STRIP_VALUES = 1 << 16


def to_u8(x: NDArray[Any], scale: float = 1.0, dst: NDArray[np.uint8] | None = None) -> ByteArray:
    """``x * scale`` rounded to nearest (ties to even) and clipped to 0..255.

    float32 is scaled in float32 (``numpy.rint(x * np.float32(scale))``, clipped), other types
    in double precision.

    Example:
        >>> to_u8(np.array([[-3.0, 0.5, 1.5, 254.6, 300.0]], np.float32)).tolist()
        [[0, 0, 2, 255, 255]]
    """
    if x.dtype != np.float32 or x.ndim < 2 or x.size < 256:
        # (OpenCV's bindings would read an array of up to 4 values as a scalar.)
        # OpenCV takes a plain number as the second operand; its type stubs only list arrays.
        out = cv2.multiply(x, scale, dst=dst, dtype=cv2.CV_8U)  # type: ignore[call-overload]
        return np.asarray(out, np.uint8)
    # convertScaleAbs is several times faster than a mixed-type multiply, but takes the
    # absolute value: negatives are zeroed first, a strip at a time so the copy stays in cache.
    out = np.empty(x.shape, np.uint8) if dst is None else dst
    h = x.shape[0]
    step = max(1, _STRIP_VALUES // (x.size // h))
    y0 = 0
    while y0 < h:
        y1 = h if h - y0 < 2 * step else y0 + step  # no short last strip
        part = cv2.max(x[y0:y1], 0.0)  # type: ignore[call-overload]
        cv2.convertScaleAbs(part, dst=out[y0:y1], alpha=scale)
        y0 = y1
    return out


def clip01(x: NDArray[Any], dst: NDArray[np.float32]) -> None:
    """Write `x` clipped to [0, 1] into `dst` (same shape; `dst` may be a view)."""
    if x.size < 16:  # OpenCV's bindings would read an array of up to 4 values as a scalar
        np.clip(x, 0.0, 1.0, out=dst)
        return
    # OpenCV takes a plain number as the second operand; its type stubs only list arrays.
    cv2.min(cv2.max(x, 0.0), 1.0, dst=dst)  # type: ignore[call-overload]


# --------------------------------------------------------------------------- tiles


def tile_rects(
    active: NDArray[np.bool_], tile: int, height: int, width: int
) -> Iterator[tuple[int, int, int, int]]:
    """Yield (y0, y1, x0, x1) rectangles covering the active tiles, merged along rows.

    Args:
        active: one flag per tile, shape (ceil(height / tile), ceil(width / tile)).
        tile: tile size in pixels.
        height: image height.
        width: image width.

    Example:
        >>> active = np.array([[True, True, False], [False, False, True]])
        >>> list(tile_rects(active, 64, 100, 150))
        [(0, 64, 0, 128), (64, 100, 128, 150)]
    """
    for ty in np.flatnonzero(active.any(axis=1)):
        row = active[ty].astype(np.int8)
        # Runs of consecutive active tiles: starts where the row steps 0->1, stops where 1->0.
        edges = np.flatnonzero(np.diff(row, prepend=0, append=0))
        y0, y1 = int(ty) * tile, min(height, (int(ty) + 1) * tile)
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            yield y0, y1, int(start) * tile, min(width, int(stop) * tile)


def column_runs(mask: NDArray[Any], step: int) -> list[tuple[int, int]]:
    """(x0, x1) runs of the columns, in steps of `step` pixels, where a uint8 mask is nonzero.

    Example:
        >>> m = np.zeros((2, 10), np.uint8); m[1, 3] = m[0, 9] = 1
        >>> column_runs(m, 4)
        [(0, 4), (8, 10)]
    """
    w = mask.shape[1]
    cols = mask.max(axis=0)
    flags = np.zeros(-(-w // step) + 2, np.bool_)
    flags[1:-1] = np.maximum.reduceat(cols, np.arange(0, w, step)) > 0
    # Runs start where a flag steps 0 -> 1 and stop where it steps 1 -> 0.
    edges = np.flatnonzero(flags[1:] != flags[:-1])
    return [(int(a) * step, min(w, int(b) * step)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def tile_flags(mask: NDArray[Any], tile: int) -> NDArray[np.bool_]:
    """Per-tile "any" of a boolean or 0/255 mask (tiles of `tile` pixels)."""
    h, w = mask.shape
    full = h // tile
    rows = np.empty((-(-h // tile), w), mask.dtype)
    if full:
        # A max over the middle axis of contiguous rows: vectorised, unlike reduceat.
        rows[:full] = mask[: full * tile].reshape(full, tile, w).max(axis=1)
    if full < rows.shape[0]:
        rows[full] = mask[full * tile :].max(axis=0)
    flags = np.maximum.reduceat(rows, np.arange(0, w, tile), axis=1)
    return np.asarray(flags > 0)


def shrink(image: NDArray[Any], k: int) -> NDArray[Any]:
    """Area-average `image` by `k` (a power of two), to (ceil(H / k), ceil(W / k)).

    Halving steps use OpenCV's fast path. A size that `k` does not divide is first padded by
    repeating the last row and column, so working pixel j is exactly full pixels [jk, jk + k).
    Only the last, partial row and column of k-blocks are copied for that: every block is
    averaged on its own, so the whole blocks are worked in place.
    """
    if k == 1:
        return image
    h, w = image.shape[:2]
    hm, wm = h - h % k, w - w % k
    if (hm, wm) == (h, w):
        return _halve(image, k)
    hk, wk = -(-h // k), -(-w // k)
    out = np.empty((hk, wk, *image.shape[2:]), image.dtype)
    if hm and wm:
        out[: hm // k, : wm // k] = _halve(image[:hm, :wm], k)
    if wm < w and hm:
        side = cv2.copyMakeBorder(image[:hm, wm:], 0, 0, 0, wk * k - w, cv2.BORDER_REPLICATE)
        out[: hm // k, wm // k :] = _halve(side, k).reshape(out[: hm // k, wm // k :].shape)
    if hm < h:
        bottom = cv2.copyMakeBorder(image[hm:], 0, hk * k - h, 0, wk * k - w, cv2.BORDER_REPLICATE)
        out[hm // k :] = _halve(bottom, k).reshape(out[hm // k :].shape)
    return out


def _halve(image: NDArray[Any], k: int) -> NDArray[Any]:
    """Area-average by k (a power of two) that divides both sides, in halving steps."""
    while k > 1:
        h, w = image.shape[:2]
        image = cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        k //= 2
    return image


def grow_crop(src: NDArray[Any], k: int, rect: tuple[int, int, int, int]) -> NDArray[Any]:
    """The `rect` (y0, y1, x0, x1) part of `src` enlarged k times bilinearly.

    Equal to that part of ``cv2.resize(src, (k * w, k * h), interpolation=INTER_LINEAR)``:
    with a whole scale factor a crop of the source, one source pixel wider on every side,
    maps onto the same output pixels.
    """
    y0, y1, x0, x1 = rect
    if k == 1:
        return src[y0:y1, x0:x1]
    sh, sw = src.shape[:2]
    sy0, sy1 = max(0, y0 // k - 1), min(sh, -(-y1 // k) + 1)
    sx0, sx1 = max(0, x0 // k - 1), min(sw, -(-x1 // k) + 1)
    crop = src[sy0:sy1, sx0:sx1]
    big = cv2.resize(crop, ((sx1 - sx0) * k, (sy1 - sy0) * k), interpolation=cv2.INTER_LINEAR)
    oy, ox = sy0 * k, sx0 * k
    return big[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
