"""One object out of several: ranking connected pieces by size, keeping soft edges."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from evalset import EVAL
from mattekit import segment
from mattekit.errors import OptionError
from mattekit.segmenters.instances import parse_instance
from mattekit.stages.pieces import select_instance


def _two_discs() -> np.ndarray:
    mask = np.zeros((200, 300), np.float32)
    cv2.circle(mask, (70, 100), 50, 1.0, -1)  # the larger
    cv2.circle(mask, (220, 100), 30, 1.0, -1)
    mask[0, 299] = 1.0  # a speck: not an object
    return cv2.GaussianBlur(mask, (7, 7), 2)


def test_largest_second_and_missing() -> None:
    mask = _two_discs()
    first, second, third = (select_instance(mask, rank) for rank in (1, 2, 3))
    assert first[100, 70] > 0.99 and first[100, 220] == 0.0
    assert second[100, 220] > 0.99 and second[100, 70] == 0.0
    assert third.max() == 0.0
    assert first[0, 299] == 0.0 and second[0, 299] == 0.0


def test_soft_edge_of_the_chosen_piece_stays() -> None:
    mask = _two_discs()
    edge = mask[100, 70 - 53]  # just outside the larger disc: soft, below 0.5
    assert 0.0 < edge < 0.5
    assert select_instance(mask, 1)[100, 70 - 53] == edge


@pytest.mark.parametrize(("text", "rank"), [("largest", 1), ("1", 1), (" 3 ", 3), (2, 2)])
def test_parse_instance(text: str | int, rank: int) -> None:
    assert parse_instance(text) == rank


@pytest.mark.parametrize("bad", ["0", "-1", "biggest", "1.5"])
def test_bad_instance_is_an_option_error(bad: str) -> None:
    with pytest.raises(OptionError, match="instance must be 'largest' or a number from 1"):
        parse_instance(bad)


@pytest.mark.models
def test_largest_sheep_is_one_piece_of_the_sheep_class() -> None:
    photo = EVAL / "voc" / "images" / "voc023.jpg"
    whole = segment(photo, subject="sheep", quality="fast")
    largest = segment(photo, subject="sheep", quality="fast", instance="largest")
    count = cv2.connectedComponents((largest >= 0.5).astype(np.uint8))[0] - 1
    assert count == 1
    assert 0.9 * (whole >= 0.5).sum() <= (largest >= 0.5).sum() <= (whole >= 0.5).sum()


@pytest.mark.models
def test_cli_missing_instance_warns_and_writes_an_empty_cutout(tmp_path) -> None:
    from click.testing import CliRunner
    from PIL import Image

    from evalset import EXAMPLES
    from mattekit.cli import cli

    out = tmp_path / "third.png"
    cat = EXAMPLES / "chelsea.jpg"
    result = CliRunner().invoke(
        cli, ["remove", str(cat), "-s", "cat", "-Q", "fast", "--instance", "3", "-o", str(out)]
    )
    assert result.exit_code == 0
    assert f"mattekit: warning: {cat}: no object #3 by size of the kept classes (cat) found" in result.stderr
    assert np.asarray(Image.open(out))[..., 3].max() == 0
