"""The command line: outputs, exit codes, one-line errors, stdin/stdout, models commands."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from evalset import EXAMPLES
from mattekit.cli import cli

ASTRONAUT = EXAMPLES / "astronaut.jpg"


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def photo(tmp_path: Path) -> Path:
    target = tmp_path / "astronaut.jpg"
    shutil.copy(ASTRONAUT, target)
    return target


def _error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("mattekit: error")]


@pytest.mark.models
def test_remove_writes_default_name_beside_input(runner: CliRunner, photo: Path) -> None:
    result = runner.invoke(cli, ["remove", str(photo), "-s", "person", "-Q", "fast"])
    assert result.exit_code == 0, result.output
    out = Image.open(photo.with_name("astronaut.cutout.png"))
    assert out.mode == "RGBA" and out.size == (512, 512)
    alpha = np.asarray(out.getchannel("A"))
    assert alpha[10, 10] == 0  # top-left corner: background
    assert alpha[200, 250] == 255  # the face


def test_not_an_image_is_one_line_exit_1_nothing_written(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "notanimage.jpg"
    bad.write_text("hello, I am text")
    result = runner.invoke(cli, ["remove", str(bad)])
    assert result.exit_code == 1
    assert _error_lines(result) == [
        f"mattekit: error: {bad}: not an image (or an unsupported format); "
        "expected one of JPEG, PNG, WebP, GIF, BMP, TIFF"
    ]
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notanimage.jpg"]


@pytest.mark.models
def test_batch_goes_on_past_a_bad_file(runner: CliRunner, photo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "empty.png"
    bad.write_bytes(b"")
    out = tmp_path / "out"
    result = runner.invoke(cli, ["mask", str(bad), str(photo), "-o", str(out), "-s", "person", "-Q", "fast"])
    assert result.exit_code == 1
    assert len(_error_lines(result)) == 1 and "empty.png" in _error_lines(result)[0]
    assert "1 of 2 inputs failed" in result.stderr
    mask = Image.open(out / "astronaut.mask.png")
    assert mask.mode == "L" and mask.size == (512, 512)


def test_output_over_input_is_refused(runner: CliRunner, photo: Path) -> None:
    before = photo.read_bytes()
    result = runner.invoke(cli, ["replace", str(photo), "--bg", "white", "-o", str(photo)])
    assert result.exit_code == 1
    assert f"mattekit: error: {photo}: this output is the input {photo}" in result.stderr
    assert photo.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["remove", "x.jpg", "--quality", "best"],
            "Error: --quality: 'best' is not one of fast, balanced, accurate.",
        ),
        (["remove", "x.jpg", "--keep", "dgo"], "Error: --keep: unknown class 'dgo'"),
        (["remove", "x.jpg", "--erode", "x"], "Error: --erode: 'x' is not a whole number"),
        (["replace", "x.jpg", "--bg", "notacolour"], "background 'notacolour' is not a colour"),
        (["replace", "x.jpg", "--bg", "blur:abc"], "blur radius must be a number"),
        (["remove", "a.jpg", "b.jpg", "-o", "-"], "takes a single input"),
        (["models", "fetch", "selfy"], "Did you mean 'selfie'"),
    ],
)
def test_usage_errors_exit_2(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.models
def test_stdin_to_stdout(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["remove", "-", "-s", "person", "-Q", "fast"], input=ASTRONAUT.read_bytes())
    assert result.exit_code == 0, result.stderr
    image = Image.open(io.BytesIO(result.stdout_bytes))
    assert image.format == "PNG" and image.mode == "RGBA"


@pytest.mark.models
@pytest.mark.parametrize("background", ["#00ff00", "lime"])
def test_replace_with_colour(runner: CliRunner, photo: Path, tmp_path: Path, background: str) -> None:
    target = tmp_path / "green.png"
    result = runner.invoke(
        cli, ["replace", str(photo), "--bg", background, "-s", "person", "-Q", "fast", "-o", str(target)]
    )
    assert result.exit_code == 0, result.stderr
    rgb = np.asarray(Image.open(target).convert("RGB"))
    assert tuple(rgb[10, 10]) == (0, 255, 0)
    original = np.asarray(Image.open(photo).convert("RGB")).astype(int)
    assert np.abs(rgb[200, 250].astype(int) - original[200, 250]).max() <= 2  # the face is kept


@pytest.mark.models
def test_replace_with_image_and_blur(runner: CliRunner, photo: Path, tmp_path: Path) -> None:
    beach = tmp_path / "beach.png"
    Image.new("RGB", (300, 100), (10, 120, 250)).save(beach)
    for bg, name in [(str(beach), "a.jpg"), ("blur:20", "b.jpg")]:
        result = runner.invoke(
            cli, ["replace", str(photo), "--bg", bg, "-s", "person", "-Q", "fast", "-o", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.stderr
        assert Image.open(tmp_path / name).format == "JPEG"
    corner = np.asarray(Image.open(tmp_path / "a.jpg"))[5, 5].astype(int)
    assert np.abs(corner - (10, 120, 250)).max() <= 6  # JPEG rounding


@pytest.mark.models
def test_models_list_shows_cards(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["models", "list"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "task", "license", "size", "cached"]
    selfie = next(line for line in lines if line.startswith("selfie "))
    assert selfie.split()[1:3] == ["person", "Apache-2.0"] and selfie.endswith("yes")
    assert any(line.startswith("isnet-medium") and "AGPL-3.0" in line for line in lines)
    # A TFJS model's size counts its weight shards, not only its graph JSON (0.6 MB).
    rvm = next(line for line in lines if line.startswith("rvm "))
    assert rvm.split()[3] == "4.4MB"


def test_models_list_verbose_reports_provider(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["models", "list", "--verbose"])
    assert result.exit_code == 0
    assert "selected: cpu (CPUExecutionProvider)" in result.stdout


def test_unavailable_device_is_an_error_not_a_fallback(runner: CliRunner, photo: Path) -> None:
    result = runner.invoke(cli, ["remove", str(photo), "-s", "person", "-Q", "fast", "--device", "cuda"])
    assert result.exit_code == 1
    assert "device 'cuda' needs CUDAExecutionProvider, which this onnxruntime build lacks" in result.stderr
    assert not photo.with_name("astronaut.cutout.png").exists()


@pytest.mark.models
def test_models_verify_all_cached_ok(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["models", "verify", "selfie", "isnet-medium"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["selfie: ok", "isnet-medium: ok"]


@pytest.mark.models
def test_debug_reports_the_provider_in_use(runner: CliRunner, photo: Path) -> None:
    result = runner.invoke(cli, ["--debug", "mask", str(photo), "-s", "person", "-Q", "fast"])
    assert result.exit_code == 0, result.stderr
    assert "mattekit: segmenter selfie on cpu (CPUExecutionProvider)" in result.stderr


# -- mask edits, crop, stickers -----------------------------------------------------------------


def _mask_of(runner: CliRunner, photo: Path, tmp_path: Path, *extra: str) -> np.ndarray:
    out = tmp_path / f"mask{len(list(tmp_path.iterdir()))}.png"
    result = runner.invoke(cli, ["mask", str(photo), "-s", "person", "-Q", "fast", "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return np.asarray(Image.open(out))


@pytest.mark.models
def test_mask_edits(runner: CliRunner, photo: Path, tmp_path: Path) -> None:
    plain = _mask_of(runner, photo, tmp_path)
    hard = _mask_of(runner, photo, tmp_path, "--threshold", "0.5")
    assert set(np.unique(hard)) == {0, 255}
    assert np.array_equal(hard == 255, plain >= 128)
    eroded = _mask_of(runner, photo, tmp_path, "--erode", "4")
    dilated = _mask_of(runner, photo, tmp_path, "--dilate", "4")
    assert (eroded >= 128).sum() < (plain >= 128).sum() < (dilated >= 128).sum()
    feathered = _mask_of(runner, photo, tmp_path, "--threshold", "0.5", "--feather", "3")
    assert ((feathered > 0) & (feathered < 255)).sum() > 1000


@pytest.mark.models
def test_remove_crop_fits_the_subject(runner: CliRunner, photo: Path, tmp_path: Path) -> None:
    full, cropped = tmp_path / "full.png", tmp_path / "cropped.png"
    for out, extra in ((full, []), (cropped, ["--crop", "0"])):
        result = runner.invoke(
            cli,
            [
                "remove",
                str(photo),
                "-s",
                "person",
                "-Q",
                "fast",
                "--threshold",
                "0.5",
                "-o",
                str(out),
                *extra,
            ],
        )
        assert result.exit_code == 0, result.output
    alpha = np.asarray(Image.open(full))[..., 3]
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    box = np.asarray(Image.open(cropped))
    assert box.shape[:2] == (rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    assert np.array_equal(box, np.asarray(Image.open(full))[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])


@pytest.mark.models
def test_sticker_has_a_white_outline_and_transparent_margin(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "cat.sticker.webp"
    cat = EXAMPLES / "chelsea.jpg"
    result = runner.invoke(cli, ["sticker", str(cat), "-s", "cat", "-Q", "fast", "--outline", "6",
                                 "--margin", "10", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    image = np.asarray(Image.open(out).convert("RGBA"))
    assert (image[:10, :, 3] == 0).all() and (image[-10:, :, 3] == 0).all()
    white_opaque = (image[..., 3] == 255) & (image[..., :3] >= 250).all(axis=-1)
    assert white_opaque.sum() > 1000


def test_bad_sticker_options_are_usage_errors(runner: CliRunner, photo: Path) -> None:
    result = runner.invoke(cli, ["sticker", str(photo), "--outline-color", "nope"])
    assert result.exit_code == 2 and "unknown colour 'nope'" in result.stderr
    result = runner.invoke(cli, ["remove", str(photo), "--crop", "abc"])
    assert result.exit_code == 2 and "margin must be pixels" in result.stderr
    assert not list(photo.parent.glob("*.png"))
