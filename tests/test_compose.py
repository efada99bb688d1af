"""Blending and backgrounds: exact arithmetic on tiny hand-made arrays, geometry, colours."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mattekit.errors import InputError, OptionError
from mattekit.stages import compose

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


def test_estimate_foreground_matches_the_paper() -> None:
    rng = np.random.default_rng(1)
    fg = cv2.resize(rng.integers(120, 256, (4, 4, 3), dtype=np.uint8), (300, 300))
    bg = cv2.resize(rng.integers(0, 120, (4, 4, 3), dtype=np.uint8), (300, 300))
    _, alpha = _disk_scene(300, (0, 0, 0), (0, 0, 0), edge=16)
    a = alpha[..., None]
    image = np.rint(fg * a + bg * (1 - a)).astype(np.uint8)
    band = (alpha > 0.5 / 255) & (alpha < 254.5 / 255)
    out = compose.estimate_foreground(image, alpha)
    want = _blur_fusion_reference(image, alpha)
    # The wide pass is worked at reduced resolution: close to the paper, not bit-equal.
    assert np.abs(out[band] - want[band]).mean() < 1.5
    assert np.abs(out[band] - want[band]).max() < 8


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
    compose.cutout(image, alpha, foreground=foreground)
    compose.mask_to_l8(alpha)
    compose.over_color(image, alpha, "white", foreground=foreground)
    compose.over_image(image, alpha, background, foreground=foreground)
    compose.over_blur(image, alpha, 9, foreground=foreground)
    for a, c in zip(arrays, copies, strict=False):
        np.testing.assert_array_equal(a, c)
