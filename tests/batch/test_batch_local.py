"""`mattekit batch` on the local engine: real models on real photos, a mirrored tree, resume,
changed options and inputs, bad files, and the flags of the image commands."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from batch_fixtures import BAD, LAYOUT, check_outputs, photo_tree, read_report, tree_listing
from click.testing import CliRunner
from PIL import Image

from mattekit.batch import MANIFEST_NAME, run_batch
from mattekit.cli import cli

pytestmark = pytest.mark.models

FAST = ["-s", "person", "-Q", "fast"]


def _batch(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["batch", *map(str, args)])
    return result.exit_code, result.stderr


def _statuses(report: Path) -> dict[str, str]:
    items, _ = read_report(report)
    return {item["input"]: item["status"] for item in items}


def test_mirrors_the_tree_resumes_and_redoes_what_changed(photo_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = tree_listing(photo_tree)
    code, stderr = _batch(photo_tree, "-o", out, "-r", *FAST, "--workers", "2")

    # Bad files: one line each, the others done, exit 1.
    assert code == 1, stderr
    for name, what in BAD.items():
        assert f"mattekit: error: {name}: {what}" in stderr
    assert "Traceback" not in stderr
    items, summary = read_report(out / "mattekit-report.jsonl")
    assert {i["input"]: i["status"] for i in items} == {
        **dict.fromkeys(LAYOUT, "ok"),
        **dict.fromkeys(BAD, "failed"),
    }
    assert summary is not None and (summary["ok"], summary["failed"], summary["skipped"]) == (6, 2, 0)
    assert all(i["seconds"] > 0 and i["worker"] and i["empty"] is False for i in items if i["status"] == "ok")
    assert "6 done, 0 skipped, 2 failed of 8" in stderr
    check_outputs(out)
    made = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert made == {n.replace(".jpg", ".cutout.png") for n in LAYOUT} | {"mattekit-report.jsonl", MANIFEST_NAME,
                                                                          ".mattekit-batch.lock"}  # fmt: skip
    assert tree_listing(photo_tree) == before  # nothing written in IN_DIR

    # Again: every photo skipped (outputs untouched), the bad files fail again.
    outputs = tree_listing(out)
    code, stderr = _batch(photo_tree, "-o", out, "-r", "-s", "person", "--quality", "fast")
    assert code == 1
    assert _statuses(out / "mattekit-report.jsonl") == {
        **dict.fromkeys(LAYOUT, "skipped"),
        **dict.fromkeys(BAD, "failed"),
    }
    assert {k: v for k, v in tree_listing(out).items() if k.endswith(".png")} == {
        k: v for k, v in outputs.items() if k.endswith(".png")
    }

    # A changed option makes everything again; the new outputs differ.
    old_alpha = np.asarray(Image.open(out / "hs037.cutout.png").getchannel("A"))
    code, _ = _batch(photo_tree, "-o", out, "-r", *FAST, "--threshold", "0.5", "--pattern", "hs*.jpg")
    assert code == 0
    assert set(_statuses(out / "mattekit-report.jsonl").values()) == {"ok"}
    new_alpha = np.asarray(Image.open(out / "hs037.cutout.png").getchannel("A"))
    assert set(np.unique(new_alpha)) <= {0, 255} and not np.array_equal(new_alpha, old_alpha)
    check_outputs(out)

    # A deleted output is made again; the rest is skipped.
    (out / "studio" / "hs053.cutout.png").unlink()
    code, _ = _batch(photo_tree, "-o", out, "-r", *FAST, "--threshold", "0.5", "--pattern", "hs*.jpg")
    statuses = _statuses(out / "mattekit-report.jsonl")
    assert code == 0 and statuses.pop("studio/hs053.jpg") == "ok"
    assert set(statuses.values()) == {"skipped"}


def test_a_touched_input_is_made_again(photo_tree: Path, tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for name in ("hs037.jpg", "studio/hs062.jpg"):
        (source / Path(name).name).write_bytes((photo_tree / name).read_bytes())
    out = tmp_path / "out"
    first = run_batch(source, out, {"subject": "person", "quality": "fast"}, workers=1, progress=False)
    assert (first.ok, first.failed) == (2, 0)
    stat = (source / "hs062.jpg").stat()
    os.utime(source / "hs062.jpg", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    second = run_batch(source, out, {"subject": "person", "quality": "fast"}, workers=1, progress=False)
    assert (second.ok, second.skipped) == (1, 1)
    assert _statuses(out / "mattekit-report.jsonl") == {"hs037.jpg": "skipped", "hs062.jpg": "ok"}


def test_as_mask_and_replace_take_their_commands_flags_and_names(photo_tree: Path, tmp_path: Path) -> None:
    masks = tmp_path / "masks"
    code, stderr = _batch(photo_tree / "studio", "-o", masks, "--as", "mask", *FAST, "--workers", "1")
    assert code == 1, stderr  # notaphoto.jpg
    with Image.open(masks / "hs053.mask.png") as mask:
        assert mask.mode == "L" and mask.size == (612, 408)
    green = tmp_path / "green"
    code, stderr = _batch(photo_tree / "street", "-o", green, "--as", "replace", "--bg", "#00ff00", *FAST,
                          "-f", "webp", "--report", tmp_path / "green.jsonl")  # fmt: skip
    assert code == 1, stderr  # cut.jpg
    assert sorted(p.name for p in green.iterdir() if not p.name.startswith(".")) == [
        "hs084.replaced.webp", "hs087.replaced.webp",
    ]  # fmt: skip
    with Image.open(green / "hs084.replaced.webp") as picture:
        assert picture.mode == "RGB"
        assert picture.getpixel((2, 2)) == pytest.approx((0, 255, 0), abs=8)  # a background corner


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outline", "3"], "--outline is not an option of `mattekit remove`; it goes with --as sticker"),
        (["--as", "replace"], "--as replace needs --bg"),
        (
            ["--as", "mask", "--crop", "5%"],
            "--crop is not an option of `mattekit mask`; it goes with --as remove",
        ),
        (["-Q", "best"], "--quality: 'best' is not one of fast, balanced, accurate."),
        (["-f", "gif"], "format: 'gif' is not a format mattekit writes; use png, webp or jpg"),
        (["--ray-address", "auto", "--engine", "local"], "--ray-address needs --engine ray"),
    ],
)
def test_usage_errors_touch_nothing(photo_tree: Path, tmp_path: Path, args: list[str], message: str) -> None:
    code, stderr = _batch(photo_tree, "-o", tmp_path / "out", *args)
    assert code == 2 and message in stderr, stderr
    assert not (tmp_path / "out").exists()


def test_out_dir_is_in_dir_is_a_usage_error(photo_tree: Path) -> None:
    code, stderr = _batch(photo_tree, "-o", photo_tree)
    assert code == 2 and "the output folder is the input folder" in stderr
