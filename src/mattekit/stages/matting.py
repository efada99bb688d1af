"""Alpha matting of a mask's edge band: trimap building and a closed-form matting solve.

`build_trimap` turns a soft mask into a trimap; `matte` solves alpha in the trimap's unknown band
with the closed-form matting of Levin, Lischinski and Weiss, "A Closed-Form Solution to Natural
Image Matting" (TPAMI 2008), holding the trimap's foreground at 1 and background at 0. A weak pull
towards the mask (`mask_weight`) keeps the solve from wandering where foreground and background
colours are alike; 0 gives plain closed-form matting (with eps=1e-7, the alpha of PyMatting's
``estimate_alpha_cf`` on the same trimap: a mean absolute difference of 0.005-0.011 inside the
band on ../shared/eval, from the solvers' stopping rules).

How it stays fast:

* The matting Laplacian is never built. Its product with a vector p is worked with box filters
  (He, Sun and Tang, "Fast Matting Using Large Kernel Matting Laplacian Matrices", CVPR 2010):
  ``(L p)_i = sum over windows k around i of p_i - (a_k . I_i + b_k)``, where (a_k, b_k) are
  the guided-filter coefficients of p in window k. The system is solved by conjugate gradients
  with a Jacobi preconditioner, started from the mask.
* Only tiles that hold unknown pixels are worked: they are cut out with a halo of two window
  radii and laid side by side in one mosaic, filtered together, so the cost follows the band's
  area, not the photo's.
* Photos over `_WORK_PIXELS` are solved shrunk by a power of two; the solved alpha's local linear
  model ``alpha = a . I + b`` (its guided-filter coefficients) is upsampled and applied to the
  full-resolution image, as in the fast guided filter, so alpha follows full-resolution edges.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from mattekit.errors import InputError, OptionError
from mattekit.stages import _arrays
from mattekit.stages._arrays import ByteArray, FloatArray

__all__ = ["build_trimap", "matte"]

Array = NDArray[np.floating]

BG, UNKNOWN, FG = 0, 128, 255

# Trimap: the band around the 0.5 contour has a half-width of _BAND_FRACTION of the image
# diagonal, at least _BAND_MIN pixels. Measured on ../shared/eval (people and objects, accurate
# and balanced levels): 0.25% and 0.5% did alike, 1% was worse; adding the mask's uncertain
# pixels (0.05 < mask < 0.95) within 2-3 band widths was slightly worse too.
_BAND_FRACTION = 0.005
_BAND_MIN = 2
# Solve: the working image has at most this many pixels (shrunk by a power of two).
_WORK_PIXELS = 1_000_000
# Tile size (working pixels) of the sparse solve, and (full-resolution pixels) of the upsampling.
_TILE = 32
_UP_TILE = 64
# Conjugate-gradient stop: relative residual.
_TOL = 1e-3
# Regulariser of the guided-filter coefficients that carry alpha to full resolution.
_UP_EPS = 1e-4
# The solve runs in float32 while the windows' regulariser eps / |w| is at least this; below
# it float32 moments cancel badly in flat colour (measured: NaN at eps = 1e-7), so float64.
_FLOAT32_MIN_EPS = 2e-7


# --------------------------------------------------------------------------- trimap


def _band_width(shape: tuple[int, int]) -> int:
    return max(_BAND_MIN, round(_BAND_FRACTION * math.hypot(*shape)))


def build_trimap(mask: NDArray[np.floating], *, band: int | None = None) -> ByteArray:
    """A trimap from a soft mask: 0 background, 128 unknown, 255 foreground.

    A pixel is unknown when a pixel on the other side of the mask's 0.5 contour lies within
    `band` pixels of it (Euclidean distance, to within 2%); the picture's edge is no contour.
    Elsewhere it is foreground where the mask is >= 0.5 and background below. The default band
    scales with the picture: 0.5% of the image diagonal, at least 2 pixels (4 px at 640x480,
    11 px at 1920x1080, 25 px at 4000x3000), so it covers the same share of the picture at
    every size, as a model's edge error does.

    Args:
        mask: float mask (H, W) in [0, 1].
        band: half-width of the band in pixels, >= 0 (0: no unknown pixels); None for the
            default rule.

    Returns:
        uint8 (H, W) with values 0, 128 and 255.

    Raises:
        InputError: a wrongly shaped or typed mask.
        OptionError: band is not an integer >= 0.

    Example:
        >>> import numpy as np
        >>> m = np.zeros((1, 12), np.float32); m[0, 6:] = 1
        >>> build_trimap(m, band=2)[0].tolist()
        [0, 0, 0, 0, 128, 128, 128, 128, 255, 255, 255, 255]
    """
    m = _arrays.check_mask(mask, "mask")
    if band is None:
        width = _band_width(m.shape)
    elif _arrays.is_count(band, 0):
        width = int(band)
    else:
        raise OptionError(f"band must be an integer number of pixels >= 0, got {band!r}")
    fg = (m >= 0.5).astype(np.uint8)
    trimap = fg * np.uint8(FG)
    if width:
        # Each side's distance to the nearest pixel of the other side (0 on the other side).
        # The 5x5 mask's distances are within 2% of Euclidean; the square neighbourhood of a
        # dilation was half the time but made the band 40% wider along diagonals.
        to_bg = cv2.distanceTransform(fg, cv2.DIST_L2, cv2.DIST_MASK_5)
        to_fg = cv2.distanceTransform(1 - fg, cv2.DIST_L2, cv2.DIST_MASK_5)
        trimap[to_bg + to_fg <= width] = UNKNOWN
    return np.asarray(trimap, np.uint8)


def _check_trimap(trimap: object, shape: tuple[int, int]) -> ByteArray:
    if not (isinstance(trimap, np.ndarray) and trimap.dtype == np.uint8 and trimap.ndim == 2):
        raise InputError(
            f"trimap must be a uint8 array of shape (H, W) (0 background, 255 foreground, "
            f"anything else unknown), got {_arrays.describe(trimap)}"
        )
    if trimap.shape != shape:
        raise InputError(f"trimap must have the mask's shape {shape}, got {trimap.shape}")
    return trimap


# --------------------------------------------------------------------------- tiles


class _Tiles:
    """The working grid's active tiles, cut out with halos and laid side by side in one image.

    The grid is padded so every tile and its halo lie inside it. `stack` gathers grid values
    into the mosaic (rows * P, cols * P), P = tile + 2 * halo; `cores` takes the tiles' inner
    tile x tile parts back out, as (rows, tile, cols, tile). Filters run on the whole mosaic:
    a core reads only its own tile's halo, so what leaks between neighbouring tiles stays in
    the halos. Slots past the last tile repeat the first tile and are marked False in `real`;
    `put_index` scatters them to the cell `spare` (one past the grid) instead of onto it.

    Args:
        active: one flag per tile of the unpadded image.
        tile: tile size in pixels.
        halo: halo width in pixels.
        grid_w: width of the padded grid.
        spare: the spare cell's flat index.
    """

    def __init__(self, active: NDArray[np.bool_], tile: int, halo: int, grid_w: int, spare: int) -> None:
        ty, tx = np.nonzero(active)
        n = len(ty)
        cols = max(1, math.ceil(math.sqrt(n)))
        rows = -(-n // cols)
        slots = rows * cols
        self.tile, self.halo = tile, halo
        p = tile + 2 * halo
        real = np.zeros(slots, bool)
        real[:n] = True
        ty = np.concatenate([ty, np.full(slots - n, ty[0])])
        tx = np.concatenate([tx, np.full(slots - n, tx[0])])
        # Padded tile s starts at (ty * tile, tx * tile) in the padded grid (offset by halo).
        yy = (ty * tile)[:, None] + np.arange(p)[None, :]
        xx = (tx * tile)[:, None] + np.arange(p)[None, :]
        index = yy[:, :, None] * grid_w + xx[:, None, :]  # (slots, p, p)
        index = index.reshape(rows, cols, p, p).transpose(0, 2, 1, 3)
        self.shape = (rows, p, cols, p)
        self.pad_index: NDArray[np.intp] = np.ascontiguousarray(index.reshape(rows * p, cols * p), np.intp)
        self.real = np.broadcast_to(real.reshape(rows, 1, cols, 1), (rows, tile, cols, tile))
        core = index[:, halo : halo + tile, :, halo : halo + tile]
        self.core_index: NDArray[np.intp] = np.ascontiguousarray(core, np.intp)
        # A scatter index with the repeated slots sent to a spare cell past the grid's end.
        self.put_index = np.where(self.real, self.core_index, spare)

    def stack(self, flat: Array) -> Array:
        """The mosaic of a flat padded grid."""
        return np.take(flat, self.pad_index)

    def cores(self, stacked: Array) -> Array:
        """The tiles' cores of a mosaic (a view)."""
        t, h = self.tile, self.halo
        return stacked.reshape(self.shape)[:, h : h + t, :, h : h + t]


