"""Fixtures of the video tests: clips made once per session (see videoclips.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from videoclips import ANIMATION_DURATIONS, Clip, frames_of, masks_of, write_clip

from mattekit import RemoveOptions, Remover


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def dancer(clips: Path) -> Clip:
    """dance-twirl, 24 frames at 854x480, with AAC sound."""
    count = 24
    path = write_clip(clips / "dancer.mp4", frames_of("dance-twirl", count))
    return Clip(path, count, masks_of("dance-twirl", count))


@pytest.fixture(scope="session")
def swan(clips: Path) -> Clip:
    """blackswan, 3 frames at 854x480, no sound (the any-subject model is slow)."""
    count = 3
    path = write_clip(clips / "swan.mp4", frames_of("blackswan", count), audio=None)
    return Clip(path, count, masks_of("blackswan", count))


@pytest.fixture(scope="session")
def person_fast() -> Remover:
    """One video-mode Remover for people at fast, shared (process_video resets it)."""
    return Remover(RemoveOptions(subject="person", quality="fast"), mode="video")


@pytest.fixture(scope="session")
def animation(clips: Path) -> Path:
    """An animated GIF of the dancer: 8 frames at 214x120, uneven durations, played 3 times."""
    frames = [Image.fromarray(f) for f in frames_of("dance-twirl", 8, (214, 120))]
    path = clips / "dancer.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=ANIMATION_DURATIONS, loop=3)
    return path
