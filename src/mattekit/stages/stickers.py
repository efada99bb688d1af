"""Stickers: crop a cutout to its subject, add an outline and a drop shadow.

Pure array functions on RGBA uint8 (H, W, 4) cutouts with straight (not premultiplied) alpha,
as `mattekit.stages.compose.cutout` makes them; inputs are never changed. Layers are stacked with the
Porter-Duff "over" operator for straight alpha::

    out_a   = a_f + a_b (1 - a_f)
    out_rgb = (rgb_f a_f + rgb_b a_b (1 - a_f)) / out_a      (0 where out_a = 0)

computed in float32 and rounded once, to nearest with ties to even, and only for the pixels
whose front alpha is strictly between 0 and 255: elsewhere the result is one layer, copied.

Outline and shadow grow the canvas so nothing is clipped; `make_sticker` then trims it to what
is visible plus the margin. Boxes are (x0, y0, x1, y1) with x1 and y1 exclusive, so
``rgba[y0:y1, x0:x1]`` is the subject.
"""

from __future__ import annotations

import math
import re

import cv2
import numpy as np
from numpy.typing import NDArray

from mattekit.errors import InputError, OptionError
from mattekit.stages import _arrays
from mattekit.stages._arrays import ByteArray, Color, FloatArray

__all__ = [
    "add_outline",
    "add_shadow",
    "check_margin",
    "check_sticker_options",
    "crop_to_subject",
    "make_sticker",
    "over",
    "subject_box",
]

Box = tuple[int, int, int, int]
# Pixels (int or float, rounded) or text: "16", "16px" or a percentage of the subject, "5%".
Margin = int | float | str

# Alpha above this fraction of full opacity counts as subject when finding the box: model
# masks carry faint noise far from the subject (about 8 levels of 255).
_THRESHOLD = 0.03
# Largest margin, outline width and shadow offset (pixels), and shadow blur (sigma, pixels):
# each grows the canvas, so unbounded values could ask for any amount of memory.
_MAX_PX = 1024
_MAX_BLUR = 256.0
# Shadows drawn by `make_sticker` unless told otherwise, as fractions of the longer side of the
# outlined subject's box: offset right and down, and blur sigma.
_SHADOW_OFFSET = 0.01
_SHADOW_BLUR = 0.01
_SHADOW_OPACITY = 0.5
# Shadow blur runs at a reduced size while it keeps this many working pixels of sigma; a blur
# that wide is smooth, so bilinear upsampling loses nothing visible.
_BLUR_MIN_SIGMA = 3.0
# Outline distances are computed only in tiles of this size near the subject's edge.
_TILE = 64
# "Over" works on the partly transparent front pixels in chunks of this many pixels.
_CHUNK = 1 << 18

_MARGIN = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(px|%)?")


# --------------------------------------------------------------------------- checks


def _check_rgba(rgba: object, name: str = "rgba") -> ByteArray:
    """Return `rgba` if it is an RGBA uint8 array of shape (H, W, 4), else raise InputError."""
    return _arrays.check_image(rgba, name, channels=4, hint="; make one with mattekit.stages.compose.cutout")


def _alpha(rgba: ByteArray) -> ByteArray:
    """The alpha channel of an RGBA image, as a contiguous (H, W) array."""
    return np.asarray(cv2.extractChannel(rgba, 3), np.uint8)


def _check_threshold(threshold: object) -> float:
    number = _arrays.number(threshold)
    if number is None or not 0 <= number < 1:
        raise OptionError(f"threshold must be a fraction of full opacity in [0, 1), got {threshold!r}")
    return number


def _check_range(value: object, name: str, high: float) -> float:
    """`value` as a float if it is a number in 0..high, else raise OptionError."""
    number = _arrays.number(value)
    if number is None or not 0 <= number <= high:
        raise OptionError(f"{name} must be a number in 0..{high:g}, got {value!r}")
    return number