class _Laplacian:
    """The closed-form matting Laplacian of a mosaic, applied without being built.

    Only windows lying wholly inside the image count (`valid`), so the operator is exactly
    symmetric and positive semi-definite, as the matting Laplacian is.

    Args:
        guide: the three colour planes of the mosaic, in [0, 1] less each tile's mean colour.
        valid: 1 at window centres whose window lies inside the image, else 0.
        radius: window radius.
        eps: Levin's regulariser; the windows' covariances get eps / |w| added.
    """

    def __init__(self, guide: list[Array], valid: Array, radius: int, eps: float) -> None:
        self.ksize = (2 * radius + 1, 2 * radius + 1)
        self.size = float(self.ksize[0] * self.ksize[1])
        self.dtype = guide[0].dtype
        self.guide = guide
        self.valid = valid
        self.count = self.box_sum(valid)
        self.mu = [self.box_mean(c) for c in guide]
        self.inv = self.inverse(eps / self.size)

    def box_mean(self, x: Array) -> Array:
        return np.asarray(cv2.blur(x, self.ksize, borderType=cv2.BORDER_REFLECT), x.dtype)

    def box_sum(self, x: Array) -> Array:
        out = cv2.boxFilter(x, -1, self.ksize, normalize=False, borderType=cv2.BORDER_REFLECT)
        return np.asarray(out, x.dtype)

    def inverse(self, eps: float) -> list[Array]:
        """The six entries (00, 01, 02, 11, 12, 22) of (Sigma_k + eps U)^-1 per window.

        Worked in float64: the windows' covariances can be nearly singular (flat colour),
        where float32 moments cancel to zero or below.
        """
        r, g, b = (x.astype(np.float64) for x in self.guide)
        mr, mg, mb = (self.box_mean(x) for x in (r, g, b))

        def cov(x: Array, y: Array, mx: Array, my: Array) -> Array:
            out = self.box_mean(x * y)
            out -= mx * my
            return out

        rr, rg, rb = cov(r, r, mr, mr) + eps, cov(r, g, mr, mg), cov(r, b, mr, mb)
        gg, gb, bb = cov(g, g, mg, mg) + eps, cov(g, b, mg, mb), cov(b, b, mb, mb) + eps
        c00 = gg * bb - gb * gb
        c01 = rb * gb - rg * bb
        c02 = rg * gb - rb * gg
        c11 = rr * bb - rb * rb
        c12 = rb * rg - rr * gb
        c22 = rr * gg - rg * rg
        det = rr * c00 + rg * c01 + rb * c02
        return [np.asarray(c / det, self.dtype) for c in (c00, c01, c02, c11, c12, c22)]

    def coefficients(self, p: Array, inv: list[Array]) -> tuple[list[Array], Array]:
        """Per-window (a_k, b_k) of p for the inverse covariances `inv`; zero where not valid."""
        i00, i01, i02, i11, i12, i22 = inv
        r, g, b = self.guide
        mr, mg, mb = self.mu
        mp = self.box_mean(p)
        cr = self.box_mean(r * p) - mr * mp
        cg = self.box_mean(g * p) - mg * mp
        cb = self.box_mean(b * p) - mb * mp
        ar = (i00 * cr + i01 * cg + i02 * cb) * self.valid
        ag = (i01 * cr + i11 * cg + i12 * cb) * self.valid
        ab = (i02 * cr + i12 * cg + i22 * cb) * self.valid
        bias = (mp - ar * mr - ag * mg - ab * mb) * self.valid
        return [ar, ag, ab], bias

    def apply(self, p: Array) -> Array:
        """L p."""
        (ar, ag, ab), bias = self.coefficients(p, self.inv)
        r, g, b = self.guide
        out = self.count * p
        out -= self.box_sum(ar) * r
        out -= self.box_sum(ag) * g
        out -= self.box_sum(ab) * b
        out -= self.box_sum(bias)
        return out

    def diagonal(self) -> Array:
        """diag(L): the sum over windows k of 1 - (1 + (I - mu_k)' D_k (I - mu_k)) / |w|."""
        i00, i01, i02, i11, i12, i22 = self.inv
        mr, mg, mb = self.mu
        v = self.valid
        dm = [
            i00 * mr + i01 * mg + i02 * mb,
            i01 * mr + i11 * mg + i12 * mb,
            i02 * mr + i12 * mg + i22 * mb,
        ]
        s0 = self.box_sum(v * (mr * dm[0] + mg * dm[1] + mb * dm[2]))
        s1 = [self.box_sum(v * d) for d in dm]
        s2 = [self.box_sum(v * d) for d in (i00, i01, i02, i11, i12, i22)]
        r, g, b = self.guide
        quad = s2[0] * r * r + s2[3] * g * g + s2[5] * b * b
        quad += 2 * (s2[1] * r * g + s2[2] * r * b + s2[4] * g * b)
        quad -= 2 * (s1[0] * r + s1[1] * g + s1[2] * b)
        quad += s0
        return self.count - (self.count + quad) / self.size


