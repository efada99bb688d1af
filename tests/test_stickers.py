"""Stickers: crop boxes, margins, outline geometry, shadows, "over" arithmetic, option errors."""

from __future__ import annotations

import doctest
from collections.abc import Callable

import numpy as np
import pytest

from mattekit.errors import InputError, OptionError
from mattekit.stages import stickers

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def _disc(
    shape: tuple[int, int], centre: tuple[int, int], radius: int, rgb: tuple[int, int, int] = RED
) -> np.ndarray:
    """An opaque disc (pixel centres within `radius` of `centre` = (x, y)) on transparency."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    inside = np.hypot(xx - centre[0], yy - centre[1]) <= radius
    rgba = np.zeros((*shape, 4), np.uint8)
    rgba[inside] = (*rgb, 255)
    return rgba


# --------------------------------------------------------------------------- boxes and crops


def test_subject_box_of_a_disc_is_exact() -> None:
    rgba = _disc((60, 80), (30, 25), 10)
    assert stickers.subject_box(rgba[..., 3]) == (20, 15, 41, 36)
    alpha = rgba[..., 3].astype(np.float32) / 255
    assert stickers.subject_box(alpha) == (20, 15, 41, 36)


def test_subject_box_ignores_alpha_at_or_below_the_threshold() -> None:
    alpha = np.zeros((10, 10), np.uint8)
    alpha[4, 4] = 255
    alpha[0, 9] = 7  # faint noise: 7 / 255 < 0.03
    assert stickers.subject_box(alpha) == (4, 4, 5, 5)
    assert stickers.subject_box(alpha, threshold=0) == (4, 0, 10, 5)
    alpha[0, 9] = 8  # 8 / 255 > 0.03
    assert stickers.subject_box(alpha) == (4, 0, 10, 5)


def test_subject_box_is_none_without_a_subject() -> None:
    assert stickers.subject_box(np.zeros((5, 7), np.uint8)) is None
    assert stickers.subject_box(np.full((5, 7), 0.02, np.float32)) is None


def test_crop_to_subject_cuts_the_box_exactly() -> None:
    rgba = _disc((60, 80), (30, 25), 10)
    rgba[25, 30] = (1, 2, 3, 255)
    out = stickers.crop_to_subject(rgba)
    assert out.shape == (21, 21, 4)
    assert np.array_equal(out, rgba[15:36, 20:41])
    out = stickers.crop_to_subject(rgba, 3)
    assert out.shape == (27, 27, 4)
    assert np.array_equal(out, rgba[12:39, 17:44])


def test_crop_margin_extends_the_canvas_past_the_borders() -> None:
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[0:4, 25:30] = (10, 20, 30, 255)  # touches the top and right borders
    out = stickers.crop_to_subject(rgba, 6)
    assert out.shape == (4 + 12, 5 + 12, 4)
    assert np.array_equal(out[6:10, 6:11], rgba[0:4, 25:30])
    # Inside the picture the margin is the picture; past its edges, transparent.
    assert np.array_equal(out[10:16, 0:6], rgba[4:10, 19:25])
    assert not out[0:6].any() and not out[:, 11:].any()


def test_crop_margin_in_pixels_text_and_percent() -> None:
    rgba = np.zeros((100, 100, 4), np.uint8)
    rgba[40:60, 30:70] = 255  # box 40 x 20: longer side 40
    assert stickers.crop_to_subject(rgba, "10%").shape == (20 + 8, 40 + 8, 4)
    assert stickers.crop_to_subject(rgba, " 3px ").shape == (26, 46, 4)
    assert stickers.crop_to_subject(rgba, 2.6).shape == (26, 46, 4)


def test_crop_of_an_empty_cutout_is_a_transparent_canvas_of_the_input_size() -> None:
    rgba = np.zeros((12, 9, 4), np.uint8)
    rgba[3, 3] = (200, 200, 200, 5)  # below the threshold
    out = stickers.crop_to_subject(rgba, 4)
    assert out.shape == (12, 9, 4) and not out.any()
    assert not stickers.make_sticker(rgba, outline=5, shadow=True).any()


# --------------------------------------------------------------------------- "over"


def test_over_exact_arithmetic() -> None:
    front = np.array(
        [[[200, 100, 0, 128], [10, 20, 30, 0], [1, 2, 3, 0], [9, 9, 9, 255], [50, 50, 50, 51]]],
        np.uint8,
    )
    back = np.array(
        [[[0, 0, 255, 128], [7, 7, 7, 0], [50, 60, 70, 255], [1, 1, 1, 10], [0, 0, 0, 0]]],
        np.uint8,
    )
    assert stickers.over(front, back).tolist() == [
        [
            # a = 0.502 + 0.502 * 0.498 = 0.752 (191.75); rgb = (200 * 0.502 + 0) / 0.752 ...
            [134, 67, 85, 192],
            [0, 0, 0, 0],  # nothing shows: colour zeroed
            [50, 60, 70, 255],  # transparent front: the back
            [9, 9, 9, 255],  # opaque front: the front
            [50, 50, 50, 51],  # transparent back: the front as is
        ]
    ]


def test_over_checks_its_inputs() -> None:
    a = np.zeros((2, 2, 4), np.uint8)
    with pytest.raises(InputError, match=r"back must have the shape of front, \(2, 2, 4\)"):
        stickers.over(a, np.zeros((2, 3, 4), np.uint8))
    with pytest.raises(InputError, match=r"front must be an RGBA uint8 array of shape \(H, W, 4\)"):
        stickers.over(np.zeros((2, 2, 3), np.uint8), a)


# --------------------------------------------------------------------------- outline


def test_outline_width_along_a_row_a_column_and_a_diagonal() -> None:
    r, w = 20, 6
    rgba = _disc((60, 60), (30, 30), r)
    out = stickers.add_outline(rgba, w, "white")
    assert out.shape == (60 + 2 * w, 60 + 2 * w, 4)
    c = 30 + w  # the centre, on the grown canvas
    row, col = out[c], out[:, c]
    for line in (row, col):
        for x in range(c - r, c + r + 1):
            assert line[x].tolist() == [*RED, 255]
        for x in [*range(c + r + 1, c + r + w + 1), *range(c - r - w, c - r)]:
            assert line[x].tolist() == [*WHITE, 255]
        assert line[c + r + w + 1].tolist() == [0, 0, 0, 0]
        assert line[c - r - w - 1].tolist() == [0, 0, 0, 0]
    # Round, not square: along the diagonal the outline also ends about r + w from the centre.
    k = np.arange(60 + 2 * w)
    diagonal_alpha = out[k, k, 3]
    dist = np.hypot(k - c, k - c)
    assert (diagonal_alpha[dist <= r + w - 1] == 255).all()
    assert (diagonal_alpha[dist >= r + w + 1.5] == 0).all()


def test_outline_edge_is_anti_aliased_for_a_fractional_width() -> None:
    rgba = _disc((40, 40), (20, 20), 10)
    out = stickers.add_outline(rgba, 2.5, BLUE)
    c = 20 + 3
    # 1 and 2 pixels out: covered; 3 pixels out: half (2.5 + 1 - 3); 4: none.
    assert out[c, c + 12, 3] == 255 and out[c, c + 12, :3].tolist() == list(BLUE)
    assert 120 <= out[c, c + 13, 3] <= 135 and out[c, c + 13, :3].tolist() == list(BLUE)
    assert out[c, c + 14, 3] == 0


def test_outline_keeps_the_subject_and_blends_its_soft_edge_into_the_colour() -> None:
    rgba = _disc((50, 50), (25, 25), 12)
    rng = np.random.default_rng(1)
    opaque = rgba[..., 3] == 255
    rgba[opaque, :3] = rng.integers(0, 256, (int(opaque.sum()), 3), dtype=np.uint8)
    rgba[25, 38] = (200, 100, 0, 128)  # a soft edge pixel next to the disc
    before = rgba.copy()
    out = stickers.add_outline(rgba, 4, BLUE)
    assert np.array_equal(rgba, before)  # input unchanged
    inner = out[4:54, 4:54]
    assert np.array_equal(inner[opaque], rgba[opaque])
    # (200, 100, 0) at alpha 128/255 over opaque blue: exact "over".
    assert inner[25, 38].tolist() == [100, 50, 127, 255]


def test_outline_is_not_clipped_at_the_border_and_zero_width_is_a_copy() -> None:
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[:, 0:3] = (0, 255, 0, 255)  # touches the left border
    out = stickers.add_outline(rgba, 5, "#ff00ff")
    assert out.shape == (20, 20, 4)
    assert out[10, 0:5].tolist() == [[255, 0, 255, 255]] * 5
    assert out[10, 5].tolist() == [0, 255, 0, 255]
    same = stickers.add_outline(rgba, 0)
    assert np.array_equal(same, rgba) and same is not rgba


# --------------------------------------------------------------------------- shadow


def test_shadow_is_offset_behind_and_fainter_than_its_opacity() -> None:
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[10:30, 10:30] = (30, 200, 90, 255)
    out = stickers.add_shadow(rgba, offset=(14, 12), blur=2, opacity=0.6)
    # Reach 3 * 2 = 6: grown 0 left, 20 right, 0 top, 18 bottom.
    assert out.shape == (40 + 18, 40 + 20, 4)
    assert np.array_equal(out[:40, :40][rgba[..., 3] == 255], rgba[rgba[..., 3] == 255])
    # Below right of the square, where the moved square (x 24..43, y 22..41) lies: black shadow,
    # 0.6 * 255 = 153 where the blur (sigma 2) does not reach the moved square's edges ...
    assert out[34, 36].tolist() == [0, 0, 0, 153]
    # ... and fainter near them, where it is blurred.
    assert 0 < out[42, 36, 3] < 100 and out[42, 36, :3].tolist() == [0, 0, 0]
    assert 0 < out[34, 45, 3] < 100
    # Above left of the square, away from the offset: nothing.
    assert out[5, 5].tolist() == [0, 0, 0, 0]


def test_hard_shadow_has_the_exact_opacity_and_colour() -> None:
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[2:5, 2:5] = (1, 2, 3, 255)
    out = stickers.add_shadow(rgba, offset=(-2, 2), blur=0, opacity=0.25, color="red")
    assert out.shape == (12, 12, 4)  # grown 2 left, 2 bottom
    assert out[2, 4].tolist() == [1, 2, 3, 255]  # the subject, moved by the growth only
    assert out[4, 4].tolist() == [1, 2, 3, 255]  # the subject covers its shadow
    assert out[5, 3].tolist() == [255, 0, 0, 64]  # 0.25 * 255 = 63.75
    assert out[4, 3].tolist() == [255, 0, 0, 64]
    assert out[1, 3].tolist() == [0, 0, 0, 0] and out[7, 4].tolist() == [0, 0, 0, 0]


# --------------------------------------------------------------------------- recipe


def test_make_sticker_crops_outlines_and_adds_the_margin() -> None:
    rgba = _disc((100, 120), (10, 50), 8)  # touches the left border
    out = stickers.make_sticker(rgba, margin=4, outline=3)
    assert out.shape == (17 + 6 + 8, 17 + 6 + 8, 4)
    alpha = out[..., 3]
    assert not alpha[:4].any() and not alpha[-4:].any()
    assert not alpha[:, :4].any() and not alpha[:, -4:].any()
    assert alpha[4:-4, 4:-4].any(axis=0).all() and alpha[4:-4, 4:-4].any(axis=1).all()
    assert out[15, 15].tolist() == [*RED, 255]
    assert out[15, 5].tolist() == [*WHITE, 255]


def test_make_sticker_with_a_shadow_keeps_the_margin_tight() -> None:
    rgba = _disc((100, 120), (60, 50), 20)
    plain = stickers.make_sticker(rgba, margin="10%", outline=2)
    out = stickers.make_sticker(
        rgba, margin="10%", outline=2, shadow=True, shadow_offset=(5, 5), shadow_blur=1.5
    )
    assert plain.shape == (41 + 4 + 8, 41 + 4 + 8, 4)  # 10% of 41 px rounds to 4
    assert out.shape[0] > plain.shape[0] and out.shape[1] > plain.shape[1]
    alpha = out[..., 3]
    assert not alpha[:4].any() and alpha[4].any()
    assert not alpha[:, :4].any() and alpha[:, 4].any()
    assert not alpha[-4:].any() and alpha[-5].any()
    # Centre (26, 26); outline out to 22 px. Below right, 25.5 px out: shadow, black, about
    # 0.5 opaque; above left as far out: nothing.
    assert out[44, 44, :3].tolist() == [0, 0, 0] and 110 < out[44, 44, 3] <= 128
    assert out[8, 8].tolist() == [0, 0, 0, 0]
    assert out[26, 26].tolist() == [*RED, 255]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda a: stickers.add_outline(a, -1),
            r"outline width \(pixels\) must be a number in 0\.\.1024, got -1",
        ),
        (lambda a: stickers.add_outline(a, True), r"outline width .* got True"),
        (lambda a: stickers.add_outline(a, 2000), r"0\.\.1024, got 2000"),
        (lambda a: stickers.add_outline(a, 3, "whitee"), r"unknown colour 'whitee'.*'white'"),
        (lambda a: stickers.add_outline(a, 3, (256, 0, 0)), r"three integers in 0\.\.255"),
        (lambda a: stickers.crop_to_subject(a, -3), r"margin must be pixels >= 0 .*got -3"),
        (lambda a: stickers.crop_to_subject(a, "-5%"), r"margin must be .*'5%'\), got '-5%'"),
        (lambda a: stickers.crop_to_subject(a, "lots"), r"got 'lots'"),
        (lambda a: stickers.crop_to_subject(a, 5000), r"margin must be at most 1024 pixels"),
        (lambda a: stickers.crop_to_subject(a, threshold=1.0), r"threshold .* \[0, 1\), got 1\.0"),
        (lambda a: stickers.add_shadow(a, offset=(1.5, 2)), r"shadow offset must be two integers"),
        (lambda a: stickers.add_shadow(a, offset=(1,)), r"\(dx, dy\) .* got \(1,\)"),
        (lambda a: stickers.add_shadow(a, blur=-1), r"shadow blur \(pixels\) must be .*got -1"),
        (lambda a: stickers.add_shadow(a, opacity=1.5), r"opacity must be a number in 0\.\.1"),
        (lambda a: stickers.add_shadow(a, color="nope"), r"unknown colour 'nope'"),
        (lambda a: stickers.make_sticker(a, outline=-2), r"outline width"),
        (lambda a: stickers.make_sticker(a, shadow_opacity=2), r"shadow opacity"),
        (lambda a: stickers.make_sticker(a, margin="x"), r"margin must be"),
    ],
)
def test_bad_options_raise_option_error(call: Callable[[np.ndarray], object], message: str) -> None:
    rgba = _disc((20, 20), (10, 10), 5)
    with pytest.raises(OptionError, match=message):
        call(rgba)
    # Checked before the image is looked at: an empty cutout fails the same way.
    with pytest.raises(OptionError, match=message):
        call(np.zeros((20, 20, 4), np.uint8))


@pytest.mark.parametrize(
    "bad",
    [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 4), np.float32), np.zeros((0, 4, 4), np.uint8)],
)
def test_non_rgba_input_raises_input_error(bad: np.ndarray) -> None:
    with pytest.raises(InputError, match=r"rgba must be an RGBA uint8 array of shape \(H, W, 4\)"):
        stickers.make_sticker(bad)
    with pytest.raises(InputError, match=r"alpha must be uint8 \(H, W\)"):
        stickers.subject_box(bad)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(stickers)
    assert result.attempted >= 6 and result.failed == 0


def test_outline_computed_in_tiles_matches_one_distance_transform_of_the_whole() -> None:
    import cv2

    rng = np.random.default_rng(7)
    blobs = (rng.random((30, 40)) > 0.95).astype(np.uint8) * 255  # sparse: some tiles empty
    alpha = cv2.resize(blobs, (400, 300), interpolation=cv2.INTER_LINEAR)
    rgba = np.dstack([np.full((300, 400, 3), 90, np.uint8), alpha])
    for width in (1, 7.5, 40):
        out = stickers.add_outline(rgba, width)
        p = int(np.ceil(width))
        grown = np.pad(alpha, p)
        outside = np.where(grown > 127, 0, 255).astype(np.uint8)
        d = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        line = np.rint(np.clip(width + 1 - d, 0, 1) * 255) / 255
        front = grown / 255
        expected = (front + line * (1 - front)) * 255  # the subject over the outline
        assert np.abs(expected - out[..., 3]).max() <= 1
