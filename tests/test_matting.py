"""Alpha matting of a mask's edge band: trimaps, the closed-form solve, its large-image path."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest

from mattekit.errors import InputError, OptionError
from mattekit.stages import matting


def _disc_scene(
    n: int = 160, r: float = 45, shift: float = 3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A soft-edged disc (Gaussian sigma 3) composited between two textured colours.

    Returns the photo, a model-like mask (a disc `shift` px too large, edge blurred by 1 px)
    and the true alpha.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n].astype(np.float32)
    d = np.hypot(yy - n / 2, xx - n / 2)
    truth = cv2.GaussianBlur((d <= r).astype(np.float32), (0, 0), 3.0)
    fg = np.array([200, 60, 40], np.float32) + 20 * np.sin(xx / 7)[..., None]
    bg = np.array([30, 90, 200], np.float32) + 20 * np.cos(yy / 9)[..., None]
    image = truth[..., None] * fg + (1 - truth[..., None]) * bg + rng.normal(0, 2, (n, n, 3))
    mask = cv2.GaussianBlur((d <= r + shift).astype(np.float32), (0, 0), 1.0)
    return np.clip(image, 0, 255).astype(np.uint8), mask, truth


# Half-width of the test scenes' band: their true edge (sigma 3) spreads about 10 px either side.
BAND = 12


def _band_mae(alpha: np.ndarray, truth: np.ndarray, unknown: np.ndarray) -> float:
    return float(np.abs(alpha - truth)[unknown].mean())


# --------------------------------------------------------------------------- trimap


def test_trimap_of_a_disc_has_fg_inside_bg_outside_and_the_band_between() -> None:
    n, r, band = 101, 30, 5
    yy, xx = np.mgrid[:n, :n]
    d = np.hypot(yy - 50, xx - 50)
    mask = (d <= r).astype(np.float32)
    trimap = matting.build_trimap(mask, band=band)
    assert trimap.dtype == np.uint8 and trimap.shape == mask.shape
    assert set(np.unique(trimap).tolist()) == {0, 128, 255}
    assert (trimap[d <= r - band - 1.5] == 255).all()
    assert (trimap[d >= r + band + 1.5] == 0).all()
    assert (trimap[np.abs(d - r) <= 1] == 128).all()
    # Along the centre row the band is `band` pixels on each side of the edge.
    row = trimap[50]
    assert (row == 128).sum() == 2 * 2 * band
    assert row[50 - r - band : 50 - r + band].tolist() == [128] * (2 * band)


@pytest.mark.parametrize(
    ("shape", "width"), [((480, 640), 4), ((1080, 1920), 11), ((3000, 4000), 25), ((50, 60), 2)]
)
def test_default_band_scales_with_the_image_diagonal(shape: tuple[int, int], width: int) -> None:
    mask = np.zeros(shape, np.float32)
    mask[:, shape[1] // 2 :] = 1
    row = matting.build_trimap(mask)[shape[0] // 2]
    assert (row == 128).sum() == 2 * width


def test_trimap_of_a_flat_mask_has_no_band_at_the_picture_edge() -> None:
    assert (matting.build_trimap(np.ones((40, 50), np.float32), band=6) == 255).all()
    assert (matting.build_trimap(np.zeros((40, 50), np.float32), band=6) == 0).all()


def test_soft_values_are_split_at_one_half_outside_the_band() -> None:
    mask = np.full((20, 20), 0.4, np.float32)
    mask[:, 10:] = 0.6
    row = matting.build_trimap(mask, band=2)[0].tolist()
    assert row == [0] * 8 + [128] * 4 + [255] * 8


# --------------------------------------------------------------------------- matte


@pytest.mark.parametrize("shift", [3, -3])
def test_plain_closed_form_recovers_a_soft_edge(shift: int) -> None:
    image, mask, truth = _disc_scene(shift=shift)
    unknown = matting.build_trimap(mask, band=BAND) == 128
    alpha = matting.matte(image, mask, band=BAND, mask_weight=0)
    # Measured 0.009 (shift 3) and 0.014 (shift -3); the mask is 0.123 and 0.137 off.
    assert _band_mae(alpha, truth, unknown) < 0.025
    assert _band_mae(alpha, truth, unknown) < 0.2 * _band_mae(mask, truth, unknown)


def test_default_matte_moves_a_soft_mask_towards_the_true_alpha() -> None:
    image, mask, truth = _disc_scene(shift=0)
    unknown = matting.build_trimap(mask, band=BAND) == 128
    alpha = matting.matte(image, mask, band=BAND)
    # Measured 0.043 against the mask's 0.067: the pull towards the mask keeps it near it.
    assert _band_mae(alpha, truth, unknown) < 0.055
    assert alpha.dtype == np.float32 and alpha.shape == mask.shape
    assert alpha.min() >= 0 and alpha.max() <= 1


def test_alpha_outside_the_band_is_the_trimap_and_inputs_are_kept() -> None:
    image, mask, _ = _disc_scene()
    hard = (mask >= 0.5).astype(np.float32)
    before = (image.copy(), hard.copy())
    trimap = matting.build_trimap(hard, band=BAND)
    alpha = matting.matte(image, hard, band=BAND, mask_weight=0)
    outside = trimap != 128
    assert np.array_equal(alpha[outside], hard[outside])
    assert not np.array_equal(alpha[~outside], hard[~outside])
    assert np.array_equal(image, before[0]) and np.array_equal(hard, before[1])


def test_a_given_trimap_decides_what_is_known() -> None:
    image, mask, _ = _disc_scene()
    trimap = np.zeros(mask.shape, np.uint8)
    trimap[:, 100:] = 255  # foreground where the mask says background
    trimap[60:100, 60:100] = 128
    alpha = matting.matte(image, mask, trimap=trimap)
    assert (alpha[:, 100:] == 1).all()
    assert (alpha[:, :60] == 0).all()
    assert np.array_equal(alpha[trimap == 255], np.ones((trimap == 255).sum(), np.float32))


def test_no_unknown_pixels_gives_the_trimap() -> None:
    image, mask, _ = _disc_scene()
    alpha = matting.matte(image, mask, band=0)
    assert np.array_equal(alpha, (mask >= 0.5).astype(np.float32))


def test_large_images_are_solved_shrunk_and_carried_back(monkeypatch: pytest.MonkeyPatch) -> None:
    image, mask, truth = _disc_scene()
    unknown = matting.build_trimap(mask, band=BAND) == 128
    monkeypatch.setattr(matting, "_WORK_PIXELS", mask.size // 4)
    assert matting._work_factor(mask.shape) == 2
    alpha = matting.matte(image, mask, band=BAND, mask_weight=0)
    # Measured 0.007 (the full-size solve: 0.009).
    assert _band_mae(alpha, truth, unknown) < 0.025
    assert np.array_equal(alpha[~unknown], (mask[~unknown] >= 0.5).astype(np.float32))


def test_flat_colours_with_a_tiny_eps_stay_finite_and_accurate() -> None:
    """Flat colour makes the windows' covariances singular; float32 gave NaN at eps = 1e-7."""
    n = 200
    yy, xx = np.mgrid[:n, :n]
    d = np.hypot(yy - 100, xx - 100)
    truth = cv2.GaussianBlur((d <= 60).astype(np.float32), (0, 0), 3)
    colours = truth[..., None] * np.array([255, 255, 255.0])
    colours += (1 - truth[..., None]) * np.array([0, 0, 255.0])
    image = np.clip(colours, 0, 255).astype(np.uint8)
    mask = cv2.GaussianBlur((d <= 63).astype(np.float32), (0, 0), 1)
    unknown = matting.build_trimap(mask, band=BAND) == 128
    for radius in (1, 3):
        alpha = matting.matte(image, mask, band=BAND, eps=1e-7, radius=radius, mask_weight=0)
        assert np.isfinite(alpha).all()
        # Measured 0.003 (radius 1) and 0.001 (radius 3); the mask is 0.127 off.
        assert _band_mae(alpha, truth, unknown) < 0.01


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"radius": 0}, "radius must be an integer >= 1, got 0"),
        ({"radius": 1.5}, "radius must be an integer >= 1, got 1.5"),
        ({"eps": 0}, "eps must be a number > 0, got 0"),
        ({"eps": float("nan")}, "eps must be a number > 0, got nan"),
        ({"iterations": 0}, "iterations must be an integer >= 1, got 0"),
        ({"mask_weight": -0.1}, r"mask_weight must be a number >= 0, got -0.1"),
        ({"band": -1}, "band must be an integer number of pixels >= 0, got -1"),
        ({"band": 2.5}, "band must be an integer number of pixels >= 0, got 2.5"),
        (
            {"band": 3, "trimap": np.zeros((16, 16), np.uint8)},
            "band applies only when the trimap is built: pass trimap or band",
        ),
    ],
)
def test_bad_options_raise_option_error(options: dict[str, object], message: str) -> None:
    image = np.zeros((16, 16, 3), np.uint8)
    mask = np.zeros((16, 16), np.float32)
    mask[:, 8:] = 1
    with pytest.raises(OptionError, match=f"^{message}$"):
        matting.matte(image, mask, **options)  # type: ignore[arg-type]


