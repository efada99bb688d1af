"""Blending and backgrounds: cutouts, colours, images, portrait blur, foreground colours.

Pure array functions: images are RGB uint8 (H, W, 3), alpha is float32 (H, W) in [0, 1], and
inputs are never changed. Blends are computed in float32 as ``out = bg + (fg - bg) * alpha``
(the same as ``fg * alpha + bg * (1 - alpha)``) and rounded once, to nearest with ties to even
(as ``numpy.rint``); alpha is 8-bit quantised only where an 8-bit output asks for it.

The foreground estimate is the "blur fusion" of Forte and Pitie, "Approximate Fast Foreground
Colour Estimation" (ICIP 2021), worked on the soft edge only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from mattekit.errors import InputError, OptionError
from mattekit.stages import _arrays
from mattekit.stages._arrays import ByteArray, Color, FloatArray

__all__ = [
    "cover",
    "cutout",
    "estimate_foreground",
    "mask_to_l8",
    "over_blur",
    "over_color",
    "over_image",
    "parse_color",
]

# Blends run over strips of about this many pixels, so their float32 temporaries stay in cache.
_STRIP_PIXELS = 1 << 16
# Foreground estimation: the paper's two box-blur sizes (pixels), the tile size of the sparse
# full-resolution pass, and the 8-bit band: alpha that rounds to 0 or 255 is left alone.
_FG_RADII = (90, 6)
_FG_TILE = 64
_BAND_LO = 0.5 / 255
_BAND_HI = float(np.nextafter(np.float32(254.5 / 255), np.float32(0)))
_EPS = 1e-5
# Portrait blur: weight of the plain blur that fills in where no background is near.
_FILL = 1e-3
# ... and the least blur sigma, in working pixels, when it works at a reduced size.
_BLUR_MIN_SIGMA = 4.0


# --------------------------------------------------------------------------- checks


def _inputs(
    image: object, alpha: object, foreground: object | None = None
) -> tuple[ByteArray, FloatArray, ByteArray]:
    """Check image, alpha and the optional foreground; return (image, alpha, fg to use)."""
    img = _arrays.check_image(image)
    a = _arrays.check_mask(alpha, "alpha", img.shape[:2])
    if foreground is None:
        return img, a, img
    fg = _arrays.check_image(foreground, "foreground")
    if fg.shape != img.shape:
        raise InputError(f"foreground must have shape (H, W, 3) = {img.shape}, got {fg.shape}")
    return img, a, fg


# --------------------------------------------------------------------------- blending


def _blend(fg: ByteArray, alpha: FloatArray, background: Callable[[int, int], NDArray[Any]]) -> ByteArray:
    """``bg + (fg - bg) * alpha``, rounded once; `background(y0, y1)` gives rows y0..y1-1.

    The background rows may be uint8 or float32, shape (y1 - y0, W, 3).
    """
    h, w = alpha.shape
    out = np.empty((h, w, 3), np.uint8)
    step = max(1, _STRIP_PIXELS // w)
    for y0 in range(0, h, step):
        y1 = min(h, y0 + step)
        bg = background(y0, y1)
        d = cv2.subtract(fg[y0:y1], bg, dtype=cv2.CV_32F)
        # A per-channel copy of alpha: OpenCV has no broadcasting, numpy's is slow here.
        cv2.multiply(d, cv2.cvtColor(alpha[y0:y1], cv2.COLOR_GRAY2RGB), dst=d)
        cv2.add(d, bg, dst=d, dtype=cv2.CV_32F)
        # One rounding, float32 -> uint8 (a mixed-type add into uint8 would round `d` first).
        _arrays.to_u8(d, dst=out[y0:y1])
    return out


def mask_to_l8(alpha: NDArray[np.floating]) -> ByteArray:
    """The 8-bit mask: ``round(alpha * 255)``, clipped to 0..255.

    Args:
        alpha: float mask (H, W) in [0, 1].

    Returns:
        uint8 (H, W).

    Raises:
        InputError: alpha is not a float (H, W) array.

    Example:
        >>> import numpy as np
        >>> mask_to_l8(np.array([[0.0, 0.5, 1.0, 1.7]], np.float32)).tolist()
        [[0, 128, 255, 255]]
    """
    return _arrays.to_u8(_arrays.check_mask(alpha), 255.0)


def cutout(
    image: NDArray[np.uint8],
    alpha: NDArray[np.floating],
    *,
    foreground: NDArray[np.uint8] | None = None,
) -> ByteArray:
    """The subject on a transparent background: RGBA with the 8-bit mask as its alpha.

    Args:
        image: RGB uint8 (H, W, 3).
        alpha: float mask (H, W) in [0, 1].
        foreground: RGB used for the colour channels instead of `image`, e.g. from
            `estimate_foreground`, so the edges carry no colour of the old background.

    Returns:
        uint8 (H, W, 4), not premultiplied; colour is zeroed where alpha is 0, which hides
        nothing and makes the encoded file smaller and faster to write.

    Raises:
        InputError: a wrongly shaped or typed array.

    Example:
        >>> import numpy as np
        >>> rgba = cutout(np.full((2, 2, 3), 9, np.uint8), np.full((2, 2), 0.5, np.float32))
        >>> rgba[0, 0].tolist()
        [9, 9, 9, 128]
    """
    _, a, fg = _inputs(image, alpha, foreground)
    a8 = _arrays.to_u8(a, 255.0)
    channels = [cv2.bitwise_and(c, c, mask=a8) for c in cv2.split(fg)]
    return np.asarray(cv2.merge([*channels, a8]), np.uint8)


def over_color(
    image: NDArray[np.uint8],
    alpha: NDArray[np.floating],
    color: Color | str,
    *,
    foreground: NDArray[np.uint8] | None = None,
) -> ByteArray:
    """The subject over a plain colour: ``fg * alpha + color * (1 - alpha)``, rounded.

    Args:
        image: RGB uint8 (H, W, 3).
        alpha: float mask (H, W) in [0, 1].
        color: (r, g, b) in 0..255, or text for `parse_color`.
        foreground: RGB to use for the subject instead of `image`.

    Returns:
        RGB uint8 (H, W, 3).

    Raises:
        InputError: a wrongly shaped or typed array.
        OptionError: a bad colour.

    Example:
        >>> import numpy as np
        >>> img = np.full((1, 3, 3), 200, np.uint8)
        >>> a = np.array([[0.0, 0.5, 1.0]], np.float32)
        >>> over_color(img, a, "black")[0, :, 0].tolist()
        [0, 100, 200]
    """
    _, a, fg = _inputs(image, alpha, foreground)
    rgb = _arrays.check_color(color)
    h, w = a.shape
    strip = np.empty((min(h, max(1, _STRIP_PIXELS // w)), w, 3), np.uint8)
    strip[:] = rgb
    return _blend(fg, a, lambda y0, y1: strip[: y1 - y0])


def cover(background: ByteArray, width: int, height: int) -> ByteArray:
    """Scale `background` to cover (width, height), keeping its aspect, and crop the centre."""
    bh, bw = background.shape[:2]
    scale = max(width / bw, height / bh)
    nw = max(width, round(bw * scale))
    nh = max(height, round(bh * scale))
    if (nw, nh) != (bw, bh):
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        background = np.asarray(cv2.resize(background, (nw, nh), interpolation=interp))
    x0 = (nw - width) // 2
    y0 = (nh - height) // 2
    return background[y0 : y0 + height, x0 : x0 + width]


def over_image(
    image: NDArray[np.uint8],
    alpha: NDArray[np.floating],
    background: NDArray[np.uint8],
    *,
    foreground: NDArray[np.uint8] | None = None,
) -> ByteArray:
    """The subject over another picture, scaled to cover the image and centre-cropped.

    The background keeps its aspect ratio: it is scaled by ``max(W / bw, H / bh)`` (area
    averaging when shrinking, bilinear when enlarging) and its middle is cut out.

    Args:
        image: RGB uint8 (H, W, 3).
        alpha: float mask (H, W) in [0, 1].
        background: RGB uint8 (bh, bw, 3), any size.
        foreground: RGB to use for the subject instead of `image`.

    Returns:
        RGB uint8 (H, W, 3).

    Raises:
        InputError: a wrongly shaped or typed array.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((2, 2, 3), np.uint8); bg = np.full((1, 1, 3), 50, np.uint8)
        >>> over_image(img, np.zeros((2, 2), np.float32), bg)[1, 1].tolist()
        [50, 50, 50]
    """
    _, a, fg = _inputs(image, alpha, foreground)
    bg = cover(_arrays.check_image(background, "background"), a.shape[1], a.shape[0])
    return _blend(fg, a, lambda y0, y1: bg[y0:y1])


def over_blur(
    image: NDArray[np.uint8],
    alpha: NDArray[np.floating],
    radius: float,
    *,
    foreground: NDArray[np.uint8] | None = None,
) -> ByteArray:
    """Portrait mode: the subject over a Gaussian blur of its own background.

    The subject is taken out before blurring (``blur(I * (1 - a)) / blur(1 - a)``), so it
    does not glow into the blurred background; deep inside large subjects, where no background
    is within reach, the plain blur fills in. Large radii are blurred at a reduced resolution
    and upsampled, which looks the same (a Gaussian that wide has no detail to lose).

    Args:
        image: RGB uint8 (H, W, 3).
        alpha: float mask (H, W) in [0, 1].
        radius: blur standard deviation in pixels, > 0 (as Pillow's GaussianBlur radius).
        foreground: RGB to use for the subject instead of `image`.

    Returns:
        RGB uint8 (H, W, 3).

    Raises:
        InputError: a wrongly shaped or typed array.
        OptionError: radius <= 0.

    Example:
        >>> import numpy as np
        >>> img = np.full((32, 32, 3), 80, np.uint8); a = np.zeros((32, 32), np.float32)
        >>> int(over_blur(img, a, 5)[16, 16, 0])
        80
    """
    img, a, fg = _inputs(image, alpha, foreground)
    sigma = _arrays.number(radius)
    if sigma is None or sigma <= 0:
        raise OptionError(f"blur radius must be a number of pixels > 0, got {radius!r}")
    h, w = a.shape
    # Work at 1/f of the size, keeping >= _BLUR_MIN_SIGMA working pixels of sigma and >= 16
    # of image.
    f = 1
    while sigma / (2 * f) >= _BLUR_MIN_SIGMA and min(h, w) / (2 * f) >= 16:
        f *= 2
    small = np.asarray(_arrays.shrink(img, f), np.float32)
    weight = 1.0 - _arrays.shrink(a, f)
    # Area averaging and bilinear upsampling add about f^2 / 4 pixels^2 of variance.
    sigma_small = math.sqrt(max(sigma * sigma - f * f / 4, sigma * sigma / 4)) / f

    def blur(x: NDArray[Any]) -> FloatArray:
        out = cv2.GaussianBlur(x, (0, 0), sigmaX=sigma_small, borderType=cv2.BORDER_REFLECT)
        return np.asarray(out, np.float32)

    num = blur(small * weight[..., None])
    den = blur(weight)
    num += np.float32(_FILL) * blur(small)
    den += np.float32(_FILL)
    bg_small = num / den[..., None]
    return _blend(fg, a, lambda y0, y1: _arrays.grow_crop(bg_small, f, (y0, y1, 0, w)))


# --------------------------------------------------------------------------- foreground


def _fg_blur_small(image: ByteArray, alpha: FloatArray, radius: int) -> tuple[int, FloatArray, FloatArray]:
    """The first, wide pass of blur fusion at reduced resolution: f, blurred F and B (0..255).

    A box this wide is smooth, so it is taken at 1/f of the size (f a power of two, about
    radius / 10) and enlarged bilinearly where it is used.
    """
    h, w = alpha.shape
    f = 1
    while radius / (2 * f) >= 10 and min(h, w) / (2 * f) >= 16:
        f *= 2
    k = max(1, round(radius / f))
    small = np.asarray(_arrays.shrink(image, f), np.float32)
    a = _arrays.shrink(alpha, f)
    fa = small * a[..., None]
    blur_a = cv2.blur(a, (k, k))[..., None]
    blur_f = cv2.blur(fa, (k, k)) / (blur_a + np.float32(_EPS))
    blur_b = cv2.blur(small - fa, (k, k)) / (np.float32(1 + _EPS) - blur_a)
    return f, np.asarray(blur_f, np.float32), np.asarray(blur_b, np.float32)


def _fuse(image: FloatArray, alpha: FloatArray, blur_f: FloatArray, blur_b: FloatArray) -> FloatArray:
    """One blur-fusion update, ``F = F_blur + a (I - a F_blur - (1 - a) B_blur)``, clipped.

    `alpha` is (H, W, 3), the mask repeated per channel: broadcasting a (H, W, 1) array is
    several times slower.
    """
    out = image - blur_b
    out -= alpha * (blur_f - blur_b)
    out *= alpha
    out += blur_f
    return np.clip(out, 0.0, 255.0, out=out)


def estimate_foreground(image: NDArray[np.uint8], alpha: NDArray[np.floating]) -> ByteArray:
    """The subject's own colours at its soft edges, without the old background mixed in.

    Place a cutout with these colours on a new background and hair and soft edges show no
    halo of the old one. Blur fusion (Forte and Pitie, ICIP 2021) in its two-pass form (box
    blurs of 90 then 6 pixels). Only pixels whose 8-bit alpha is strictly between 0 and 255
    change; everything else, the solid subject included, keeps its colour exactly.

    Args:
        image: RGB uint8 (H, W, 3).
        alpha: float mask (H, W) in [0, 1].

    Returns:
        RGB uint8 (H, W, 3).

    Raises:
        InputError: a wrongly shaped or typed array.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((40, 40, 3), np.uint8); img[:, :20] = 200
        >>> a = np.zeros((40, 40), np.float32); a[:, :20] = 1; a[:, 20] = 0.5
        >>> img[0, 20] = 100  # half subject (200), half black background
        >>> int(estimate_foreground(img, a)[0, 20, 0]) > 180
        True
    """
    img, a, _ = _inputs(image, alpha)
    h, w = a.shape
    out = img.copy()
    band = cv2.inRange(a, _BAND_LO, _BAND_HI)
    flags = _arrays.tile_flags(band, _FG_TILE)
    if not flags.any():
        return out
    wide, narrow = _FG_RADII
    f, blur_f, blur_b = _fg_blur_small(img, a, wide)
    margin = narrow // 2 + 1
    box = (narrow, narrow)
    eps = np.float32(_EPS)
    for y0, y1, x0, x1 in _arrays.tile_rects(flags, _FG_TILE, h, w):
        # The narrow pass reads `margin` pixels around each band pixel.
        ey0, ey1 = max(0, y0 - margin), min(h, y1 + margin)
        ex0, ex1 = max(0, x0 - margin), min(w, x1 + margin)
        rect = (ey0, ey1, ex0, ex1)
        i = np.asarray(img[ey0:ey1, ex0:ex1], np.float32)
        a1 = a[ey0:ey1, ex0:ex1]
        a3 = np.asarray(cv2.merge([a1, a1, a1]), np.float32)
        bb = _arrays.grow_crop(blur_b, f, rect)
        f1 = _fuse(i, a3, _arrays.grow_crop(blur_f, f, rect), bb)
        # Second pass: F from the first, B is the first pass's blurred background.
        blur_a = cv2.blur(a3, box)
        bf2 = cv2.blur(f1 * a3, box) / (blur_a + eps)
        bb2 = cv2.blur(bb - bb * a3, box) / ((1 + eps) - blur_a)
        f2 = _fuse(i, a3, bf2, bb2)[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0]
        sel = band[y0:y1, x0:x1, None] > 0
        np.copyto(out[y0:y1, x0:x1], np.rint(f2).astype(np.uint8), where=sel)
    return out


# --------------------------------------------------------------------------- colours


def parse_color(text: str) -> Color:
    """Read a colour: a CSS name ("white", "rebeccapurple") or a hex code ("#0f0", "#00ff00").

    Args:
        text: the colour, any case, surrounding spaces ignored.

    Returns:
        (r, g, b) in 0..255.

    Raises:
        OptionError: not a known name or a 3- or 6-digit hex code.

    Example:
        >>> parse_color("white"), parse_color("#0f0"), parse_color("#1E90FF")
        ((255, 255, 255), (0, 255, 0), (30, 144, 255))
    """
    return _arrays.parse_color(text)
