"""A small photo tree for the batch tests: real people photos from ../shared/eval in
sub-folders, a text file with a .jpg name, a truncated JPEG, and files that are not inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from evalset import EVAL

PEOPLE = EVAL / "people"
# person fast scores IoU 0.90-0.97 on these (people/ truth), small enough for a quick run.
LAYOUT = {
    "hs037.jpg": "hs037",
    "studio/hs053.jpg": "hs053",
    "studio/hs062.jpg": "hs062",
    "studio/2024/hs081.jpg": "hs081",
    "street/hs084.jpg": "hs084",
    "street/hs087.jpg": "hs087",
}
BAD = {
    "studio/notaphoto.jpg": "not an image (or an unsupported format)",
    "street/cut.jpg": "truncated or corrupt image data",
}


@pytest.fixture(scope="session")
def photo_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """IN_DIR: six photos in three levels of folders, two bad files, and non-inputs. Read-only."""
    root = tmp_path_factory.mktemp("batch") / "in"
    for name, stem in LAYOUT.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PEOPLE / "images" / f"{stem}.jpg", root / name)
    (root / "studio" / "notaphoto.jpg").write_text("hello, I am text")
    whole = (PEOPLE / "images" / "hs098.jpg").read_bytes()
    (root / "street" / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    (root / "README.txt").write_text("not an input")
    (root / ".thumbs").mkdir()
    shutil.copy(PEOPLE / "images" / "hs097.jpg", root / ".thumbs" / "hidden.jpg")
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(0o444)
    return root


def tree_listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` with its size and mtime."""
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


def read_report(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The item lines of a report and its summary (None when the run was killed first)."""
    items, summary = [], None
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        if "summary" in entry:
            summary = entry["summary"]
        else:
            items.append(entry)
    return items, summary


def alpha_iou(cutout: Path, stem: str) -> float:
    """IoU of a cutout's alpha (>= 128) with the person truth mask of `stem`."""
    alpha = np.asarray(Image.open(cutout).getchannel("A")) >= 128
    truth = np.asarray(Image.open(PEOPLE / "masks" / f"{stem}.png").convert("L")) >= 128
    return float((alpha & truth).sum() / max(1, (alpha | truth).sum()))


def check_outputs(out: Path, min_iou: float = 0.85) -> None:
    """Every photo's cutout is there, whole, RGBA at the photo's size, and finds the person."""
    for name, stem in LAYOUT.items():
        cutout = out / name.replace(".jpg", ".cutout.png")
        with Image.open(cutout) as image:
            image.load()  # a truncated file fails here
            assert image.mode == "RGBA"
            assert image.size == Image.open(PEOPLE / "images" / f"{stem}.jpg").size
        assert alpha_iou(cutout, stem) >= min_iou, name