def test_bad_band_for_build_trimap_raises_option_error() -> None:
    with pytest.raises(OptionError, match="band must be an integer number of pixels >= 0"):
        matting.build_trimap(np.zeros((4, 4), np.float32), band=True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("trimap", "message"),
    [
        (np.zeros((16, 15), np.uint8), r"trimap must have the mask's shape \(16, 16\)"),
        (np.zeros((16, 16), np.float32), "trimap must be a uint8 array of shape"),
    ],
)
def test_bad_trimap_raises_input_error(trimap: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        matting.matte(np.zeros((16, 16, 3), np.uint8), np.zeros((16, 16), np.float32), trimap=trimap)


def test_mask_of_another_size_raises_input_error() -> None:
    with pytest.raises(InputError, match=r"mask must have shape \(H, W\) = \(16, 16\)"):
        matting.matte(np.zeros((16, 16, 3), np.uint8), np.zeros((8, 8), np.float32))


# --------------------------------------------------------------------------- real photos


@pytest.mark.models
@pytest.mark.parametrize("stem", ["hs053", "hs062", "hs093"])
def test_matting_a_real_person_mask_keeps_its_quality(stem: str, eval_dir: Path, scorer: ModuleType) -> None:
    """The person-fast mask of a real photo, matted: no worse than the mask against the truth.

    Measured (IoU, boundary F, MAE) mask -> matted: hs053 0.936 -> 0.937, 0.697 -> 0.713,
    0.026 -> 0.020; hs062 0.977 -> 0.976, 0.974 -> 0.975, 0.010 -> 0.008; hs093 0.925 -> 0.925,
    0.603 -> 0.627, 0.026 -> 0.020.
    """
    from PIL import Image

    from mattekit import RemoveOptions, Remover

    rgb = np.asarray(Image.open(eval_dir / "people" / "images" / f"{stem}.jpg").convert("RGB"))
    truth = np.asarray(Image.open(eval_dir / "people" / "masks" / f"{stem}.png").convert("L"))
    truth = truth >= 128
    mask = Remover(RemoveOptions(subject="person", quality="fast")).segment(rgb).mask
    alpha = matting.matte(rgb, mask)

    def iou(a: np.ndarray) -> float:
        return float(((a >= 0.5) & truth).sum() / ((a >= 0.5) | truth).sum())

    assert iou(alpha) >= iou(mask) - 0.01
    bf_mask = scorer.boundary_f(mask >= 0.5, truth, 3)
    assert scorer.boundary_f(alpha >= 0.5, truth, 3) >= bf_mask - 0.02
    assert np.abs(alpha - truth).mean() <= np.abs(mask - truth).mean()
