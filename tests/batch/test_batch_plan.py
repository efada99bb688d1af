"""Planning and the manifest, without models: the mirrored tree, names, what is never an input
or an output, and a manifest that survives a line cut short."""

from __future__ import annotations

from pathlib import Path

import pytest

from mattekit import OptionError
from mattekit.batch import MANIFEST_NAME, InputStamp, Manifest, plan_batch
from mattekit.batch.manifest import remove_litter
from mattekit.io.atomic import atomic_writer
from mattekit.io.names import OUTPUT_NAMES


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_mirrors_the_tree_with_the_commands_names(tmp_path: Path) -> None:
    _touch(tmp_path / "in", "b.JPG", "a/x.png", "a/deep/y.webp", "notes.txt", ".hidden.jpg", ".cache/z.jpg")
    plan = plan_batch(tmp_path / "in", tmp_path / "out", OUTPUT_NAMES["remove"], recursive=True)
    assert [(j.name, j.output) for j in plan.jobs] == [
        ("b.JPG", "b.cutout.png"),
        ("a/x.png", "a/x.cutout.png"),
        ("a/deep/y.webp", "a/deep/y.cutout.png"),
    ]
    assert all(j.target == tmp_path.resolve() / "out" / j.output for j in plan.jobs)
    flat = plan_batch(tmp_path / "in", tmp_path / "out", OUTPUT_NAMES["replace"], ext=".webp")
    assert [j.output for j in flat.jobs] == ["b.replaced.webp"]
    masks = plan_batch(
        tmp_path / "in", tmp_path / "o", OUTPUT_NAMES["mask"], recursive=True, patterns=["*.PNG"]
    )
    assert [j.output for j in masks.jobs] == ["a/x.mask.png"]


def test_out_dir_inside_in_dir_is_never_read(tmp_path: Path) -> None:
    _touch(tmp_path, "in/p.jpg", "in/out/p.cutout.png", "in/out/old.jpg")
    plan = plan_batch(tmp_path / "in", tmp_path / "in" / "out", OUTPUT_NAMES["remove"], recursive=True)
    assert [(j.name, j.output) for j in plan.jobs] == [("p.jpg", "p.cutout.png")]
    assert not plan.refused


def test_outputs_never_land_in_in_dir_or_on_each_other(tmp_path: Path) -> None:
    # IN_DIR inside OUT_DIR: the mirrored "photos/" would fall inside IN_DIR itself.
    _touch(tmp_path, "all/photos/a.jpg", "all/photos/a.png", "all/photos/photos/b.jpg")
    plan = plan_batch(tmp_path / "all" / "photos", tmp_path / "all", OUTPUT_NAMES["remove"], recursive=True)
    assert [j.name for j in plan.jobs] == ["a.jpg"]
    reasons = {job.name: reason for job, reason in plan.refused}
    assert reasons["a.png"] == "a.jpg already writes a.cutout.png; rename one of them"
    assert reasons["photos/b.jpg"].endswith("would be inside the input folder")


def test_out_dir_may_not_be_in_dir(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="the output folder is the input folder"):
        plan_batch(tmp_path, tmp_path / ".", OUTPUT_NAMES["remove"])


def test_manifest_skips_only_the_same_input_and_options(tmp_path: Path) -> None:
    stamp = InputStamp(size=5, mtime_ns=10)
    manifest = Manifest(tmp_path)
    manifest.record("a.cutout.png", "a.jpg", stamp, "opts", 0.1)
    manifest.record("b.cutout.png", "b.jpg", stamp, "opts", 0.1)
    manifest.close()
    # A kill in the middle of a line leaves half of it: ignored, and the next line starts clean.
    with (tmp_path / MANIFEST_NAME).open("ab") as handle:
        handle.write(b'{"output": "c.cutout.png", "inp')
    again = Manifest(tmp_path)
    assert again.made("a.cutout.png", "a.jpg", stamp, "opts")
    assert not again.made("a.cutout.png", "a.jpg", stamp, "changed options")
    assert not again.made("a.cutout.png", "a.jpg", InputStamp(5, 11), "opts")  # touched
    assert not again.made("a.cutout.png", "other.jpg", stamp, "opts")
    assert not again.made("c.cutout.png", "c.jpg", stamp, "opts")
    again.record("c.cutout.png", "c.jpg", stamp, "opts", 0.1)
    again.close()
    assert Manifest(tmp_path).made("c.cutout.png", "c.jpg", stamp, "opts")
    # With a checksum the content decides, not the time.
    hashed = InputStamp(5, 10, "ab" * 32)
    again.record("d.cutout.png", "d.jpg", hashed, "opts", 0.1)
    assert Manifest(tmp_path).made("d.cutout.png", "d.jpg", InputStamp(5, 99, "ab" * 32), "opts")


def test_input_stamp_reads_size_time_and_hash(tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"abc")
    stamp = InputStamp.of(photo, checksum=True)
    assert stamp.size == 3 and stamp.mtime_ns == photo.stat().st_mtime_ns
    assert stamp.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_litter_of_interrupted_writes_is_removed_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "a.cutout.png"
    with pytest.raises(KeyboardInterrupt), atomic_writer(target) as handle:
        handle.write(b"half")
        part = next(tmp_path.glob(".a.cutout.png.*.part"))
        raise KeyboardInterrupt  # the writer cleans up after itself...
    part.write_bytes(b"half")  # ...but a SIGKILL would not have let it
    keep = [tmp_path / ".b.cutout.png.0123abcd.part", tmp_path / "a.cutout.png.part", tmp_path / "a.jpg"]
    for path in keep:
        path.write_bytes(b"x")
    assert remove_litter([target]) == 1
    assert not part.exists() and all(path.exists() for path in keep)