def _whole(value: object) -> int | None:
    """`value` as an int if it is an integer (not a bool), else None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    return None


def _check_offset(offset: object) -> tuple[int, int]:
    if isinstance(offset, (tuple, list)) and len(offset) == 2:
        dx, dy = _whole(offset[0]), _whole(offset[1])
        if dx is not None and dy is not None and max(abs(dx), abs(dy)) <= _MAX_PX:
            return (dx, dy)
    raise OptionError(
        f"shadow offset must be two integers (dx, dy) in -{_MAX_PX}..{_MAX_PX} pixels, got {offset!r}"
    )


def _parse_margin(margin: object) -> tuple[float, bool]:
    """(value, is_percent) from a margin option, checked for syntax and sign."""
    value: float | None = None
    percent = False
    if isinstance(margin, str):
        found = _MARGIN.fullmatch(margin.strip().lower())
        if found:
            value, percent = float(found[1]), found[2] == "%"
    else:
        number = _arrays.number(margin)
        if number is not None and number >= 0:
            value = number
    if value is not None:
        if not percent and math.floor(value + 0.5) > _MAX_PX:
            raise OptionError(f"margin must be at most {_MAX_PX} pixels, got {margin!r}")
        return value, percent
    raise OptionError(
        f"margin must be pixels >= 0 (16 or '16px') or a percentage of the subject's longer "
        f"side ('5%'), got {margin!r}"
    )


def check_margin(margin: object) -> None:
    """Raise OptionError unless `margin` is pixels (16, "16px") or a percentage ("5%")."""
    _parse_margin(margin)


def check_sticker_options(margin: object, outline: object, outline_color: object) -> None:
    """Check a sticker's margin, outline width and outline colour before any image is made.

    Raises:
        OptionError: one of them is bad; the message names it.
    """
    _parse_margin(margin)
    _check_range(outline, "outline width (pixels)", _MAX_PX)
    _arrays.check_color(outline_color)


def _margin_px(margin: object, box: Box | None) -> int:
    """The margin in whole pixels; a percentage is of the longer side of `box`."""
    value, percent = _parse_margin(margin)
    if percent:
        side = 0 if box is None else max(box[2] - box[0], box[3] - box[1])
        value = value / 100 * side
    px = math.floor(value + 0.5)
    if px > _MAX_PX:
        raise OptionError(f"margin must be at most {_MAX_PX} pixels, got {margin!r} ({px} px)")
    return px


# --------------------------------------------------------------------------- compositing


def _over(front: ByteArray, back_alpha: ByteArray, back: ByteArray | Color) -> ByteArray:
    """`front` over a back layer with alpha `back_alpha`, coloured by `back`: an RGBA image
    (its RGB is used) or one plain (r, g, b) colour. All arrays share (H, W)."""
    fa = _alpha(front)
    if isinstance(back, tuple):
        # The colour where the back layer shows, 0 where it is transparent.
        planes = [cv2.threshold(back_alpha, 0, c, cv2.THRESH_BINARY)[1] for c in back]
        out = np.asarray(cv2.merge([*planes, back_alpha]), np.uint8)
        rgb_back: FloatArray | None = np.asarray(back, np.float32)
        flat_back = None
    else:
        out = np.asarray(cv2.bitwise_and(back, back, mask=back_alpha), np.uint8)
        rgb_back = None
        flat_back = back.reshape(-1, 4)
    # Opaque front pixels cover the back.
    # cv2.threshold, not cv2.compare: OpenCV reads a number as an array when the image is tiny.
    cv2.copyTo(front, cv2.threshold(fa, 254, 255, cv2.THRESH_BINARY)[1], out)
    # Partly transparent front pixels: alpha - 1 (wrapping 0 to 255) below 254.
    part = np.flatnonzero(fa - np.uint8(1) < 254)
    flat_out = out.reshape(-1, 4)
    flat_front = front.reshape(-1, 4)
    flat_back_a = back_alpha.reshape(-1)
    for start in range(0, part.size, _CHUNK):
        idx = part[start : start + _CHUNK]
        f = flat_front[idx].astype(np.float32)
        af = f[:, 3:] * np.float32(1 / 255)
        ab = flat_back_a[idx, None].astype(np.float32) * np.float32(1 / 255)
        wb = ab * (1 - af)
        oa = af + wb
        if flat_back is not None:
            rgb_back = flat_back[idx, :3].astype(np.float32)
        rgb = (f[:, :3] * af + rgb_back * wb) / oa
        flat_out[idx, :3] = np.rint(rgb)
        flat_out[idx, 3] = np.rint(oa[:, 0] * 255)
    return out


def over(front: NDArray[np.uint8], back: NDArray[np.uint8]) -> ByteArray:
    """Lay one RGBA image over another of the same size (Porter-Duff "over", straight alpha).

    Args:
        front: RGBA uint8 (H, W, 4), not premultiplied.
        back: RGBA uint8 of the same shape.

    Returns:
        RGBA uint8 (H, W, 4), not premultiplied; colour is 0 where the result is transparent.

    Raises:
        InputError: a wrongly shaped or typed array, or shapes that differ.

    Example:
        >>> import numpy as np
        >>> f = np.array([[[200, 100, 0, 128]]], np.uint8)
        >>> b = np.array([[[0, 0, 255, 255]]], np.uint8)
        >>> over(f, b).tolist()
        [[[100, 50, 127, 255]]]
    """
    f = _check_rgba(front, "front")
    b = _check_rgba(back, "back")
    if f.shape != b.shape:
        raise InputError(f"back must have the shape of front, {f.shape}, got {b.shape}")
    return _over(f, _alpha(b), b)


# --------------------------------------------------------------------------- cropping


def subject_box(alpha: NDArray[np.uint8] | NDArray[np.floating], threshold: float = _THRESHOLD) -> Box | None:
    """The bounding box of the pixels more opaque than `threshold`.

    Args:
        alpha: an 8-bit mask, uint8 (H, W) in 0..255 (an RGBA image's last channel), or a
            float mask (H, W) in [0, 1].
        threshold: fraction of full opacity in [0, 1) that a pixel must exceed; the default
            ignores the faint noise that model masks leave far from the subject.

    Returns:
        (x0, y0, x1, y1) with x1 and y1 exclusive, or None when no pixel is above `threshold`.

    Raises:
        InputError: alpha is not a 2-D uint8 or float array.
        OptionError: threshold is not in [0, 1).

    Example:
        >>> import numpy as np
        >>> a = np.zeros((6, 8), np.uint8); a[2:4, 3:7] = 255
        >>> subject_box(a), subject_box(np.zeros((6, 8), np.float32))
        ((3, 2, 7, 4), None)
    """
    t = _check_threshold(threshold)
    if (
        not isinstance(alpha, np.ndarray)
        or alpha.ndim != 2
        or 0 in alpha.shape
        or not (alpha.dtype == np.uint8 or alpha.dtype.kind == "f")
    ):
        raise InputError(
            f"alpha must be uint8 (H, W) in 0..255 or float (H, W) in [0, 1], got {_arrays.describe(alpha)}"
        )
    if alpha.dtype == np.uint8:
        # a / 255 > t  <=>  a > floor(255 t) for whole a.
        above = cv2.threshold(alpha, math.floor(255 * t), 255, cv2.THRESH_BINARY)[1]
    else:
        above = (alpha > t).view(np.uint8)
    x, y, w, h = cv2.boundingRect(above)
    if w == 0 or h == 0:
        return None
    return (x, y, x + w, y + h)


def _crop(rgba: ByteArray, box: Box, margin: int) -> ByteArray:
    """`box` grown by `margin` on every side, padded with transparent pixels past the edges."""
    h, w = rgba.shape[:2]
    x0, y0, x1, y1 = box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin
    inner = rgba[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)]
    pads = (max(0, -y0), max(0, y1 - h), max(0, -x0), max(0, x1 - w))
    if not any(pads):
        return inner.copy()
    out = cv2.copyMakeBorder(inner, *pads, cv2.BORDER_CONSTANT, value=(0, 0, 0, 0))
    return np.asarray(out, np.uint8)


def crop_to_subject(
    rgba: NDArray[np.uint8], margin: Margin = 0, *, threshold: float = _THRESHOLD
) -> ByteArray:
    """Crop a cutout to its subject plus a margin, adding transparent pixels past the edges.

    The subject is the box of `subject_box` on the alpha channel. The margin is always kept in
    full: where the subject touches the image's border, the canvas is extended with transparent
    pixels, so an outline or shadow added next has room.

    Args:
        rgba: RGBA uint8 (H, W, 4), not premultiplied.
        margin: space around the box on every side: pixels (a number >= 0, rounded to whole
            pixels, or text such as "16" or "16px"), or a percentage of the box's longer side
            as text, such as "5%".
        threshold: see `subject_box`.

    Returns:
        RGBA uint8 (y1 - y0 + 2 m, x1 - x0 + 2 m, 4). With no subject (every alpha at or below
        `threshold`) it is an empty canvas: fully transparent, the size of the input; check
        `subject_box` first to tell the user.

    Raises:
        InputError: rgba is not an RGBA uint8 array.
        OptionError: a bad margin or threshold, or a margin over 1024 pixels.

    Example:
        >>> import numpy as np
        >>> rgba = np.zeros((10, 10, 4), np.uint8); rgba[0:4, 5:8] = 255
        >>> crop_to_subject(rgba, 2).shape
        (8, 7, 4)
    """
    img = _check_rgba(rgba)
    _parse_margin(margin)
    box = subject_box(_alpha(img), threshold)
    if box is None:
        return np.zeros_like(img)
    return _crop(img, box, _margin_px(margin, box))


# --------------------------------------------------------------------------- outline


def _outline_alpha(a8: ByteArray, width: float) -> ByteArray:
    """Coverage of the outline: 255 on the subject, fading out `width` pixels beyond it.

    The subject is the pixels at least half opaque; its edge lies half a pixel past the last
    of them. A pixel whose centre is d pixels from the nearest subject pixel is covered by
    ``clip(width + 1 - d, 0, 1)``: a ramp one pixel wide, so the outline's edge is smooth.
    Exact Euclidean distances are computed only in tiles within reach of the subject's edge.
    """
    h, w = a8.shape
    inside = np.asarray(cv2.threshold(a8, 127, 255, cv2.THRESH_BINARY)[1], np.uint8)
    out = inside.copy()
    reach = math.ceil(width) + 1
    tile = max(_TILE, 2 * reach)
    has_inside = _arrays.tile_flags(inside, tile)
    all_inside = ~_arrays.tile_flags(cv2.bitwise_not(inside), tile)
    k = 2 * math.ceil(reach / tile) + 1
    near = cv2.dilate(has_inside.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
    gamma = 255.0 * (width + 1)
    for y0, y1, x0, x1 in _arrays.tile_rects(near & ~all_inside, tile, h, w):
        # Every subject pixel within `reach` of the tile lies in the window.
        ey0, ey1 = max(0, y0 - reach), min(h, y1 + reach)
        ex0, ex1 = max(0, x0 - reach), min(w, x1 + reach)
        outside = cv2.bitwise_not(inside[ey0:ey1, ex0:ex1])
        # Distance to the nearest zero (subject) pixel; huge where the window has none.
        d = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        d = d[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0]
        # 255 (width + 1 - d), rounded and clipped to 0..255, in one pass.
        out[y0:y1, x0:x1] = cv2.addWeighted(d, -255.0, d, 0.0, gamma, dtype=cv2.CV_8U)
    return out


def add_outline(rgba: NDArray[np.uint8], width: float, color: Color | str = (255, 255, 255)) -> ByteArray:
    """Draw a solid outline `width` pixels wide around the subject, behind it.

    The outline follows the subject's shape (its pixels at least half opaque) at an exact
    Euclidean distance, so corners are round, and its outer edge is anti-aliased. It lies
    behind the subject and fills under it, so the subject's soft edges blend into the outline
    colour rather than into transparency. Holes in the subject get an outline too.

    Args:
        rgba: RGBA uint8 (H, W, 4), not premultiplied.
        width: outline width in pixels, a number in 0..1024 (0: no outline, a copy).
        color: (r, g, b) in 0..255, or text for `mattekit.stages.compose.parse_color`.

    Returns:
        RGBA uint8 (H + 2 p, W + 2 p, 4) with ``p = ceil(width)``: the canvas grows on every
        side so the outline is never clipped.

    Raises:
        InputError: rgba is not an RGBA uint8 array.
        OptionError: a bad width or colour.

    Example:
        >>> import numpy as np
        >>> rgba = np.zeros((5, 5, 4), np.uint8); rgba[2, 2] = (255, 0, 0, 255)
        >>> out = add_outline(rgba, 2, "white")
        >>> out.shape, out[4, 4].tolist(), out[4, 6].tolist(), out[4, 7].tolist()
        ((9, 9, 4), [255, 0, 0, 255], [255, 255, 255, 255], [0, 0, 0, 0])
    """
    img = _check_rgba(rgba)
    size = _check_range(width, "outline width (pixels)", _MAX_PX)
    rgb = _arrays.check_color(color)
    if size == 0:
        return img.copy()
    p = math.ceil(size)
    front = np.asarray(cv2.copyMakeBorder(img, p, p, p, p, cv2.BORDER_CONSTANT, value=0), np.uint8)
    return _over(front, _outline_alpha(_alpha(front), size), rgb)


# --------------------------------------------------------------------------- shadow


def _blur(a8: ByteArray, sigma: float, scale: float) -> ByteArray:
    """Gaussian blur of an 8-bit mask (zero outside it) times `scale`, as uint8.

    Wide blurs run on a copy shrunk by a power of two f and are enlarged bilinearly, which adds
    about f^2 / 4 pixels^2 of variance, taken off the working sigma.
    """
    h, w = a8.shape
    if sigma == 0:
        return _arrays.to_u8(a8, scale)
    f = 1
    while sigma / (2 * f) >= _BLUR_MIN_SIGMA and min(h, w) / (2 * f) >= 16:
        f *= 2
    s = math.sqrt(max(sigma * sigma - f * f / 4, sigma * sigma / 4)) / f
    k = 2 * math.ceil(3 * s) + 1
    if f == 1:
        blurred = cv2.GaussianBlur(a8, (k, k), s, borderType=cv2.BORDER_CONSTANT)
        return _arrays.to_u8(blurred, scale)
    small = np.asarray(_arrays.shrink(a8, f), np.float32)
    small = np.asarray(cv2.GaussianBlur(small, (k, k), s, borderType=cv2.BORDER_CONSTANT))
    return _arrays.to_u8(_arrays.grow_crop(small, f, (0, h, 0, w)), scale)


def add_shadow(
    rgba: NDArray[np.uint8],
    *,
    offset: tuple[int, int] = (8, 8),
    blur: float = 8.0,
    opacity: float = _SHADOW_OPACITY,
    color: Color | str = (0, 0, 0),
) -> ByteArray:
    """Drop a soft shadow of the subject's shape behind it.

    The shadow is the alpha channel moved by `offset`, blurred with a Gaussian and scaled by
    `opacity`, in `color`; the image is laid over it.

    Args:
        rgba: RGBA uint8 (H, W, 4), not premultiplied.
        offset: (dx, dy) in pixels, right and down positive, each in -1024..1024.
        blur: Gaussian standard deviation in pixels, in 0..256 (0: a hard shadow).
        opacity: shadow opacity where the subject is opaque, in 0..1.
        color: (r, g, b) in 0..255, or text for `mattekit.stages.compose.parse_color`.

    Returns:
        RGBA uint8, the canvas grown on each side just enough to hold the shadow out to
        ``ceil(3 * blur)`` pixels past its offset outline; the image is not moved within it
        except by that growth.

    Raises:
        InputError: rgba is not an RGBA uint8 array.
        OptionError: a bad offset, blur, opacity or colour.

    Example:
        >>> import numpy as np
        >>> rgba = np.zeros((3, 3, 4), np.uint8); rgba[1, 1] = (9, 9, 9, 255)
        >>> out = add_shadow(rgba, offset=(2, 0), blur=0, opacity=0.5)
        >>> out.shape, out[1, 1].tolist(), out[1, 3].tolist()
        ((3, 5, 4), [9, 9, 9, 255], [0, 0, 0, 128])
    """
    img = _check_rgba(rgba)
    dx, dy = _check_offset(offset)
    sigma = _check_range(blur, "shadow blur (pixels)", _MAX_BLUR)
    alpha = _check_range(opacity, "shadow opacity", 1)
    rgb = _arrays.check_color(color)
    h, w = img.shape[:2]
    r = math.ceil(3 * sigma)
    top, bottom, left, right = max(0, r - dy), max(0, r + dy), max(0, r - dx), max(0, r + dx)
    grown = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=0)
    front = np.asarray(grown, np.uint8)
    src = np.zeros(front.shape[:2], np.uint8)
    src[top + dy : top + dy + h, left + dx : left + dx + w] = _alpha(img)
    return _over(front, _blur(src, sigma, alpha), rgb)


# --------------------------------------------------------------------------- recipe


def make_sticker(
    rgba: NDArray[np.uint8],
    *,
    margin: Margin = "5%",
    outline: float = 0,
    outline_color: Color | str = (255, 255, 255),
    shadow: bool = False,
    shadow_offset: tuple[int, int] | None = None,
    shadow_blur: float | None = None,
    shadow_opacity: float = _SHADOW_OPACITY,
    shadow_color: Color | str = (0, 0, 0),
    threshold: float = _THRESHOLD,
) -> ByteArray:
    """A sticker from a cutout: cropped to the subject, outlined, shadowed, with a margin.

    Crops to `subject_box`, adds the outline, then the shadow (of the outlined shape), and
    finally trims the canvas to every visible pixel plus `margin` on each side.

    Args:
        rgba: RGBA uint8 (H, W, 4), not premultiplied.
        margin: transparent space around the finished sticker: pixels (a number >= 0, or
            text such as "16px"), or a percentage of the subject's longer side ("5%").
        outline: outline width in pixels, 0..1024; 0 for none.
        outline_color: (r, g, b) in 0..255, or text for `mattekit.stages.compose.parse_color`.
        shadow: whether to add a drop shadow.
        shadow_offset: (dx, dy) in pixels; None for 1% of the outlined subject's longer side,
            right and down.
        shadow_blur: Gaussian sigma in pixels; None for 1% of that side.
        shadow_opacity: in 0..1.
        shadow_color: as `outline_color`.
        threshold: see `subject_box`.

    Returns:
        RGBA uint8, not premultiplied. With no subject, an empty canvas: fully transparent,
        the size of the input (check `subject_box` first to tell the user).

    Raises:
        InputError: rgba is not an RGBA uint8 array.
        OptionError: a bad option value.

    Example:
        >>> import numpy as np
        >>> rgba = np.zeros((20, 20, 4), np.uint8); rgba[5:10, 5:15] = 255
        >>> make_sticker(rgba, margin=2, outline=3).shape
        (15, 20, 4)
    """
    img = _check_rgba(rgba)
    # Check every option before any work, so a bad one fails the same way for any image.
    check_sticker_options(margin, outline, outline_color)
    if shadow_offset is not None:
        _check_offset(shadow_offset)
    if shadow_blur is not None:
        _check_range(shadow_blur, "shadow blur (pixels)", _MAX_BLUR)
    _check_range(shadow_opacity, "shadow opacity", 1)
    _arrays.check_color(shadow_color)
    box = subject_box(_alpha(img), threshold)
    if box is None:
        return np.zeros_like(img)
    pad = _margin_px(margin, box)
    out = add_outline(_crop(img, box, 0), outline, outline_color)
    if shadow:
        side = max(out.shape[:2])
        if shadow_offset is None:
            step = max(1, round(_SHADOW_OFFSET * side))
            shadow_offset = (step, step)
        if shadow_blur is None:
            shadow_blur = min(_MAX_BLUR, _SHADOW_BLUR * side)
        out = add_shadow(
            out,
            offset=shadow_offset,
            blur=shadow_blur,
            opacity=shadow_opacity,
            color=shadow_color,
        )
    visible = subject_box(_alpha(out), 0)
    if visible is None:  # unreachable: over keeps the subject's alpha, and it was > threshold
        return np.zeros_like(img)
    return _crop(out, visible, pad)
