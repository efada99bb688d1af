"""Blending and backgrounds: exact arithmetic on tiny hand-made arrays, geometry, colours."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from mattekit.errors import InputError, OptionError
from mattekit.stages import _arrays, compose
from mattekit.stages.backgrounds import Color, Transparent

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _pixels(*rgb: tuple[int, int, int]) -> np.ndarray:
    """A 1xN RGB image from the given pixels."""
    return np.array([list(rgb)], np.uint8)


def _stripes(shape: tuple[int, int], axis: int, bounds: tuple[int, int]) -> np.ndarray:
    """Red, green, blue stripes along `axis`, changing at the two `bounds`."""
    img = np.empty((*shape, 3), np.uint8)
    index = [slice(None), slice(None)]
    for colour, (lo, hi) in zip(
        (RED, GREEN, BLUE), ((0, bounds[0]), bounds, (bounds[1], None)), strict=False
    ):
        index[axis] = slice(lo, hi)
        img[tuple(index)] = colour
    return img


def _disk_scene(
    size: int, fg: tuple[int, int, int], bg: tuple[int, int, int], edge: float
) -> tuple[np.ndarray, np.ndarray]:
    """A disk of colour fg on bg, with a linear soft edge `edge` pixels wide: (image, alpha)."""
    yy, xx = np.mgrid[:size, :size]
    dist = np.hypot(xx - size / 2, yy - size / 2) - size * 0.3
    alpha = np.clip(0.5 - dist / edge, 0, 1).astype(np.float32)
    a = alpha[..., None]
    image = np.rint(np.float32(fg) * a + np.float32(bg) * (1 - a)).astype(np.uint8)
    return image, alpha


# --------------------------------------------------------------------------- arithmetic


def test_over_color_exact_arithmetic() -> None:
    image = _pixels((7, 8, 9), (7, 8, 9), (101, 200, 0), (200, 0, 40))
    alpha = np.array([[0.0, 1.0, 0.5, 0.25]], np.float32)
    out = compose.over_color(image, alpha, (0, 100, 255))
    assert out.dtype == np.uint8
    assert out.tolist() == [
        [
            [0, 100, 255],  # alpha 0: the colour exactly
            [7, 8, 9],  # alpha 1: the image exactly
            [50, 150, 128],  # (101 + 0) / 2 = 50.5 and 127.5 round to even: 50, 128
            [50, 75, 201],  # 255 - 215 / 4 = 201.25
        ]
    ]


@pytest.mark.parametrize("spill", [False, True])
def test_blends_of_a_large_frame_are_exact(spill: bool) -> None:
    # Large enough for the blend's strips and its runs of columns where alpha is not 0 (and,
    # with alpha outside [0, 1], its clipped path): every pixel is the rounded formula.
    rng = np.random.default_rng(7)
    h, w = 150, 333
    image = rng.integers(0, 256, (h, w, 3), np.uint8)
    background = rng.integers(0, 256, (h, w, 3), np.uint8)
    alpha = np.zeros((h, w), np.float32)
    alpha[40:110, 50:300] = rng.random((70, 250), np.float32)
    alpha[60:90, 100:200] = 1.0
    alpha[100, 7] = 1e-7
    if spill:
        alpha[45, 60], alpha[46, 61] = 1.5, -0.5
    a = alpha[..., None]
    for bg, out in (
        (np.array((10, 200, 30), np.float32), compose.over_color(image, alpha, (10, 200, 30))),
        (np.float32(background), compose.over_image(image, alpha, background)),
    ):
        want = np.clip(np.rint(bg + (np.float32(image) - bg) * a), 0, 255)
        np.testing.assert_array_equal(out, want.astype(np.uint8))


def test_over_color_takes_text_and_foreground() -> None:
    image = _pixels((1, 2, 3), (1, 2, 3))
    foreground = _pixels((90, 90, 90), (90, 90, 90))
    alpha = np.array([[1.0, 0.0]], np.float32)
    out = compose.over_color(image, alpha, "#0a141e", foreground=foreground)
    assert out.tolist() == [[[90, 90, 90], [10, 20, 30]]]


def test_over_image_exact_arithmetic() -> None:
    image = _pixels((10, 20, 30), (10, 20, 30), (10, 21, 255))
    background = _pixels((200, 100, 0), (200, 100, 0), (0, 0, 0))
    alpha = np.array([[0.0, 1.0, 0.5]], np.float32)
    out = compose.over_image(image, alpha, background)
    assert out.tolist() == [[[200, 100, 0], [10, 20, 30], [5, 10, 128]]]


def test_cutout_is_rgba_with_the_8bit_mask() -> None:
    image = _pixels((1, 2, 3), (4, 5, 6), (7, 8, 9))
    alpha = np.array([[0.0, 0.2, 1.0]], np.float32)
    out = compose.cutout(image, alpha)
    assert out.shape == (1, 3, 4) and out.dtype == np.uint8
    assert out.tolist() == [[[0, 0, 0, 0], [4, 5, 6, 51], [7, 8, 9, 255]]]  # no colour under alpha 0
    foreground = _pixels((9, 9, 9), (9, 9, 9), (9, 9, 9))
    assert compose.cutout(image, alpha, foreground=foreground)[..., :3].max() == 9


def test_mask_to_l8_rounds_and_clips() -> None:
    alpha = np.array([[0.0, 0.2, 0.75, 0.999, 1.0, -0.5, 1.5]], np.float32)
    assert compose.mask_to_l8(alpha).tolist() == [[0, 51, 191, 255, 255, 0, 255]]


def test_mask_to_l8_on_a_large_mask_matches_numpy() -> None:
    # Large masks take the strip-by-strip path: the same rounding (float32, ties to even),
    # negatives and NaN to 0, over 1 to 255.
    rng = np.random.default_rng(7)
    alpha = rng.uniform(-0.3, 1.3, (301, 257)).astype(np.float32)
    alpha[0, :256] = (np.arange(256, dtype=np.float32) + 0.5) / np.float32(255)  # ties
    alpha[1, :2] = (np.nan, -np.inf)
    want = np.clip(np.rint(np.nan_to_num(alpha, nan=0.0, neginf=0.0) * np.float32(255)), 0, 255).astype(
        np.uint8
    )
    np.testing.assert_array_equal(compose.mask_to_l8(alpha), want)


def test_float64_alpha_is_accepted() -> None:
    image = _pixels((100, 100, 100))
    assert compose.over_color(image, np.array([[0.5]]), (0, 0, 0)).tolist() == [[[50, 50, 50]]]


# --------------------------------------------------------------------------- cover fit


@pytest.mark.parametrize(
    ("image_shape", "background", "expected"),
    [
        # Wider background than the image: same height, the side stripes are cut.
        ((10, 30), _stripes((10, 40), axis=1, bounds=(10, 30)), (1, (5, 25))),
        # Taller background than the image: same width, the top and bottom are cut.
        ((30, 10), _stripes((40, 10), axis=0, bounds=(10, 30)), (0, (5, 25))),
        # Shrunk 10x (area averaging) to 40 wide, then its middle 20 columns: all green.
        ((10, 20), _stripes((100, 400), axis=1, bounds=(100, 300)), (1, (0, 20))),
    ],
)
def test_over_image_covers_and_crops_the_centre(
    image_shape: tuple[int, int], background: np.ndarray, expected: tuple[int, tuple[int, int]]
) -> None:
    axis, (lo, hi) = expected
    image = np.zeros((*image_shape, 3), np.uint8)
    out = compose.over_image(image, np.zeros(image_shape, np.float32), background)
    want = _stripes(image_shape, axis, (lo, hi))
    np.testing.assert_array_equal(out, want)


def test_over_image_enlarges_a_small_background_to_cover() -> None:
    background = np.zeros((5, 10, 3), np.uint8)
    background[:, :5] = RED
    background[:, 5:] = BLUE
    # Scale max(20 / 10, 20 / 5) = 4 gives 40x20; the middle 20 columns stay.
    out = compose.over_image(np.zeros((20, 20, 3), np.uint8), np.zeros((20, 20), np.float32), background)
    assert out.shape == (20, 20, 3)
    assert (out[:, :5] == RED).all() and (out[:, -5:] == BLUE).all()
    assert 0 < out[0, 10, 0] < 255  # the red/blue boundary is in the middle, interpolated


# --------------------------------------------------------------------------- portrait blur


def test_over_blur_keeps_the_subject_and_does_not_smear_it() -> None:
    size, radius = 200, 12.0
    image = np.full((size, size, 3), 30, np.uint8)
    alpha = np.zeros((size, size), np.float32)
    cv2.circle(alpha, (100, 100), 40, 1.0, -1)
    image[alpha == 1] = (255, 250, 240)
    image[5:15, 5:15] = (0, 200, 0)  # some background detail for the blur to soften
    out = compose.over_blur(image, alpha, radius)
    np.testing.assert_array_equal(out[alpha == 1], image[alpha == 1])
    # Half a radius outside the disk: the background's own colour, no glow of the subject...
    probe = (100, 100 + 40 + 6)
    assert np.abs(out[probe].astype(int) - 30).max() <= 2
    # ...where a plain blur of the photo would glow (so the check above can fail).
    plain = cv2.GaussianBlur(image.astype(np.float32), (0, 0), radius)
    assert plain[probe].min() > 60
    # The background detail is blurred.
    assert out[10, 10, 1] < 150


def test_over_blur_matches_a_full_resolution_blur() -> None:
    # alpha 0 everywhere: the result is a plain Gaussian blur of the image, here worked at a
    # reduced size; it must look the same as the full-resolution blur.
    rng = np.random.default_rng(0)
    image = cv2.resize(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8), (320, 240))
    radius = 20.0
    out = compose.over_blur(image, np.zeros((240, 320), np.float32), radius)
    want = cv2.GaussianBlur(image.astype(np.float32), (0, 0), radius, borderType=cv2.BORDER_REFLECT)
    assert np.abs(out - want).max() <= 2


@pytest.mark.parametrize("hole", [False, True])
def test_over_blur_with_no_background_in_reach(hole: bool) -> None:
    # blur(1 - a) is exactly 0 where no background is within reach (everywhere when there is
    # none at all): the fallback must not divide by it.
    image = np.random.default_rng(4).integers(1, 256, (32, 400, 3), dtype=np.uint8)
    alpha = np.ones((32, 400), np.float32)
    if hole:
        alpha[14:18, 2:6] = 0.5  # background to blur, far from the right-hand end
    out = compose.over_blur(image, alpha, 3)
    np.testing.assert_array_equal(out[alpha == 1], image[alpha == 1])
    if hole:  # the hole shows a blend with the blurred photo around it, not a NaN (0)
        assert out[14:18, 2:6].min() > 0


def test_over_blur_rejects_a_bad_radius() -> None:
    image = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(OptionError, match=r"blur radius must be a number of pixels > 0, got 0"):
        compose.over_blur(image, np.zeros((4, 4), np.float32), 0)


# --------------------------------------------------------------------------- foreground


def _blur_fusion_reference(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Forte and Pitie's two-pass estimator, at full resolution, as in their paper."""
    img = image.astype(np.float64) / 255
    a = alpha.astype(np.float64)[..., None]

    def fuse(f: np.ndarray, b: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
        blur_a = cv2.blur(a, (r, r))[..., None]
        blur_f = cv2.blur(f * a, (r, r)) / (blur_a + 1e-5)
        blur_b = cv2.blur(b * (1 - a), (r, r)) / (1 - blur_a + 1e-5)
        return np.clip(blur_f + a * (img - a * blur_f - (1 - a) * blur_b), 0, 1), blur_b

    f, blur_b = fuse(img, img, 90)
    return fuse(f, blur_b, 6)[0] * 255


def test_estimate_foreground_removes_the_old_background_from_edges() -> None:
    fg, bg = (230, 200, 40), (20, 60, 200)
    image, alpha = _disk_scene(240, fg, bg, edge=12)
    out = compose.estimate_foreground(image, alpha)
    band = (alpha > 0.02) & (alpha < 0.98)
    raw_error = np.abs(image[band].astype(float) - fg).mean()
    error = np.abs(out[band].astype(float) - fg).mean()
    # Blur fusion is approximate (the paper's own estimator is off by about 8 here), but
    # the old background is mostly gone: the raw edge is off by about 87.
    assert raw_error > 80
    assert error < 12
    # The solid subject and the pure background keep their colours exactly.
    np.testing.assert_array_equal(out[alpha == 1], image[alpha == 1])
    np.testing.assert_array_equal(out[alpha == 0], image[alpha == 0])


def _paper_scene(size: int, edge: float) -> tuple[np.ndarray, np.ndarray]:
    """Smooth random subject and background colours, composited with a soft-edged disk."""
    rng = np.random.default_rng(1)
    fg = cv2.resize(rng.integers(120, 256, (4, 4, 3), dtype=np.uint8), (size, size))
    bg = cv2.resize(rng.integers(0, 120, (4, 4, 3), dtype=np.uint8), (size, size))
    _, alpha = _disk_scene(size, (0, 0, 0), (0, 0, 0), edge=edge)
    a = alpha[..., None]
    return np.rint(fg * a + bg * (1 - a)).astype(np.uint8), alpha


@pytest.mark.parametrize("edge", [16, 40])
def test_estimate_foreground_matches_the_paper(edge: float) -> None:
    # A 16-pixel edge takes the full-resolution narrow pass, a 40-pixel one the half-resolution one.
    image, alpha = _paper_scene(300, edge)
    band = (alpha > 0.5 / 255) & (alpha < 254.5 / 255)
    out = compose.estimate_foreground(image, alpha)
    want = _blur_fusion_reference(image, alpha)
    # The blurs are worked at reduced resolution: close to the paper, not bit-equal.
    assert np.abs(out[band] - want[band]).mean() < 1.5
    assert np.abs(out[band] - want[band]).max() < 8


def _reduced_reference(image: np.ndarray, alpha: np.ndarray, wide_band: bool) -> np.ndarray:
    """The estimate as documented, worked on the whole image at once: the wide pass at 1/f,
    the narrow one at 1/s, each enlarged bilinearly (cv2.resize) for the next."""
    h, w = alpha.shape
    s, f = compose._fg_factors(h, w, wide_band)
    wide, narrow = compose._FG_RADII
    k, n, eps = (round(wide / f),) * 2, (round(narrow / s),) * 2, np.float32(1e-5)

    def grow(x: np.ndarray, m: int, shape: tuple[int, ...]) -> np.ndarray:
        return cv2.resize(x, (x.shape[1] * m, x.shape[0] * m))[: shape[0], : shape[1]]

    def fuse(i: np.ndarray, a: np.ndarray, bf: np.ndarray, bb: np.ndarray) -> np.ndarray:
        return np.clip(bf + a * (i - a * bf - (1 - a) * bb), 0, 255)

    small = _arrays.shrink(image, f).astype(np.float32)
    a = _arrays.shrink(alpha, f)[..., None]
    blur_a = cv2.blur(a, k)[..., None]
    bf1 = cv2.blur(small * a, k) / (blur_a + eps)
    bb1 = cv2.blur(small * (1 - a), k) / (1 + eps - blur_a)
    a = _arrays.shrink(alpha, s)[..., None]
    bf1, bb1 = grow(bf1, f // s, a.shape), grow(bb1, f // s, a.shape)
    f1 = fuse(_arrays.shrink(image, s).astype(np.float32), a, bf1, bb1)
    blur_a = cv2.blur(a, n)[..., None]
    bf2 = cv2.blur(f1 * a, n) / (blur_a + eps)
    bb2 = cv2.blur(bb1 * (1 - a), n) / (1 + eps - blur_a)
    a = alpha[..., None]
    return fuse(image.astype(np.float32), a, grow(bf2, s, a.shape), grow(bb2, s, a.shape))


@pytest.mark.parametrize(("edge", "wide_band"), [(6, False), (40, True)])
def test_estimate_foreground_tiles_add_up_to_the_whole_image(edge: float, wide_band: bool) -> None:
    # Worked strip by strip over runs of soft columns, the estimate is what the whole-image
    # computation gives (up to float rounding): no seams. The size is no multiple of any tile.
    image, alpha = _paper_scene(300, edge)
    image, alpha = image[7:210, 3:290], alpha[7:210, 3:290]
    a8 = compose.mask_to_l8(alpha)
    band = (a8 > 0) & (a8 < 255)
    assert (compose._band_width(band.astype(np.uint8) * 255) >= compose._FG_WIDE_BAND) == wide_band
    out = compose.estimate_foreground(image, alpha)
    want = np.rint(_reduced_reference(image, alpha, wide_band))
    diff = np.abs(out[band] - want[band])
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01
    np.testing.assert_array_equal(out[~band], image[~band])


@pytest.mark.parametrize("edge", [6, 40])
def test_cutout_with_foreground_is_the_cutout_of_the_estimate(edge: float) -> None:
    image, alpha = _paper_scene(300, edge)
    image, alpha = image[5:250, 1:299], alpha[5:250, 1:299]
    out = compose.cutout_with_foreground(image, alpha)
    want = compose.cutout(image, alpha, foreground=compose.estimate_foreground(image, alpha))
    np.testing.assert_array_equal(out, want)


def test_cutout_with_foreground_exact_arithmetic() -> None:
    # Alpha that rounds to 0 or 255 keeps the cutout's own pixels exactly (nothing to
    # estimate: colour zeroed, or the image); one soft pixel gets the estimate.
    image = _pixels((10, 20, 30), (40, 50, 60), (70, 80, 90), (1, 2, 3), (200, 100, 50))
    alpha = np.array([[0.0, 1.0, 0.4 / 255, 254.6 / 255, 1.0]], np.float32)
    np.testing.assert_array_equal(compose.cutout_with_foreground(image, alpha), compose.cutout(image, alpha))
    assert compose.cutout_with_foreground(image, alpha).tolist() == [
        [[0, 0, 0, 0], [40, 50, 60, 255], [0, 0, 0, 0], [1, 2, 3, 255], [200, 100, 50, 255]]
    ]
    alpha[0, 2] = 0.5
    out = compose.cutout_with_foreground(image, alpha)
    assert out[0, 2].tolist() == [*compose.estimate_foreground(image, alpha)[0, 2].tolist(), 128]
    assert out[0, 2, :3].tolist() != [70, 80, 90]  # estimated, not the image's own colour
    np.testing.assert_array_equal(
        np.delete(out, 2, axis=1), np.delete(compose.cutout(image, alpha), 2, axis=1)
    )


def _real_scene(edge: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two bundled photos, the astronaut over the cat, through a wavy soft-edged mask."""
    fg = np.asarray(Image.open(EXAMPLES / "astronaut.jpg").convert("RGB"))
    h, w = fg.shape[:2]
    bg = compose.cover(np.asarray(Image.open(EXAMPLES / "chelsea.jpg").convert("RGB")), w, h)
    yy, xx = np.mgrid[:h, :w]
    radius = 170 + 12 * np.sin(9 * np.arctan2(yy - 230, xx - 256))
    alpha = np.clip(0.5 - (np.hypot(xx - 256, yy - 230) - radius) / edge, 0, 1).astype(np.float32)
    image = np.rint(fg * alpha[..., None] + bg * (1 - alpha[..., None])).astype(np.uint8)
    return image, alpha, fg


@pytest.mark.parametrize("edge", [4, 40])
def test_a_cutout_on_a_new_background_shows_no_halo(edge: float) -> None:
    # Put the cutout on green: at the edges the truth is the astronaut's own colours over
    # green. Without the estimate the cat shows through (a halo); with it, the error is what
    # the paper's full-resolution estimator leaves on these photos, not more.
    image, alpha, fg = _real_scene(edge)
    green = np.array([0, 255, 0], np.float32)
    a = alpha[..., None]
    truth = fg * a + green * (1 - a)
    band = (alpha > 0.05) & (alpha < 0.95)

    def error(rgba: np.ndarray) -> float:
        a8 = rgba[..., 3:].astype(np.float32) / 255
        return float(np.abs(rgba[..., :3] * a8 + green * (1 - a8) - truth)[band].mean())

    def shown(colours: np.ndarray) -> np.ndarray:
        return np.dstack([np.rint(colours).astype(np.uint8), compose.mask_to_l8(alpha)])

    raw = error(compose.cutout(image, alpha))
    paper = error(shown(_blur_fusion_reference(image, alpha)))
    estimated = error(compose.cutout_with_foreground(image, alpha))
    assert raw > 12
    assert estimated <= 1.02 * paper
    assert estimated < (0.6 if edge == 4 else 0.92) * raw


def test_backgrounds_compose_with_the_estimate() -> None:
    image, alpha = _disk_scene(80, (230, 200, 40), (20, 60, 200), edge=10)
    foreground = compose.estimate_foreground(image, alpha)
    np.testing.assert_array_equal(
        Transparent().compose_estimating(image, alpha), compose.cutout(image, alpha, foreground=foreground)
    )
    np.testing.assert_array_equal(
        Color((0, 255, 0)).compose_estimating(image, alpha),
        compose.over_color(image, alpha, (0, 255, 0), foreground=foreground),
    )


def test_estimate_foreground_of_a_hard_mask_is_the_image() -> None:
    image = np.random.default_rng(2).integers(0, 256, (50, 60, 3), dtype=np.uint8)
    alpha = np.zeros((50, 60), np.float32)
    alpha[10:40, 10:30] = 1
    np.testing.assert_array_equal(compose.estimate_foreground(image, alpha), image)


# --------------------------------------------------------------------------- colours


@pytest.mark.parametrize(
    ("text", "rgb"),
    [
        ("white", (255, 255, 255)),
        ("  Red ", (255, 0, 0)),
        ("rebeccapurple", (102, 51, 153)),
        ("#0f0", (0, 255, 0)),
        ("#1E90FF", (30, 144, 255)),
    ],
)
def test_parse_color(text: str, rgb: tuple[int, int, int]) -> None:
    assert compose.parse_color(text) == rgb


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "whte",
            (
                "unknown colour 'whte' (did you mean 'white'?); "
                "use a name like 'white' or a hex code like '#00ff00'"
            ),
        ),
        ("#12", "unknown colour '#12'; use a name like 'white' or a hex code like '#00ff00'"),
        ("#00ff00ff", "unknown colour '#00ff00ff'; use a name like"),
        ("rgb(1,2,3)", "unknown colour 'rgb(1,2,3)'; use a name like"),
    ],
)
def test_parse_color_errors(text: str, message: str) -> None:
    with pytest.raises(OptionError) as info:
        compose.parse_color(text)
    assert str(info.value).startswith(message)


def test_over_color_rejects_a_bad_tuple() -> None:
    image = np.zeros((1, 1, 3), np.uint8)
    with pytest.raises(OptionError, match=r"three integers in 0\.\.255, got \(0, 0, 256\)"):
        compose.over_color(image, np.zeros((1, 1), np.float32), (0, 0, 256))


# --------------------------------------------------------------------------- inputs


def test_wrong_alpha_shape_is_an_input_error() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    with pytest.raises(InputError, match=r"^alpha must have shape \(H, W\) = \(480, 640\), got \(10, 10\)$"):
        compose.cutout(image, np.zeros((10, 10), np.float32))
    with pytest.raises(InputError, match=r"^alpha must have shape \(H, W\) = \(480, 640\), got \(10, 10\)$"):
        compose.cutout_with_foreground(image, np.zeros((10, 10), np.float32))


@pytest.mark.parametrize(
    ("image", "alpha", "message"),
    [
        (
            np.zeros((4, 4), np.uint8),
            np.zeros((4, 4), np.float32),
            (
                r"image must be an RGB uint8 array of shape \(H, W, 3\), got uint8 array of shape "
                r"\(4, 4\)"
            ),
        ),
        (
            np.zeros((4, 4, 3), np.float32),
            np.zeros((4, 4), np.float32),
            r"image must be an RGB uint8 array .* got float32 array",
        ),
        (
            np.zeros((4, 4, 3), np.uint8),
            np.zeros((4, 4), np.uint8),
            (
                r"alpha must be a float array with values in \[0, 1\], got uint8; convert an 8-bit "
                r"mask with mask.astype\(np.float32\) / 255"
            ),
        ),
        (np.zeros((4, 4, 3), np.uint8), [[0.0]], r"alpha must be a float32 array .* got list"),
    ],
)
def test_bad_arrays_are_input_errors(image: object, alpha: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        compose.over_color(image, alpha, "white")  # type: ignore[arg-type]


def test_foreground_must_match_the_image() -> None:
    image = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(InputError, match=r"foreground must have shape .* \(4, 4, 3\), got \(4, 5, 3\)"):
        compose.cutout(image, np.zeros((4, 4), np.float32), foreground=np.zeros((4, 5, 3), np.uint8))


def test_inputs_are_never_changed() -> None:
    image, alpha = _disk_scene(64, (200, 30, 30), (10, 10, 90), edge=6)
    background = np.full((20, 30, 3), 99, np.uint8)
    foreground = image[::-1].copy()
    arrays = (image, alpha, background, foreground)
    copies = [a.copy() for a in arrays]
    for a in arrays:
        a.flags.writeable = False  # writing into an input raises
    compose.estimate_foreground(image, alpha)
    compose.cutout_with_foreground(image, alpha)
    compose.cutout(image, alpha, foreground=foreground)
    compose.mask_to_l8(alpha)
    compose.over_color(image, alpha, "white", foreground=foreground)
    compose.over_image(image, alpha, background, foreground=foreground)
    compose.over_blur(image, alpha, 9, foreground=foreground)
    for a, c in zip(arrays, copies, strict=False):
        np.testing.assert_array_equal(a, c)
