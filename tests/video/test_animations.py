"""Animated GIF / WebP in, animated cutout out: frames, per-frame durations and loop kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageSequence
from videoclips import ANIMATION_DURATIONS, decode, frames_of, iou, masks_of

from mattekit.cli import cli

pytestmark = pytest.mark.models

ANIMATION_FRAME_IOU = 0.55  # person fast at 214x120: 0.69 at worst, measured 2026-12-01


def _frames(path: Path) -> tuple[list[np.ndarray], list[int], dict[str, object]]:
    with Image.open(path) as image:
        info = dict(image.info)
        frames, durations = [], []
        for frame in ImageSequence.Iterator(image):
            frames.append(np.asarray(frame.convert("RGBA")))  # (WebP sets the duration on load)
            durations.append(int(frame.info.get("duration", 0)))
    return frames, durations, info


def _truth() -> list[np.ndarray]:
    return [np.asarray(Image.fromarray(m).resize((214, 120))) for m in masks_of("dance-twirl", 8)]


def test_remove_gif_to_webp_keeps_frames_durations_and_loop(animation: Path, tmp_path: Path) -> None:
    out = tmp_path / "anim.webp"
    result = CliRunner().invoke(cli, ["remove", str(animation), "-o", str(out), "-s", "person", "-Q", "fast"])
    assert result.exit_code == 0, result.output
    frames, durations, info = _frames(out)
    assert len(frames) == 8 and durations == ANIMATION_DURATIONS and info["loop"] == 3
    ious = [iou(f[:, :, 3] >= 128, m) for f, m in zip(frames, _truth(), strict=True)]
    assert min(ious) >= ANIMATION_FRAME_IOU, ious


def test_video_gif_to_gif_keeps_a_transparency_index(animation: Path, tmp_path: Path) -> None:
    out = tmp_path / "cutout.gif"
    result = CliRunner().invoke(cli, ["video", str(animation), "-o", str(out), "-s", "person", "-Q", "fast"])
    assert result.exit_code == 0, result.output
    with Image.open(out) as image:
        assert image.mode == "P" and "transparency" in image.info
    frames, durations, info = _frames(out)
    assert len(frames) == 8 and durations == ANIMATION_DURATIONS and info["loop"] == 3
    alphas = np.stack([f[:, :, 3] for f in frames])
    assert set(np.unique(alphas)) == {0, 255}
    ious = [iou(a >= 128, m) for a, m in zip(alphas, _truth(), strict=True)]
    assert min(ious) >= ANIMATION_FRAME_IOU, ious


def test_video_gif_to_mp4_times_frames_by_their_durations(animation: Path, tmp_path: Path) -> None:
    out = tmp_path / "anim.mp4"
    result = CliRunner().invoke(
        cli, ["video", str(animation), "-o", str(out), "--bg", "white", "-s", "person", "-Q", "fast"]
    )
    assert result.exit_code == 0, result.output
    made = decode(out)
    assert len(made.frames) == 8 and made.frames[0].shape == (120, 214, 3)
    starts = np.cumsum([0, *ANIMATION_DURATIONS[:-1]]) / 1000
    assert [float(p * made.time_base) for p in made.pts] == pytest.approx(starts, abs=1e-3)


def test_webp_in_keeps_its_durations_and_its_own_transparency(tmp_path: Path) -> None:
    frames = frames_of("dance-twirl", 4, (214, 120))
    rgba = [np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]) for f in frames]
    for f in rgba:
        f[:, :60, 3] = 0  # the input's own transparent strip stays transparent
    source = tmp_path / "in.webp"
    Image.fromarray(rgba[0]).save(source, save_all=True, lossless=True, duration=[50, 150, 70, 90], loop=0,
                                  append_images=[Image.fromarray(f) for f in rgba[1:]])  # fmt: skip
    out = tmp_path / "out.webp"
    result = CliRunner().invoke(cli, ["video", str(source), "-o", str(out), "-s", "person", "-Q", "fast"])
    assert result.exit_code == 0, result.output
    made, durations, info = _frames(out)
    assert durations == [50, 150, 70, 90] and info["loop"] == 0
    assert all(f[:, :60, 3].max() == 0 for f in made)
    assert all(f[:, 60:, 3].max() == 255 for f in made)
