"""Mask post-processing: edge-aware upsampling, guided filter, feather, threshold, morphology.

Every function takes a float32 mask of shape (H, W) with values in [0, 1] and returns a new float32
mask; inputs are never changed.

The guided filter is He, Sun and Tang, "Guided Image Filtering" (ECCV 2010 / TPAMI 2013), with box
filters from OpenCV. `upsample_mask` is the "fast guided filter" of He and Sun (arXiv:1505.00996,
2015): the filter's linear coefficients are computed at a low working resolution, upsampled
bilinearly, and applied to the full-resolution image, so the mask follows the image's edges at the
cost of a low-resolution filter.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from mattekit.errors import InputError, OptionError
from mattekit.stages import _arrays
from mattekit.stages._arrays import FloatArray

__all__ = [
    "dilate",
    "erode",
    "feather",
    "guided_filter",
    "threshold",
    "upsample_mask",
]

UpsampleMethod = Literal["guided", "bilinear"]
_METHODS = ("guided", "bilinear")

# Tile size (pixels) of the sparse passes: full resolution, and working resolution.
_TILE = 64
_WORK_TILE = 32
# Busy columns of the full-resolution pass are found in steps of about this many pixels.
_COLS = 16
# The full-resolution output is written in strips of about this many rows.
_STRIP_ROWS = 256
# Below this coefficient size the fast guided filter's output is taken from the upsampled
# working-resolution output instead of A.I + b: the two differ by less than about
# 4 * _A_QUIET, i.e. under half an 8-bit level.
_A_QUIET = 4.0e-4
# Where the mask varies by less than this within the filter's reach, the guided filter is
# taken as A = 0, b = the box-smoothed mask (its output moves by about as little).
_P_FLAT = 1.0 / 512
# The fast guided filter works at about this fraction of the mask's pixel count (the image
# shrunk by a power of two), with this radius in working pixels unless one is given.
_WORK_PIXELS = 0.5
_WORK_RADIUS = 2


# --------------------------------------------------------------------------- input checks


def _check_px(value: object, name: str) -> float:
    number = _arrays.number(value)
    if number is None or number < 0:
        raise OptionError(f"{name} must be a number >= 0, got {value!r}")
    return number


def _check_eps(eps: object) -> float:
    number = _arrays.number(eps)
    if number is None or number <= 0:
        raise OptionError(f"eps must be a number > 0, got {eps!r}")
    return number


# --------------------------------------------------------------------------- guided filter


def _box(x: NDArray[Any], radius: int) -> FloatArray:
    k = 2 * radius + 1
    return np.asarray(cv2.boxFilter(x, -1, (k, k), borderType=cv2.BORDER_REFLECT), np.float32)


def _guided_coefficients(
    guide: FloatArray, src: FloatArray, radius: int, eps: float
) -> tuple[FloatArray, FloatArray]:
    """The averaged linear coefficients (A, b) of the guided filter, so that output = A.I + b.

    Args:
        guide: float32 (H, W, 3) or (H, W), values in [0, 1].
        src: float32 (H, W).
        radius: box radius in pixels.
        eps: regulariser.

    Returns:
        A with the guide's shape and b of shape (H, W).
    """
    e = np.float32(eps)
    mean_p = _box(src, radius)

    def cov(x: FloatArray, y: FloatArray, mx: FloatArray, my: FloatArray) -> FloatArray:
        out = _box(x * y, radius)
        out -= mx * my
        return out

    if guide.ndim == 2:
        mean_i = _box(guide, radius)
        a = cov(guide, src, mean_i, mean_p) / (cov(guide, guide, mean_i, mean_i) + e)
        return _box(a, radius), _box(mean_p - a * mean_i, radius)

    # Contiguous planes: arithmetic on strided channel views is several times slower.
    r, g, b = (np.asarray(c, np.float32) for c in cv2.split(guide))
    mr, mg, mb = _box(r, radius), _box(g, radius), _box(b, radius)
    pr, pg, pb = cov(r, src, mr, mean_p), cov(g, src, mg, mean_p), cov(b, src, mb, mean_p)
    # The guide's 3x3 covariance (symmetric), eps added on the diagonal.
    rr, rg, rb = cov(r, r, mr, mr), cov(r, g, mr, mg), cov(r, b, mr, mb)
    gg, gb, bb = cov(g, g, mg, mg), cov(g, b, mg, mb), cov(b, b, mb, mb)
    rr += e
    gg += e
    bb += e
    # Solve (Sigma + eps) a = cov(I, p) per pixel by an LDL^T factorisation: stable in float32
    # where the covariance is nearly singular (grey or flat windows), unlike the cofactor
    # inverse, whose determinant cancels catastrophically there.
    l21 = rg / rr
    l31 = rb / rr
    d2 = gg - l21 * rg
    l32 = (gb - l31 * rg) / d2
    d3 = bb - l31 * rb - l32 * l32 * d2
    z2 = pg - l21 * pr
    ab = (pb - l31 * pr - l32 * z2) / d3
    ag = z2 / d2 - l32 * ab
    ar = pr / rr - l21 * ag - l31 * ab
    bias = mean_p - ar * mr - ag * mg - ab * mb
    a = cv2.merge([_box(ar, radius), _box(ag, radius), _box(ab, radius)])
    return np.asarray(a, np.float32), _box(bias, radius)


def _apply(a: FloatArray, b: FloatArray, guide: FloatArray) -> FloatArray:
    """A.I + b."""
    if a.ndim == 2:
        return np.asarray(a * guide + b, np.float32)
    out = np.asarray(cv2.transform(cv2.multiply(a, guide), np.ones((1, 3), np.float32)), np.float32)
    out += b
    return out


def _as_guide(guide: object, shape: tuple[int, int] | None = None) -> FloatArray:
    """A float32 guide in [0, 1]: uint8 is divided by 255, floats are taken as they are."""
    if (
        not isinstance(guide, np.ndarray)
        or not (guide.dtype == np.uint8 or guide.dtype.kind == "f")
        or guide.ndim not in (2, 3)
        or (guide.ndim == 3 and guide.shape[2] != 3)
        or guide.size == 0
    ):
        raise InputError(
            f"guide must be an image of shape (H, W, 3) or (H, W), uint8 or float in [0, 1], "
            f"got {_arrays.describe(guide)}"
        )
    if shape is not None and guide.shape[:2] != shape:
        raise InputError(f"guide must have shape (H, W) = {shape}, got {guide.shape[:2]}")
    if guide.dtype == np.uint8:
        return np.asarray(guide, np.float32) * np.float32(1 / 255)
    return np.asarray(guide, dtype=np.float32)


def guided_filter(
    guide: NDArray[np.uint8] | NDArray[np.floating],
    src: NDArray[np.floating],
    radius: int,
    eps: float,
) -> FloatArray:
    """Smooth `src` while keeping the edges of `guide` (He et al. guided filter).

    Args:
        guide: RGB image (H, W, 3) or grey image (H, W); uint8, or float in [0, 1].
        src: float mask (H, W) to filter.
        radius: box radius in pixels, >= 1.
        eps: regulariser, > 0, in units of the guide's variance (guide scaled to [0, 1]);
            small values follow the guide's edges closely, large ones blur more.

    Returns:
        float32 (H, W). Not clipped: the filter can overshoot [0, 1] slightly.

    Raises:
        InputError: a wrongly shaped or typed array.
        OptionError: radius < 1 or eps <= 0.

    Example:
        >>> import numpy as np
        >>> guide = np.zeros((8, 8), np.float32); guide[:, 4:] = 1
        >>> out = guided_filter(guide, guide, 2, 1e-4)
        >>> bool(abs(out - guide).max() < 0.01)
        True
    """
    p = _arrays.check_mask(src, "src")
    g = _as_guide(guide, p.shape)
    if not _arrays.is_count(radius, 1):
        raise OptionError(f"radius must be an integer >= 1, got {radius!r}")
    a, b = _guided_coefficients(g, p, int(radius), _check_eps(eps))
    return _apply(a, b, g)


def _sparse_coefficients(
    guide: FloatArray, src: FloatArray, radius: int, eps: float
) -> tuple[FloatArray, FloatArray]:
    """`_guided_coefficients`, worked only where the mask is not flat within the filter's reach.

    Elsewhere A = 0 and b is the twice box-smoothed mask, which is what the filter gives for a
    flat mask; "flat" is a spread under _P_FLAT, so the outputs differ by about that at most.
    """
    reach = 2 * radius  # A and b at a pixel read the mask up to two box radii away
    h, w = src.shape
    kernel = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    spread = cv2.dilate(src, kernel) - cv2.erode(src, kernel)
    flags = _arrays.tile_flags(spread > _P_FLAT, _WORK_TILE)
    if flags.mean() > 0.5:
        return _guided_coefficients(guide, src, radius, eps)
    a = np.zeros((h, w, 3), np.float32)
    b = _box(_box(src, radius), radius)
    for y0, y1, x0, x1 in _arrays.tile_rects(flags, _WORK_TILE, h, w):
        ey0, ey1 = max(0, y0 - reach), min(h, y1 + reach)
        ex0, ex1 = max(0, x0 - reach), min(w, x1 + reach)
        ca, cb = _guided_coefficients(guide[ey0:ey1, ex0:ex1], src[ey0:ey1, ex0:ex1], radius, eps)
        inner = (slice(y0 - ey0, y1 - ey0), slice(x0 - ex0, x1 - ex0))
        a[y0:y1, x0:x1] = ca[inner]
        b[y0:y1, x0:x1] = cb[inner]
    return a, b


# --------------------------------------------------------------------------- upsampling


def _work_factor(mask_shape: tuple[int, int], image_shape: tuple[int, int]) -> int:
    """How many times (a power of two) the fast guided filter shrinks the image.

    Chosen so the working image has about _WORK_PIXELS of the mask's pixel count. Measured on
    the people photos of the evaluation set (DeepLab 257x257 masks) and on synthetic scenes,
    half the mask's pixel count did as well as the full count or better, at half the cost.
    """
    ratio = math.sqrt(image_shape[0] * image_shape[1] / (_WORK_PIXELS * mask_shape[0] * mask_shape[1]))
    return 1 if ratio < 1.5 else 2 ** round(math.log2(ratio))


def upsample_mask(
    mask_small: NDArray[np.floating],
    image: NDArray[np.uint8],
    *,
    method: UpsampleMethod = "guided",
    radius: int | None = None,
    eps: float = 1e-4,
) -> FloatArray:
    """Resize a low-resolution model mask to the image's size, following the image's edges.

    With ``method="guided"`` this is the fast guided filter: the filter's coefficients are found
    with the image shrunk by a power of two to about half the mask's pixel count, upsampled
    bilinearly and applied to the full-resolution image, so edges fall on the image's edges.
    Only tiles near the mask's edges are worked; elsewhere the mask is smooth and is simply
    upsampled.

    Args:
        mask_small: float mask (h, w) in [0, 1], any size and aspect (e.g. 256x256).
        image: RGB uint8 (H, W, 3) the mask belongs to.
        method: "guided" (edge-aware) or "bilinear" (plain `cv2.resize`).
        radius: guided-filter radius in full-resolution pixels; default 2 working pixels,
            about 3 mask pixels.
        eps: guided-filter regulariser (guide scaled to [0, 1]); larger is smoother.

    Returns:
        float32 (H, W) in [0, 1].

    Raises:
        InputError: a wrongly shaped or typed array.
        OptionError: an unknown method, radius < 1 or eps <= 0.

    Example:
        >>> import numpy as np
        >>> image = np.zeros((64, 64, 3), np.uint8); image[:, 29:] = 255
        >>> small = np.zeros((8, 8), np.float32); small[:, 4:] = 1
        >>> alpha = upsample_mask(small, image)
        >>> alpha.shape, bool(alpha[:, :29].max() < 0.5), bool(alpha[:, 29:].min() > 0.5)
        ((64, 64), True, True)
    """
    img = _arrays.check_image(image)
    mask = _arrays.check_mask(mask_small, "mask_small")
    if method not in _METHODS:
        raise OptionError(f"unknown method {method!r}; use one of {', '.join(_METHODS)}")
    if radius is not None and not _arrays.is_count(radius, 1):
        raise OptionError(f"radius must be an integer >= 1, got {radius!r}")
    eps = _check_eps(eps)
    h, w = img.shape[:2]
    if method == "bilinear":
        resized = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
        return np.clip(np.asarray(resized, np.float32), 0.0, 1.0)

    k = _work_factor(mask.shape, (h, w))
    r = _WORK_RADIUS if radius is None else max(1, round(radius / k))
    guide = np.asarray(_arrays.shrink(img, k), np.float32) * np.float32(1 / 255)
    wh, ww = guide.shape[:2]
    interp = cv2.INTER_AREA if mask.shape[0] > wh and mask.shape[1] > ww else cv2.INTER_LINEAR
    p = mask if mask.shape == (wh, ww) else cv2.resize(mask, (ww, wh), interpolation=interp)
    a, b = _sparse_coefficients(guide, np.asarray(p, np.float32), r, eps)
    q_small = np.clip(_apply(a, b, guide), 0.0, 1.0)
    if k == 1:
        return q_small

    # Quiet tiles (tiny A): the upsampled working output is within half an 8-bit level of
    # A.I + b there, and costs a single-channel resize.
    quiet = cv2.inRange(a, (-_A_QUIET,) * 3, (_A_QUIET,) * 3)
    # Bilinear taps reach one working pixel over: grow the busy area by one.
    busy = cv2.dilate(cv2.bitwise_not(quiet), np.ones((3, 3), np.uint8))
    if ww * k == w:
        # One resize writes the output (its rows past h, from the padding, are left over).
        out = np.empty((wh * k, w), np.float32)
        cv2.resize(q_small, (w, wh * k), dst=out, interpolation=cv2.INTER_LINEAR)
        out = out[:h]
    else:
        out = np.empty((h, w), np.float32)
        for y0 in range(0, h, _STRIP_ROWS):
            y1 = min(h, y0 + _STRIP_ROWS)
            np.copyto(out[y0:y1], _arrays.grow_crop(q_small, k, (y0, y1, 0, w)))
    # Busy areas get A.I + b: strips of whole working rows, runs of busy working columns.
    a255 = a * np.float32(1 / 255)
    ones = np.ones((1, 3), np.float32)
    rows = max(1, _TILE // k)
    for wy in range(0, -(-h // k), rows):
        y0, y1 = wy * k, min(h, (wy + rows) * k)
        for wx0, wx1 in _arrays.column_runs(busy[wy : wy + rows], max(1, _COLS // k)):
            x0, x1 = wx0 * k, min(w, wx1 * k)
            rect = (y0, y1, x0, x1)
            q = cv2.transform(
                cv2.multiply(_arrays.grow_crop(a255, k, rect), img[y0:y1, x0:x1], dtype=cv2.CV_32F), ones
            )
            q += _arrays.grow_crop(b, k, rect)
            _arrays.clip01(q, out[y0:y1, x0:x1])
    return out


# --------------------------------------------------------------------------- simple helpers


def feather(alpha: NDArray[np.floating], px: float) -> FloatArray:
    """Soften the mask's edges with a Gaussian blur of standard deviation `px` pixels.

    Args:
        alpha: float mask (H, W) in [0, 1].
        px: blur sigma in pixels, >= 0; 0 returns a copy.

    Returns:
        float32 (H, W) in [0, 1].

    Raises:
        OptionError: px < 0.

    Example:
        >>> import numpy as np
        >>> a = np.zeros((1, 9), np.float32); a[0, 4:] = 1
        >>> bool(0 < feather(a, 2)[0, 3] < 0.5)
        True
    """
    a = _arrays.check_mask(alpha)
    sigma = _check_px(px, "px")
    if sigma == 0:
        return a.copy()
    out = cv2.GaussianBlur(a, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REPLICATE)
    return np.clip(np.asarray(out, np.float32), 0.0, 1.0)


def threshold(alpha: NDArray[np.floating], t: float = 0.5) -> FloatArray:
    """Make the mask hard: 1 where alpha >= t, else 0.

    Args:
        alpha: float mask (H, W) in [0, 1].
        t: threshold, 0 < t <= 1.

    Returns:
        float32 (H, W) of 0s and 1s.

    Raises:
        OptionError: t outside (0, 1].

    Example:
        >>> import numpy as np
        >>> threshold(np.array([[0.2, 0.5, 0.9]], np.float32)).tolist()
        [[0.0, 1.0, 1.0]]
    """
    a = _arrays.check_mask(alpha)
    if not (isinstance(t, (int, float)) and 0 < t <= 1):
        raise OptionError(f"threshold must be in (0, 1], got {t!r}")
    return (a >= t).astype(np.float32)


def _morph(alpha: NDArray[np.floating], px: int, op: int, name: str) -> FloatArray:
    a = _arrays.check_mask(alpha)
    if not isinstance(px, (int, np.integer)) or isinstance(px, bool) or px < 0:
        raise OptionError(f"{name} must be an integer number of pixels >= 0, got {px!r}")
    if px == 0:
        return a.copy()
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * int(px) + 1, 2 * int(px) + 1))
    out = cv2.morphologyEx(a, op, kernel, borderType=cv2.BORDER_REPLICATE)
    return np.asarray(out, np.float32)


def erode(alpha: NDArray[np.floating], px: int) -> FloatArray:
    """Shrink the mask by `px` pixels (grey-level erosion with a disk of radius `px`).

    Args:
        alpha: float mask (H, W) in [0, 1].
        px: radius in pixels, >= 0; 0 returns a copy.

    Returns:
        float32 (H, W).

    Raises:
        OptionError: px is not an integer >= 0.

    Example:
        >>> import numpy as np
        >>> a = np.zeros((1, 9), np.float32); a[0, 2:7] = 1
        >>> erode(a, 1)[0].tolist()
        [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    """
    return _morph(alpha, px, cv2.MORPH_ERODE, "px")


def dilate(alpha: NDArray[np.floating], px: int) -> FloatArray:
    """Grow the mask by `px` pixels (grey-level dilation with a disk of radius `px`).

    Args:
        alpha: float mask (H, W) in [0, 1].
        px: radius in pixels, >= 0; 0 returns a copy.

    Returns:
        float32 (H, W).

    Raises:
        OptionError: px is not an integer >= 0.

    Example:
        >>> import numpy as np
        >>> a = np.zeros((1, 9), np.float32); a[0, 4] = 1
        >>> dilate(a, 2)[0].tolist()
        [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    """
    return _morph(alpha, px, cv2.MORPH_DILATE, "px")
