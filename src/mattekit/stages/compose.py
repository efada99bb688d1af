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
from collections.abc import Callable, Iterator
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
    "cutout_with_foreground",
    "estimate_foreground",
    "mask_to_l8",
    "over_blur",
    "over_color",
    "over_image",
    "parse_color",
]

# Blends run over strips of about this many pixels, so their float32 temporaries stay in cache.
_STRIP_PIXELS = 1 << 16
# ... and, within a strip, over runs of columns (steps of _RUN pixels) where alpha is not 0.
_RUN = 16
# Foreground estimation: the paper's two box-blur sizes (full-resolution pixels); it is worked
# in strips of _FG_ROWS rows, over runs of columns (in steps of _FG_COLS) that hold soft alpha.
_FG_RADII = (90, 6)
_FG_ROWS, _FG_COLS = 64, 16
# The narrow pass runs at half resolution where the soft band's width, as `_band_width`
# measures it in blocks of _FG_BLOCK pixels, is at least _FG_WIDE_BAND (a ramp of about 20
# pixels; there the estimate is within about 1% of the full-resolution pass, measured on the
# bundled photos; on a 4-pixel ramp it was 10% further from the truth).
_FG_BLOCK = 16
_FG_WIDE_BAND = 8.0
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

    The rows, shape (y1 - y0, W, 3), are the background as uint8, or its negation ``-bg`` as
    float32 (<= 0; a float background is then read, never copied whole, and its rounding is
    an absolute value). Where alpha is 0 the result is the background rounded; the sum is only
    worked out over runs of columns (in steps of _RUN) where alpha is not 0.
    """
    h, w = alpha.shape
    out = np.empty((h, w, 3), np.uint8)
    step = max(1, _STRIP_PIXELS // w)
    low, high = cv2.minMaxLoc(alpha)[:2]
    # With alpha in [0, 1] the sum lies between fg and bg (>= 0 up to float rounding), so it is
    # rounded with an absolute value (no clipping pass), and where alpha is 0 it is the background.
    sparse = alpha.size >= 256 and low >= 0.0 and high <= 1.0
    for y0 in range(0, h, step):
        y1 = min(h, y0 + step)
        bg = background(y0, y1)
        if not sparse:
            _blend_rows(fg[y0:y1], alpha[y0:y1], bg, out[y0:y1], exact=True)
            continue
        if bg.dtype == np.uint8:
            np.copyto(out[y0:y1], bg)
        else:
            cv2.convertScaleAbs(bg, dst=out[y0:y1])
        for x0, x1 in _arrays.column_runs(alpha[y0:y1], _RUN):
            cols = slice(x0, x1)
            _blend_rows(fg[y0:y1, cols], alpha[y0:y1, cols], bg[:, cols], out[y0:y1, cols], exact=False)
    return out


def _blend_rows(fg: ByteArray, alpha: FloatArray, bg: NDArray[Any], out: ByteArray, *, exact: bool) -> None:
    """`_blend` over one block into `out`; `exact` clips before rounding (alpha outside [0, 1])."""
    if bg.dtype == np.uint8:
        d = cv2.subtract(fg, bg, dtype=cv2.CV_32F)
    else:  # -bg: fg - bg as fg added to a copy of -bg (faster than a mixed-type subtract)
        d = bg.copy()
        cv2.accumulate(fg, d)
    # A per-channel copy of alpha: OpenCV has no broadcasting, numpy's is slow here.
    cv2.multiply(d, cv2.cvtColor(alpha, cv2.COLOR_GRAY2RGB), dst=d)
    if bg.dtype == np.uint8:
        cv2.accumulate(bg, d)
    else:
        cv2.subtract(d, bg, dst=d)
    # One rounding, float32 -> uint8 (a mixed-type add into uint8 would round `d` first).
    if exact:
        _arrays.to_u8(d, dst=out)
    else:
        cv2.convertScaleAbs(d, dst=out)


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
    h, w = a.shape
    out = np.zeros((h, w, 4), np.uint8)
    step = max(1, _STRIP_PIXELS // w)
    for y0 in range(0, h, step):
        y1 = min(h, y0 + step)
        _rgba(fg[y0:y1], _arrays.to_u8(a[y0:y1], 255.0), out[y0:y1])
    return out


def _rgba(rgb: ByteArray, a8: ByteArray, out: ByteArray) -> None:
    """RGBA from RGB and an 8-bit alpha into `out`, which is zeros: where alpha is 0 it stays so."""
    if a8.size < 16:  # OpenCV's bindings would read an array of up to 4 values as a scalar
        out[..., :3] = rgb
        out[..., 3] = a8
        out[a8 == 0] = 0
        return
    cv2.copyTo(cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA), a8, dst=out)
    cv2.mixChannels([a8], [out], [0, 3])


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
    small = _arrays.shrink(img, f)
    # Background weight 1 - a, plus the plain blur's fill weight: blur(I w) / blur(w) with
    # w = 1 - a + _FILL is blur(I (1 - a)) + _FILL blur(I) over blur(1 - a) + _FILL (a blur
    # keeps a constant), worked as one blur of four channels, (I w, w).
    stack = np.empty((*small.shape[:2], 4), np.float32)
    weight = stack[..., 3]
    np.subtract(np.float32(1 + _FILL), _arrays.shrink(a, f), out=weight)
    np.multiply(small, weight[..., None], out=stack[..., :3])
    # Area averaging and bilinear upsampling add about f^2 / 4 pixels^2 of variance.
    sigma_small = math.sqrt(max(sigma * sigma - f * f / 4, sigma * sigma / 4)) / f
    blurred = cv2.GaussianBlur(stack, (0, 0), sigmaX=sigma_small, borderType=cv2.BORDER_REFLECT)
    # The background, negated for `_blend`.
    neg_small = np.divide(blurred[..., :3], np.negative(blurred[..., 3:]))
    return _blend(fg, a, lambda y0, y1: _arrays.grow_crop(neg_small, f, (y0, y1, 0, w)))


# --------------------------------------------------------------------------- foreground


def _fg_factors(h: int, w: int, wide_band: bool) -> tuple[int, int]:
    """(s, f): the narrow pass of blur fusion works at 1/s of the size, the wide one at 1/f.

    Both are powers of two; each box keeps at least 3 (narrow) or 10 (wide) working pixels and
    the image at least 16. The narrow pass is only shrunk when the soft band is wide: on
    narrower bands alpha changes too fast for half resolution.
    """
    wide, narrow = _FG_RADII
    s = 1
    while wide_band and narrow / (2 * s) >= 3 and min(h, w) / (2 * s) >= 16:
        s *= 2
    f = s
    while wide / (2 * f) >= 10 and min(h, w) / (2 * f) >= 16:
        f *= 2
    return s, f


def _band_width(band: ByteArray) -> float:
    """The soft band's mean width in pixels, about: its area over the _FG_BLOCK blocks it meets.

    A band of width W along an edge meets about (1 + W / _FG_BLOCK) blocks per _FG_BLOCK
    pixels of edge, so this is W / (1 + W / _FG_BLOCK) (3.2 for W = 4, 8 for W = 16).
    """
    blocks = int(np.count_nonzero(_arrays.tile_flags(band, _FG_BLOCK)))
    return cv2.countNonZero(band) / (_FG_BLOCK * blocks) if blocks else 0.0


def _fuse(image: NDArray[Any], alpha: NDArray[Any], blur_f: NDArray[Any], diff: NDArray[Any]) -> FloatArray:
    """One blur-fusion update, ``F = F_blur + a (I - a F_blur - (1 - a) B_blur)``, not clipped.

    Worked as ``G + a (I - G)`` with ``G = F_blur + a (F_blur - B_blur)``; `diff` is
    ``F_blur - B_blur`` (and is overwritten). `image` is uint8 or float32 (H, W, 3); `alpha`
    is (H, W, 3), the mask repeated per channel (OpenCV does not broadcast).
    """
    g = cv2.multiply(diff, alpha, dst=diff)
    cv2.add(g, blur_f, dst=g)
    cv2.accumulateProduct(cv2.subtract(image, g, dtype=cv2.CV_32F), alpha, g)
    return np.asarray(g, np.float32)


class _BlurFusion:
    """Blur fusion of one image, worked tile by tile where the 8-bit alpha is soft.

    The wide pass (90 px) runs over the whole image at 1/f of its size and the narrow pass
    (6 px) over each tile at 1/s (their box blurs are smooth, so little is lost but the
    area-averaging of the input); only the last update, ``F = F_blur + a (I - ...)``, reads
    the full-resolution image and alpha, with the narrow pass's blurs enlarged bilinearly.
    A tile's working pixels are what a whole-image pass would give (up to float rounding):
    there are no seams.
    """

    def __init__(self, image: ByteArray, alpha: FloatArray, wide_band: bool) -> None:
        h, w = alpha.shape
        self.image, self.alpha = image, alpha
        self.s, f = _fg_factors(h, w, wide_band)
        self.r = f // self.s
        wide, narrow = _FG_RADII
        self.box = max(1, round(narrow / self.s))
        # The wide pass, everywhere: F and B blurred, at 1/f.
        k = (max(1, round(wide / f)),) * 2
        small = np.asarray(_arrays.shrink(image, f), np.float32)
        a = np.asarray(_arrays.shrink(alpha, f), np.float32)
        fa = small * a[..., None]
        blur_a = cv2.blur(a, k)[..., None]
        self.blur_f = np.asarray(cv2.blur(fa, k) / (blur_a + np.float32(_EPS)), np.float32)
        self.blur_b = np.asarray(cv2.blur(small - fa, k) / (np.float32(1 + _EPS) - blur_a), np.float32)

    def tile(self, rect: tuple[int, int, int, int]) -> ByteArray:
        """The estimated foreground over `rect` (y0, y1, x0, x1), RGB uint8."""
        y0, y1, x0, x1 = rect
        s, box = self.s, (self.box, self.box)
        h, w = self.alpha.shape
        # The narrow pass's working rectangle: what bilinear enlarging by s reads (one working
        # pixel around), and what the box reads around that; shrunk from the full image.
        m = self.box // 2 + 1
        cy0, cy1 = max(0, y0 // s - m), min(-(-h // s), -(-y1 // s) + m)
        cx0, cx1 = max(0, x0 // s - m), min(-(-w // s), -(-x1 // s) + m)
        full = (slice(cy0 * s, cy1 * s), slice(cx0 * s, cx1 * s))
        a1 = np.asarray(_arrays.shrink(self.alpha[full], s), np.float32)
        a3 = cv2.cvtColor(a1, cv2.COLOR_GRAY2RGB)
        crop = (cy0, cy1, cx0, cx1)
        bf1 = _arrays.grow_crop(self.blur_f, self.r, crop)
        bb1 = _arrays.grow_crop(self.blur_b, self.r, crop)
        f1 = _fuse(_arrays.shrink(self.image[full], s), a3, bf1, cv2.subtract(bf1, bb1))
        np.clip(f1, 0.0, 255.0, out=f1)
        # Second pass: F from the first, B is the first pass's blurred background.
        blur_a = cv2.blur(a1, box)
        inv_f = cv2.cvtColor(1 / (blur_a + np.float32(_EPS)), cv2.COLOR_GRAY2RGB)
        inv_b = cv2.cvtColor(1 / (np.float32(1 + _EPS) - blur_a), cv2.COLOR_GRAY2RGB)
        bf2 = cv2.multiply(cv2.blur(cv2.multiply(f1, a3), box), inv_f)
        bb2 = cv2.blur(cv2.multiply(bb1, cv2.cvtColor(1 - a1, cv2.COLOR_GRAY2RGB)), box)
        d2 = cv2.subtract(bf2, cv2.multiply(bb2, inv_b))
        # Last update at full resolution, from the enlarged F and F - B blurs.
        local = (y0 - cy0 * s, y1 - cy0 * s, x0 - cx0 * s, x1 - cx0 * s)
        a = cv2.cvtColor(self.alpha[y0:y1, x0:x1], cv2.COLOR_GRAY2RGB)
        out = _fuse(
            self.image[y0:y1, x0:x1], a, _arrays.grow_crop(bf2, s, local), _arrays.grow_crop(d2, s, local)
        )
        return _arrays.to_u8(out)


_Strip = tuple[int, int, ByteArray, list[tuple[int, int, ByteArray]]]


def _soft_strips(image: ByteArray, alpha: FloatArray, a8: ByteArray) -> Iterator[_Strip]:
    """Strips of _FG_ROWS rows: (y0, y1, soft band, runs).

    The band is 255 where the 8-bit alpha `a8` is strictly between 0 and 255; runs are
    (x0, x1, foreground) over the columns (in steps of _FG_COLS) that hold band pixels.
    """
    h = alpha.shape[0]
    band = np.asarray(cv2.inRange(a8, 1, 254), np.uint8)
    fusion: _BlurFusion | None = None
    for y0 in range(0, h, _FG_ROWS):
        y1 = min(h, y0 + _FG_ROWS)
        runs = []
        for x0, x1 in _arrays.column_runs(band[y0:y1], _FG_COLS):
            if fusion is None:  # the wide pass, when first needed
                fusion = _BlurFusion(image, alpha, _band_width(band) >= _FG_WIDE_BAND)
            runs.append((x0, x1, fusion.tile((y0, y1, x0, x1))))
        yield y0, y1, band[y0:y1], runs


def estimate_foreground(image: NDArray[np.uint8], alpha: NDArray[np.floating]) -> ByteArray:
    """The subject's own colours at its soft edges, without the old background mixed in.

    Place a cutout with these colours on a new background and hair and soft edges show no
    halo of the old one. Blur fusion (Forte and Pitie, ICIP 2021) in its two-pass form (box
    blurs of 90 then 6 pixels), the blurs worked at a reduced size (they are smooth) and the
    last update at full resolution. Only pixels whose 8-bit alpha is strictly between 0 and
    255 change; everything else, the solid subject included, keeps its colour exactly.

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
    out = img.copy()
    for y0, y1, band, runs in _soft_strips(img, a, _arrays.to_u8(a, 255.0)):
        for x0, x1, fg in runs:
            cv2.copyTo(fg, band[:, x0:x1], dst=out[y0:y1, x0:x1])
    return out


