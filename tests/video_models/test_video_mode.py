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
    ("subject", "quality", "mode", "name"),
    [
        ("person", "fast", "image", "selfie"),
        ("person", "fast", "video", "selfie+smooth"),
        ("person", "balanced", "video", "rvm@384"),
        ("person", "accurate", "video", "rvm@512"),
        ("auto", "fast", "video", "isnet-medium@512+smooth"),
    ],
)
def test_mode_picks_the_video_level(subject: str, quality: str, mode: str, name: str) -> None:
    remover = Remover(RemoveOptions(subject=subject, quality=quality), mode=mode)
    assert (remover.mode, remover.info.name) == (mode, name)
