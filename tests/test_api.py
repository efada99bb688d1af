"""The Python API: input types, outputs, composite, and the public surface."""

from __future__ import annotations

import io
import types

import numpy as np
import pytest
from PIL import Image

import mattekit
from evalset import EXAMPLES
from mattekit import InputError, OptionError, composite, remove, segment

ASTRONAUT = EXAMPLES / "astronaut.jpg"


def test_public_api_is_exactly_all() -> None:
    public = {
        name
        for name in dir(mattekit)
        if not name.startswith("_") and not isinstance(getattr(mattekit, name), types.ModuleType)
    }
    assert public == set(mattekit.__all__) - {"__version__"}
    assert set(mattekit.__all__) >= {
        "remove",
        "segment",
        "composite",
        "Remover",
        "RemoveOptions",
        "MattekitError",
        "process_video",
        "process_frames",
    }


def test_errors_share_one_root() -> None:
    for name in ("InputError", "InputTooLargeError", "UnsupportedInputError", "ModelError", "OptionError"):
        assert issubclass(getattr(mattekit, name), mattekit.MattekitError)
    assert issubclass(InputError, ValueError) and issubclass(OptionError, ValueError)


@pytest.mark.models
def test_every_input_type_gives_the_same_mask() -> None:
    data = ASTRONAUT.read_bytes()
    pil = Image.open(io.BytesIO(data))
    masks = [
        segment(source, subject="person", quality="fast")
        for source in (str(ASTRONAUT), ASTRONAUT, data, io.BytesIO(data), pil, np.asarray(pil.convert("RGB")))
    ]
    for mask in masks:
        assert mask.dtype == np.float32 and mask.shape == (512, 512)
        assert mask.min() >= 0.0 and mask.max() <= 1.0
        np.testing.assert_allclose(mask, masks[0], atol=0.02)  # JPEG decoders may differ by a level


@pytest.mark.models
def test_remove_returns_rgba_and_background_gives_rgb() -> None:
    cutout = remove(ASTRONAUT, subject="person", quality="fast")
    assert cutout.mode == "RGBA" and cutout.size == (512, 512)
    replaced = remove(ASTRONAUT, subject="person", quality="fast", background=(255, 0, 0))
    assert replaced.mode == "RGB"
    assert replaced.getpixel((5, 5)) == (255, 0, 0)


@pytest.mark.models
def test_input_alpha_is_respected() -> None:
    rgba = Image.open(ASTRONAUT).convert("RGBA")
    alpha = np.full((512, 512), 255, np.uint8)
    alpha[:, 256:] = 0  # the input itself hides its right half
    rgba.putalpha(Image.fromarray(alpha))
    mask = segment(rgba, subject="person", quality="fast")
    assert mask[:, 256:].max() == 0.0
    assert mask[200, 200] > 0.9


def test_composite_arithmetic_with_a_given_mask() -> None:
    image = np.zeros((4, 6, 3), np.uint8)
    image[:] = (200, 100, 50)
    mask = np.zeros((4, 6), np.float32)
    mask[:, :2] = 1.0
    mask[:, 2] = 0.5
    out = np.asarray(composite(image, mask, "#000000", estimate_foreground=False))
    assert tuple(out[0, 0]) == (200, 100, 50)
    assert tuple(out[0, 2]) == (100, 50, 25)
    assert tuple(out[0, 5]) == (0, 0, 0)


def test_composite_rejects_mask_of_wrong_size() -> None:
    with pytest.raises(
        InputError, match=r"mask must have the image's shape \(H, W\) = \(4, 6\), got \(3, 3\)"
    ):
        composite(np.zeros((4, 6, 3), np.uint8), np.zeros((3, 3), np.float32))


def test_bad_options_raise_option_error() -> None:
    with pytest.raises(OptionError, match="quality: 'best' is not one of fast, balanced, accurate"):
        segment(ASTRONAUT, quality="best")
    with pytest.raises(OptionError, match=r"unknown subject 'persn'.*Did you mean 'person'"):
        segment(ASTRONAUT, subject="persn")
