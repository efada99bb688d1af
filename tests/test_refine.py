"""Mask post-processing: guided filter, edge-aware upsampling, feather, threshold, morphology."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mattekit.errors import InputError, OptionError
from mattekit.stages import _arrays, refine


def _iou(mask: np.ndarray, truth: np.ndarray) -> float:
    m = mask >= 0.5
    return float((m & truth).sum() / (m | truth).sum())


def _step_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 128x128 photo whose colour steps at x = 44, and a blocky 16x16 mask stepping at 48."""
    image = np.empty((128, 128, 3), np.uint8)
    image[:, :44] = (30, 40, 50)
    image[:, 44:] = (220, 210, 200)
    noise = np.random.default_rng(0).integers(-8, 9, image.shape)
    image = np.clip(image + noise, 0, 255).astype(np.uint8)
    small = np.zeros((16, 16), np.float32)
    small[:, 6:] = 1  # each mask pixel is 8 image pixels: its edge falls at x = 48
    truth = np.zeros((128, 128), bool)
    truth[:, 44:] = True
    return image, small, truth


# --------------------------------------------------------------------------- guided filter


def _guided_reference(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """He et al.'s colour guided filter, one pixel at a time (float64, edge-replicated)."""
    h, w = src.shape

    def pad(x: np.ndarray) -> np.ndarray:
        return np.pad(x, [(r, r), (r, r)] + [(0, 0)] * (x.ndim - 2), mode="symmetric")

    g, p = pad(guide.astype(np.float64)), pad(src.astype(np.float64))
    a = np.zeros((h + 2 * r, w + 2 * r, 3))
    b = np.zeros((h + 2 * r, w + 2 * r))
    for y in range(r, h + r):
        for x in range(r, w + r):
            gi = g[y - r : y + r + 1, x - r : x + r + 1].reshape(-1, 3)
            pi = p[y - r : y + r + 1, x - r : x + r + 1].ravel()
            cov = np.cov(gi.T, bias=True) + eps * np.eye(3)
            cross = (gi * pi[:, None]).mean(0) - gi.mean(0) * pi.mean()
            a[y, x] = np.linalg.solve(cov, cross)
            b[y, x] = pi.mean() - a[y, x] @ gi.mean(0)
    # Average the coefficients over each window of the interior pixels.
    out = np.zeros((h, w))
    for y in range(r, h + r):
        for x in range(r, w + r):
            wa = a[y - r : y + r + 1, x - r : x + r + 1].reshape(-1, 3).mean(0)
            wb = b[y - r : y + r + 1, x - r : x + r + 1].mean()
            out[y - r, x - r] = wa @ g[y, x] + wb
    return out


def test_colour_guided_filter_matches_the_per_pixel_formula() -> None:
    rng = np.random.default_rng(3)
    guide = rng.random((9, 9, 3)).astype(np.float32)
    src = rng.random((9, 9)).astype(np.float32)
    out = refine.guided_filter(guide, src, 1, 1e-2)
    want = _guided_reference(guide, src, 1, 1e-2)
    # Away from the border (where padding conventions differ) the two agree.
    np.testing.assert_allclose(out[2:-2, 2:-2], want[2:-2, 2:-2], atol=1e-4)


@pytest.mark.parametrize("colour", [True, False])
def test_guided_filter_keeps_the_guides_edge(colour: bool) -> None:
    grey = np.zeros((40, 40), np.float32)
    grey[:, 20:] = 1
    guide = np.repeat(grey[..., None], 3, axis=2) if colour else grey
    noisy = grey + np.random.default_rng(0).normal(0, 0.1, grey.shape).astype(np.float32)
    out = refine.guided_filter(guide, noisy, 4, 1e-3)
    assert np.abs(out - grey).max() < 0.1  # the noise is gone, the step is kept
    assert out[:, 20].min() - out[:, 19].max() > 0.8
    smooth = cv2.blur(noisy, (9, 9))
    assert smooth[:, 20].min() - smooth[:, 19].max() < 0.5  # which a plain blur would not


def test_guided_filter_takes_a_uint8_grey_photo_as_colour_guide() -> None:
    # Equal channels make the guide's colour covariance singular but for eps: the solve must
    # stay accurate in float32 there (a cofactor inverse was off by 0.03 at this edge).
    guide = np.zeros((20, 20, 3), np.uint8)
    guide[:, 10:] = 255
    src = (guide[..., 0] / 255).astype(np.float32)
    np.testing.assert_allclose(refine.guided_filter(guide, src, 2, 1e-4), src, atol=1e-3)


def test_guided_filter_rejects_bad_options() -> None:
    guide, src = np.zeros((8, 8), np.float32), np.zeros((8, 8), np.float32)
    with pytest.raises(OptionError, match=r"radius must be an integer >= 1, got 0"):
        refine.guided_filter(guide, src, 0, 1e-4)
    with pytest.raises(OptionError, match=r"eps must be a number > 0, got -1"):
        refine.guided_filter(guide, src, 2, -1)
    with pytest.raises(InputError, match=r"guide must have shape \(H, W\) = \(8, 8\), got \(8, 9\)"):
        refine.guided_filter(np.zeros((8, 9), np.float32), src, 2, 1e-4)


# --------------------------------------------------------------------------- upsampling


def test_guided_upsampling_puts_the_edge_on_the_image_edge() -> None:
    image, small, truth = _step_scene()
    guided = refine.upsample_mask(small, image)
    bilinear = refine.upsample_mask(small, image, method="bilinear")
    assert guided.shape == (128, 128) and guided.dtype == np.float32
    # The edge is on the image's step (x = 44), and it is a step, not a ramp...
    np.testing.assert_array_equal(guided >= 0.5, truth)
    assert (guided[:, 44] - guided[:, 43]).min() > 0.5
    # ...where plain bilinear upsampling follows the mask's blocks (x = 48).
    assert _iou(bilinear, truth) < 0.97
    assert _iou(guided, truth) > _iou(bilinear, truth)


def test_bilinear_upsampling_is_a_plain_resize() -> None:
    small = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    image = np.zeros((50, 70, 3), np.uint8)
    out = refine.upsample_mask(small, image, method="bilinear")
    np.testing.assert_allclose(out, cv2.resize(small, (70, 50)), atol=1e-6)


@pytest.mark.parametrize(("image_shape", "mask_shape"), [((333, 517), (64, 64)), ((90, 90), (256, 256))])
def test_upsampling_any_sizes(image_shape: tuple[int, int], mask_shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (*image_shape, 3), dtype=np.uint8)
    small = rng.random(mask_shape).astype(np.float32)
    out = refine.upsample_mask(small, image)
    assert out.shape == image_shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize(("height", "width"), [(1600, 1600), (1001, 1603)])
def test_fast_path_matches_the_plain_fast_guided_filter(height: int, width: int) -> None:
    # The sparse shortcuts (flat mask areas, quiet tiles) must stay within half an 8-bit
    # level of the fast guided filter computed everywhere. 1600 is a multiple of the working
    # factor (one resize writes the output); 1001 x 1603 is not (strips, partial blocks).
    mask_size = 512
    yy, xx = np.mgrid[:height, :width]
    inside = np.hypot(xx - width / 2, yy - 0.44 * height) < 0.28 * min(height, width)
    rng = np.random.default_rng(5)
    image = np.where(inside[..., None], (200, 120, 90), (40, 90, 60)).astype(np.int16)
    image = np.clip(image + rng.integers(-12, 13, image.shape), 0, 255).astype(np.uint8)
    small = cv2.resize(inside.astype(np.float32), (mask_size, mask_size), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 1.5)
    out = refine.upsample_mask(small, image)
    assert out.shape == (height, width) and out.dtype == np.float32

    k = refine._work_factor(small.shape, image.shape[:2])
    guide = _arrays.shrink(image, k).astype(np.float32) / 255
    h, w = guide.shape[:2]
    p = cv2.resize(small, (w, h), interpolation=cv2.INTER_AREA)
    a, b = refine._guided_coefficients(guide, p, refine._WORK_RADIUS, 1e-4)
    a_full = cv2.resize(a, (w * k, h * k))[:height, :width]
    b_full = cv2.resize(b, (w * k, h * k))[:height, :width]
    want = np.clip((a_full * image / np.float32(255)).sum(axis=2) + b_full, 0, 1)
    assert k > 1
    assert np.abs(out - want).max() < 0.5 / 255


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("k", [2, 4, 16])
def test_shrink_is_the_padded_image_halved(dtype: type, k: int) -> None:
    # Only the last, partial blocks are padded (by repeating the last row and column), but
    # the result is that of padding the whole image and halving it, as OpenCV's area
    # averaging does: the same for uint8, within float rounding for float32.
    rng = np.random.default_rng(k)
    for shape in [(64, 48, 3), (67, 50, 3), (5, 33), (16, 3), (1, 1)]:
        image = (rng.random(shape) * 255).astype(dtype)
        h, w = shape[:2]
        want = cv2.copyMakeBorder(image, 0, -h % k, 0, -w % k, cv2.BORDER_REPLICATE)
        for _ in range(k.bit_length() - 1):
            want = cv2.resize(want, (want.shape[1] // 2, want.shape[0] // 2), interpolation=cv2.INTER_AREA)
        got = _arrays.shrink(image, k)
        assert got.shape == want.shape and got.dtype == image.dtype
        if dtype == np.uint8:
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_upsample_mask_rejects_bad_options() -> None:
    image, small = np.zeros((8, 8, 3), np.uint8), np.zeros((4, 4), np.float32)
    with pytest.raises(OptionError, match=r"unknown method 'nearest'; use one of guided, bilinear"):
        refine.upsample_mask(small, image, method="nearest")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"radius must be an integer >= 1, got 2.5"):
        refine.upsample_mask(small, image, radius=2.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"mask_small must be a float array .* got uint8"):
        refine.upsample_mask(small.astype(np.uint8), image)


# --------------------------------------------------------------------------- helpers


def test_feather_softens_only_the_edge() -> None:
    alpha = np.zeros((1, 41), np.float32)
    alpha[0, 20:] = 1
    out = refine.feather(alpha, 3)
    assert out[0, 0] == 0 and out[0, -1] == pytest.approx(1)  # far from the edge: unchanged
    assert 0.1 < out[0, 19] < 0.5 < out[0, 20] < 0.9  # at the edge: soft, centred
    assert np.all(np.diff(out[0]) >= 0)
    np.testing.assert_array_equal(refine.feather(alpha, 0), alpha)
    with pytest.raises(OptionError, match=r"px must be a number >= 0, got -1"):
        refine.feather(alpha, -1)


def test_threshold() -> None:
    alpha = np.array([[0.0, 0.3, 0.5, 0.7, 1.0]], np.float32)
    assert refine.threshold(alpha).tolist() == [[0, 0, 1, 1, 1]]
    assert refine.threshold(alpha, 0.8).tolist() == [[0, 0, 0, 0, 1]]
    with pytest.raises(OptionError, match=r"threshold must be in \(0, 1\], got 0"):
        refine.threshold(alpha, 0)


def test_erode_and_dilate() -> None:
    square = np.zeros((15, 15), np.float32)
    square[3:12, 3:12] = 1  # 9x9
    eroded = refine.erode(square, 1)
    assert eroded.sum() == 49 and eroded[4:11, 4:11].all()  # 7x7
    dot = np.zeros((15, 15), np.float32)
    dot[7, 7] = 1
    grown = refine.dilate(dot, 3)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)).astype(np.float32)
    np.testing.assert_array_equal(grown[4:11, 4:11], disk)  # a disk of radius 3...
    assert grown.sum() == disk.sum()  # ...and nothing else
    assert grown[7, 4] == 1 and grown[4, 4] == 0  # round, not square
    # Soft values are kept: grey-level morphology, not a threshold.
    soft = dot * 0.4
    assert refine.dilate(soft, 1).max() == pytest.approx(0.4)
    np.testing.assert_array_equal(refine.erode(square, 0), square)
    with pytest.raises(OptionError, match=r"px must be an integer number of pixels >= 0, got 1.5"):
        refine.dilate(dot, 1.5)  # type: ignore[arg-type]


def test_inputs_are_never_changed() -> None:
    image, small, _ = _step_scene()
    alpha = refine.upsample_mask(small, image, method="bilinear")
    arrays = (image, small, alpha)
    copies = [a.copy() for a in arrays]
    for a in arrays:
        a.flags.writeable = False  # writing into an input raises
    refine.upsample_mask(small, image)
    refine.upsample_mask(small, image, method="bilinear")
    refine.guided_filter(image, alpha, 2, 1e-3)
    refine.feather(alpha, 2)
    refine.feather(alpha, 0)
    refine.threshold(alpha)
    refine.erode(alpha, 2)
    refine.dilate(alpha, 2)
    for a, c in zip(arrays, copies, strict=False):
        np.testing.assert_array_equal(a, c)
