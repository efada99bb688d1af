"""Safety: Ctrl-C leaves nothing behind, bad inputs are one line and a non-zero exit, the
input is never overwritten, corrupt packets are skipped and reported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from videoclips import SAMPLE_RATE, Clip, decode, frames_of, sine, write_clip

from mattekit.cli import cli

pytestmark = pytest.mark.models


def _errors(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("mattekit: error")]


def _run(*args: str) -> object:
    return CliRunner().invoke(cli, ["video", *args, "-s", "person", "-Q", "fast"])


def test_sigint_mid_clip_leaves_no_output_and_no_temporary_file(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "long.mp4", frames_of("dance-twirl", 24) * 5)  # 120 frames
    out = tmp_path / "out.mp4"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "mattekit", "video", str(clip), "-o", str(out), "--bg", "blur",
               "-s", "person", "-Q", "fast"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(".part") for p in tmp_path.iterdir()):  # the output is being written
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == f"mattekit: interrupted; nothing was written to {out}"
    assert "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4"]


def test_no_video_stream_is_one_line_exit_1(tmp_path: Path) -> None:
    sound = tmp_path / "tone.m4a"
    with av.open(str(sound), "w") as container:
        stream = container.add_stream("aac", rate=SAMPLE_RATE)
        stream.layout = "stereo"
        frame = av.AudioFrame.from_ndarray(sine(0.5), format="fltp", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    result = _run(str(sound), "-o", str(tmp_path / "out.mp4"), "--bg", "blur")
    assert result.exit_code == 1
    assert _errors(result) == [f"mattekit: error: {sound}: has no video stream"]
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tone.m4a"]


def test_not_a_video_is_one_line_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "clip.mp4"
    bad.write_text("not a video")
    result = _run(str(bad), "-o", str(tmp_path / "out.mp4"), "--bg", "blur")
    assert result.exit_code == 1
    [line] = _errors(result)
    assert line.startswith(f"mattekit: error: {bad}: not a video or image FFmpeg can read")


def test_output_that_is_the_input_is_refused_and_untouched(dancer: Clip, tmp_path: Path) -> None:
    before = dancer.path.read_bytes()
    alias = tmp_path / "alias.mp4"
    alias.symlink_to(dancer.path)
    for target in (dancer.path, alias):
        result = _run(str(dancer.path), "-o", str(target), "--bg", "blur")
        assert result.exit_code == 1
        assert _errors(result) == [
            f"mattekit: error: {target}: this output is the input {dancer.path}; choose another output path or folder"
        ]
    assert dancer.path.read_bytes() == before


def test_transparency_into_mp4_and_unknown_extensions_are_usage_errors(dancer: Clip, tmp_path: Path) -> None:
    result = _run(str(dancer.path), "-o", str(tmp_path / "cutout.mp4"))
    assert result.exit_code == 2
    assert ".mp4 cannot carry transparency; write .webm" in result.stderr
    result = _run(str(dancer.path), "-o", str(tmp_path / "out.xyz"), "--bg", "blur")
    assert result.exit_code == 2
    assert "cannot tell the video format from extension '.xyz'" in result.stderr
    result = _run(str(dancer.path), "-o", str(tmp_path / "out.mp4"), "--bg", "blur", "--preset", "fastest")
    assert result.exit_code == 2
    assert "--preset: 'fastest' is not one of ultrafast, superfast" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_corrupt_packets_are_reported_and_skipped(dancer: Clip, tmp_path: Path) -> None:
    data = bytearray(dancer.path.read_bytes())
    with av.open(str(dancer.path)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    for pos, size in packets[10:12]:  # garble two frames in the middle
        data[pos + size // 4 : pos + size] = bytes((i * 7919) % 256 for i in range(size - size // 4))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    out = tmp_path / "out.mp4"
    result = _run(str(broken), "-o", str(out), "--bg", "blur")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if "skipped a corrupt video packet" in line]
    assert len(notes) >= 1 and notes[0].startswith(
        f"mattekit: note: {broken}: skipped a corrupt video packet at "
    )
    made = decode(out)
    assert dancer.frames - 4 <= len(made.frames) < dancer.frames
    assert np.all(np.diff(made.pts) > 0)


def test_start_past_the_end_is_one_line_exit_1(dancer: Clip, tmp_path: Path) -> None:
    result = _run(str(dancer.path), "-o", str(tmp_path / "out.mp4"), "--bg", "blur", "--start", "0:05")
    assert result.exit_code == 1
    assert _errors(result) == [
        f"mattekit: error: {dancer.path}: no frame at or after --start 5 s (the video is shorter)"
    ]
    assert list(tmp_path.iterdir()) == []


def test_standard_output_is_refused(dancer: Clip, tmp_path: Path) -> None:
    result = _run(str(dancer.path), "-o", "-", "--bg", "blur")
    assert result.exit_code == 2
    assert "a video is written to a file or a folder, not to standard output" in result.stderr
