"""The Remover's running mode: "image" or "video", checked, and which segmenter each builds."""

from __future__ import annotations

import pytest

from mattekit.errors import OptionError
from mattekit.options import RemoveOptions
from mattekit.remover import Remover


def test_mode_is_checked_with_a_hint() -> None:
    with pytest.raises(
        OptionError, match=r"^mode: 'vidoe' is not one of image, video\. Did you mean 'video'\?$"
    ):
        Remover(mode="vidoe")
    with pytest.raises(OptionError) as caught:
        Remover(mode="")
    assert caught.value.option == "mode"


@pytest.mark.models
@pytest.mark.parametrize(
    ("subject", "quality", "name"),
    [
        ("person", "fast", "{image}+smooth"),
        ("person", "balanced", "rvm@384"),
        ("person", "accurate", "rvm@512"),
        ("auto", "fast", "{image}+smooth"),  # whatever the image level runs, smoothed
    ],
)
def test_mode_picks_the_video_level(subject: str, quality: str, name: str) -> None:
    options = RemoveOptions(subject=subject, quality=quality)
    image = Remover(options)
    video = Remover(options, mode="video")
    assert (image.mode, video.mode) == ("image", "video")
    assert video.info.name == name.format(image=image.info.name)