# --------------------------------------------------------------------------- solve


class _Mosaic:
    """The unknown tiles of a working-size image as a mosaic, with the guide and window data.

    Args:
        image: float32 (h, w, 3) in [0, 1].
        unknown: bool (h, w).
        radius: window radius.
        eps: Levin's regulariser.
        dtype: float type of the solve.
    """

    def __init__(
        self,
        image: FloatArray,
        unknown: NDArray[np.bool_],
        radius: int,
        eps: float,
        dtype: type[np.floating],
    ) -> None:
        h, w = unknown.shape
        t, halo = _TILE, 2 * radius
        self.dtype = dtype
        self.gh, self.gw = -(-h // t) * t + 2 * halo, -(-w // t) * t + 2 * halo
        self.inner = (slice(halo, halo + h), slice(halo, halo + w))
        self.tiles = _Tiles(_arrays.tile_flags(unknown, t), t, halo, self.gw, self.gh * self.gw)
        self.u = (self.cores(self.grid(unknown)) > 0.5) & self.tiles.real
        # Valid window centres: the whole window inside the image.
        inside = np.zeros((h, w), bool)
        inside[radius : h - radius, radius : w - radius] = True
        guide = [self.tiles.stack(self.grid(image[..., c])) for c in range(3)]
        # Each padded tile's guide less its mean colour: the filtered result is the same (no
        # window that a core reads crosses tiles) and float32 moments cancel far less.
        self.shift = []
        for g in guide:
            view = g.reshape(self.tiles.shape)
            mean = view.mean(axis=(1, 3), keepdims=True)
            view -= mean
            self.shift.append(mean)
        self.lap = _Laplacian(guide, self.tiles.stack(self.grid(inside)), radius, eps)

    def grid(self, x: NDArray[np.generic]) -> Array:
        """`x` (h, w) in the flat padded grid, which ends with one spare cell (see _Tiles)."""
        out = np.zeros(self.gh * self.gw + 1, self.dtype)
        out[:-1].reshape(self.gh, self.gw)[self.inner] = x
        return out

    def ungrid(self, flat: Array) -> FloatArray:
        """The (h, w) image of a flat padded grid, as a new float32 array."""
        return flat[:-1].reshape(self.gh, self.gw)[self.inner].astype(np.float32)

    def cores(self, flat: Array) -> Array:
        """The tiles' cores of a flat grid, shaped (rows, tile, cols, tile)."""
        return np.take(flat, self.tiles.core_index)

    def put(self, flat: Array, cores: Array) -> None:
        np.put(flat, self.tiles.put_index, cores)


def _dot(a: Array, b: Array) -> float:
    # Not np.vdot: its float64 BLAS call was a thousand times slower on a busy 2-core machine.
    return float(np.sum(a * b, dtype=np.float64))


def _solve(mosaic: _Mosaic, known: FloatArray, prior: FloatArray, weight: float, iterations: int) -> Array:
    """Minimise alpha' L alpha + weight * |w| * |alpha - prior|^2 over the unknown pixels.

    Args:
        mosaic: the working image's unknown tiles.
        known: float32 (h, w): the fixed alpha where not unknown.
        prior: float32 (h, w): the mask; also the conjugate gradients' starting point.
        weight: pull towards the prior, in units of the window size |w|.
        iterations: the most conjugate-gradient steps.

    Returns:
        alpha in the flat padded grid.
    """
    lap, u, tiles = mosaic.lap, mosaic.u, mosaic.tiles
    fixed = mosaic.grid(known)
    np.put(fixed, tiles.core_index[u], 0.0)
    x = np.where(u, mosaic.cores(mosaic.grid(prior)), 0.0).astype(mosaic.dtype)
    lam = weight * lap.size
    b = -np.ascontiguousarray(tiles.cores(lap.apply(mosaic.tiles.stack(fixed))))
    b += lam * x
    b[~u] = 0.0
    diag = np.ascontiguousarray(tiles.cores(lap.diagonal())) + lam
    precond = np.where(u & (diag > 0), 1.0 / np.maximum(diag, 1e-12), 0.0).astype(mosaic.dtype)
    work = np.zeros_like(fixed)

    def operator(p: Array) -> Array:
        mosaic.put(work, p)
        out = np.ascontiguousarray(tiles.cores(lap.apply(mosaic.tiles.stack(work))))
        out += lam * p
        out[~u] = 0.0
        return out

    res = b - operator(x)
    z = precond * res
    p = z.copy()
    rz = _dot(res, z)
    stop = _TOL * math.sqrt(max(_dot(b, b), 1e-30))
    for _ in range(iterations):
        if math.sqrt(_dot(res, res)) <= stop:
            break
        q = operator(p)
        step = rz / max(_dot(p, q), 1e-30)
        x += step * p
        res -= step * q
        z = precond * res
        rz_new = _dot(res, z)
        p *= rz_new / max(rz, 1e-30)
        p += z
        rz = rz_new
    np.clip(x, 0.0, 1.0, out=x)
    alpha = fixed
    np.put(alpha, tiles.core_index[u], x[u])
    return alpha


def _linear_model(mosaic: _Mosaic, alpha: Array) -> tuple[FloatArray, FloatArray]:
    """The guided-filter coefficients of alpha, averaged over each pixel's windows.

    Returns:
        A (h, w, 3) and b (h, w), alpha ~ A . I + b on the mosaic's tiles; A = 0 and b = alpha
        elsewhere.
    """
    lap, tiles = mosaic.lap, mosaic.tiles
    (ar, ag, ab), bias = lap.coefficients(mosaic.tiles.stack(alpha), lap.inverse(_UP_EPS))
    count = np.maximum(lap.count, 1.0)
    offset = lap.box_sum(bias) / count
    coef = []
    plane = np.zeros_like(alpha)
    for a, shift in zip((ar, ag, ab), mosaic.shift, strict=True):
        mean_a = lap.box_sum(a) / count
        # The guide was shifted by each tile's mean colour: b = b' - A . shift.
        offset -= (mean_a.reshape(tiles.shape) * shift).reshape(offset.shape)
        mosaic.put(plane, tiles.cores(mean_a))
        coef.append(mosaic.ungrid(plane))
    full = alpha.copy()
    mosaic.put(full, tiles.cores(offset))
    return np.dstack(coef), mosaic.ungrid(full)


def _work_factor(shape: tuple[int, int]) -> int:
    """The power of two the image is shrunk by so it has at most _WORK_PIXELS pixels."""
    k = 1
    while shape[0] * shape[1] > _WORK_PIXELS * k * k:
        k *= 2
    return k


def matte(
    rgb: NDArray[np.uint8],
    mask: NDArray[np.floating],
    *,
    trimap: NDArray[np.uint8] | None = None,
    band: int | None = None,
    mask_weight: float = 0.01,
    radius: int = 1,
    eps: float = 1e-5,
    iterations: int = 200,
) -> FloatArray:
    """Refine a mask's edges by alpha matting, solving alpha only in the trimap's unknown band.

    Alpha is 1 on the trimap's foreground and 0 on its background; in the unknown band it is
    the closed-form matting solution (Levin et al. 2008) with those values held fixed, pulled
    weakly towards the mask. With the default trimap, alpha therefore equals the mask thresholded
    at 0.5 outside the band. Photos over a megapixel are solved shrunk by a power of two, and the
    result carried back to full resolution along the image's edges.

    Args:
        rgb: RGB uint8 (H, W, 3).
        mask: float mask (H, W) in [0, 1], e.g. a segmenter's output.
        trimap: uint8 (H, W): 0 background, 255 foreground, anything else unknown; None to
            build one with `build_trimap(mask, band=band)`.
        band: half-width in pixels of the band when the trimap is built; None for the default
            rule (see `build_trimap`).
        mask_weight: >= 0, pull of alpha towards the mask, relative to the matting term; 0 is
            plain closed-form matting. The default was the best of 0, 0.003, 0.01, 0.03 and 0.1
            on ../shared/eval; plain matting did worst there (thin parts and lookalike colours).
        radius: matting window radius in working pixels, >= 1.
        eps: regulariser of the matting Laplacian, > 0 (Levin et al.'s epsilon, colours in
            [0, 1]); larger values give smoother alpha.
        iterations: the most conjugate-gradient steps, >= 1.

    Returns:
        float32 (H, W) in [0, 1].

    Raises:
        InputError: a wrongly shaped or typed array.
        OptionError: a bad option, or `band` given together with `trimap`.

    Example:
        >>> import numpy as np
        >>> rgb = np.zeros((40, 40, 3), np.uint8); rgb[:, 20:] = 255
        >>> mask = np.zeros((40, 40), np.float32); mask[:, 18:] = 1
        >>> alpha = matte(rgb, mask, band=5, mask_weight=0)
        >>> bool(alpha[:, :20].max() < 0.05), bool(alpha[:, 20:].min() > 0.95)
        (True, True)
    """
    img = _arrays.check_image(rgb, "rgb")
    m = np.clip(_arrays.check_mask(mask, "mask", img.shape[:2]), 0.0, 1.0)
    if trimap is None:
        tri = build_trimap(m, band=band)
    elif band is not None:
        raise OptionError("band applies only when the trimap is built: pass trimap or band")
    else:
        tri = _check_trimap(trimap, m.shape)
    weight = _arrays.number(mask_weight)
    if weight is None or weight < 0:
        raise OptionError(f"mask_weight must be a number >= 0, got {mask_weight!r}")
    if not _arrays.is_count(radius, 1):
        raise OptionError(f"radius must be an integer >= 1, got {radius!r}")
    e = _arrays.number(eps)
    if e is None or e <= 0:
        raise OptionError(f"eps must be a number > 0, got {eps!r}")
    if not _arrays.is_count(iterations, 1):
        raise OptionError(f"iterations must be an integer >= 1, got {iterations!r}")

    fg, bg = tri == FG, tri == BG
    unknown = ~(fg | bg)
    out = np.asarray(fg, np.float32)
    if not unknown.any():
        return out
    h, w = m.shape
    size = (2 * int(radius) + 1) ** 2
    dtype = np.float32 if e / size >= _FLOAT32_MIN_EPS else np.float64
    k = _work_factor((h, w))
    image = np.asarray(_arrays.shrink(img, k), np.float32) * np.float32(1 / 255)
    if k == 1:
        mosaic = _Mosaic(image, unknown, int(radius), e, dtype)
        alpha = mosaic.ungrid(_solve(mosaic, out, m, weight, int(iterations)))
        out[unknown] = alpha[unknown]
        return out

    # A working pixel is known only where all the k x k pixels it covers are.
    fg_w = _arrays.shrink(fg.astype(np.uint8) * np.uint8(255), k) == 255
    bg_w = _arrays.shrink(bg.astype(np.uint8) * np.uint8(255), k) == 255
    mosaic = _Mosaic(image, ~(fg_w | bg_w), int(radius), e, dtype)
    prior = np.asarray(_arrays.shrink(m, k), np.float32)
    alpha_w = _solve(mosaic, fg_w.astype(np.float32), prior, weight, int(iterations))
    coef, offset = _linear_model(mosaic, alpha_w)
    coef *= np.float32(1 / 255)
    ones = np.ones((1, 3), np.float32)
    flags = _arrays.tile_flags(unknown.view(np.uint8), _UP_TILE)
    for rect in _arrays.tile_rects(flags, _UP_TILE, h, w):
        y0, y1, x0, x1 = rect
        ai = cv2.multiply(_arrays.grow_crop(coef, k, rect), img[y0:y1, x0:x1], dtype=cv2.CV_32F)
        q = np.asarray(cv2.transform(ai, ones), np.float32)
        q += _arrays.grow_crop(offset, k, rect)
        np.clip(q, 0.0, 1.0, out=q)
        sel = unknown[y0:y1, x0:x1]
        out[y0:y1, x0:x1][sel] = q[sel]
    return out