def cutout_with_foreground(image: NDArray[np.uint8], alpha: NDArray[np.floating]) -> ByteArray:
    """`cutout` with the colours of `estimate_foreground`, in one pass: a halo-free cutout.

    The same as ``cutout(image, alpha, foreground=estimate_foreground(image, alpha))``, but
    the foreground is only worked out where a cutout shows it (8-bit alpha strictly between
    0 and 255; where it is 255 it is the image itself) and written straight into the RGBA
    result, a strip at a time.

    Args:
        image: RGB uint8 (H, W, 3).
        alpha: float mask (H, W) in [0, 1].

    Returns:
        uint8 (H, W, 4), not premultiplied, colour zeroed where alpha is 0.

    Raises:
        InputError: a wrongly shaped or typed array.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((40, 40, 3), np.uint8); img[:, :20] = 200
        >>> a = np.zeros((40, 40), np.float32); a[:, :20] = 1; a[:, 20] = 0.5
        >>> img[0, 20] = 100  # half subject (200), half black background
        >>> rgba = cutout_with_foreground(img, a)
        >>> int(rgba[0, 20, 0]) > 180, int(rgba[0, 20, 3]), rgba[0, 30].tolist()
        (True, 128, [0, 0, 0, 0])
    """
    img, a, _ = _inputs(image, alpha)
    h, w = a.shape
    out = np.zeros((h, w, 4), np.uint8)
    a8 = _arrays.to_u8(a, 255.0)
    for y0, y1, band, runs in _soft_strips(img, a, a8):
        _rgba(img[y0:y1], a8[y0:y1], out[y0:y1])
        for x0, x1, fg in runs:
            # Colour where the band is; the alpha channel is put back after.
            tile = out[y0:y1, x0:x1]
            cv2.copyTo(cv2.cvtColor(fg, cv2.COLOR_RGB2RGBA), band[:, x0:x1], dst=tile)
            cv2.mixChannels([a8[y0:y1, x0:x1]], [tile], [0, 3])
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
