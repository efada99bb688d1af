"""Acceptance: `mattekit batch` killed half way (SIGKILL) and run again finishes the rest,
makes nothing twice, leaves no half-written or temporary file, and its workers die with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_fixtures import LAYOUT, PEOPLE, read_report
from PIL import Image

from mattekit.batch import MANIFEST_NAME

pytestmark = pytest.mark.models

COPIES = 4  # 6 photos x 4 sizes: long enough a run to kill in the middle


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 photos, 800 to 1700 px, in four folders."""
    root = tmp_path_factory.mktemp("kill") / "in"
    for copy in range(COPIES):
        folder = root / f"set{copy}"
        folder.mkdir(parents=True)
        for stem in LAYOUT.values():
            with Image.open(PEOPLE / "images" / f"{stem}.jpg") as photo:
                scale = (800 + 300 * copy) / max(photo.size)
                size = (round(photo.width * scale), round(photo.height * scale))
                photo.convert("RGB").resize(size, Image.Resampling.BILINEAR).save(
                    folder / f"{stem}.jpg", quality=90
                )
    return root


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _manifest_lines(out: Path) -> list[dict[str, object]]:
    path = out / MANIFEST_NAME
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the workers")
def test_sigkill_half_way_then_rerun_finishes_without_redoing(big_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    total = 6 * COPIES
    command = [sys.executable, "-m", "mattekit", "batch", str(big_tree), "-o", str(out), "-r",
               "-s", "person", "-Q", "fast", "--workers", "2", "--threads", "1"]  # fmt: skip
    first = subprocess.Popen([*command, "--report", str(tmp_path / "first.jsonl")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    while len(_manifest_lines(out)) < 3:
        assert first.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no output recorded within a minute"
        time.sleep(0.01)
    workers = _children(first.pid)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_before = {str(line["output"]) for line in _manifest_lines(out)}
    assert 3 <= len(done_before) < total, "the kill came too late to test anything"
    assert workers, "no worker processes were found"
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), "workers outlived the killed run"
    _, first_summary = read_report(tmp_path / "first.jsonl")
    assert first_summary is None  # killed: no closing line

    second = subprocess.run([*command, "--report", str(tmp_path / "second.jsonl")],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert second.returncode == 0, second.stderr
    items, summary = read_report(tmp_path / "second.jsonl")
    assert summary is not None and summary["ok"] + summary["skipped"] == total and summary["failed"] == 0
    skipped = {item["output"] for item in items if item["status"] == "skipped"}
    assert skipped == done_before  # what the killed run finished is not made again
    # The manifest is append-only: one line per making, so every output was made exactly once.
    made = [str(line["output"]) for line in _manifest_lines(out)]
    assert sorted(made) == sorted(set(made)) and len(made) == total
    for output in made:
        with Image.open(out / output) as image:
            image.load()  # whole, not truncated
            assert image.mode == "RGBA"
    litter = [p.name for p in out.rglob("*") if p.name.endswith(".part")]
    assert not litter
    assert not any(name.endswith(".part") for name in os.listdir(big_tree))
