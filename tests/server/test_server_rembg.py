"""rembg's /api/remove, as a rembg client sends it, on a real server."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image
from serving import FAST, alpha_of, iou, live_server, people

from mattekit.server import ServerSettings

pytestmark = pytest.mark.models

FAST_EXTRAS = {"extras": json.dumps({"quality": "fast"})}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with (
        live_server(ServerSettings(workers=1, queue=4, preload=FAST)) as url,
        httpx.Client(base_url=url, timeout=120) as client,
    ):
        yield client


def rembg_post(
    client: httpx.Client, image: bytes, params: dict[str, str] | None = None, **form: str
) -> httpx.Response:
    """What rembg's own client code sends: the file and form fields, bgc and extras in the query."""
    return client.post("/api/remove", files={"file": ("photo.jpg", image)}, data=form, params=params)


def test_a_rembg_request_gets_an_rgba_png(client: httpx.Client) -> None:
    photo, truth = people(1)[0]
    answer = rembg_post(client, photo.read_bytes(), model="u2netp")  # rembg's small model: auto fast
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content))
    assert image.format == "PNG" and image.mode == "RGBA"
    assert iou(alpha_of(answer.content), truth) >= 0.8


def test_rembg_fields_map_to_options(client: httpx.Client, sample_bytes: bytes) -> None:
    cutout = rembg_post(client, sample_bytes, FAST_EXTRAS, model="u2net_human_seg")
    mask = rembg_post(client, sample_bytes, FAST_EXTRAS, model="u2net_human_seg", om="true")
    assert Image.open(io.BytesIO(mask.content)).mode == "L"
    assert np.array_equal(alpha_of(mask.content), alpha_of(cutout.content))

    hard = rembg_post(client, sample_bytes, FAST_EXTRAS, model="u2net_human_seg", om="true", ppm="true")
    assert set(np.unique(alpha_of(hard.content))) <= {0, 255}

    blue = rembg_post(client, sample_bytes, {**FAST_EXTRAS, "bgc": "0,0,255,255"}, model="u2net_human_seg")
    pixels = np.asarray(Image.open(io.BytesIO(blue.content)))
    assert pixels.shape[2] == 4 and (pixels[..., 3] == 255).all()
    assert tuple(pixels[5, -5]) == (0, 0, 255, 255)

    matted = rembg_post(
        client, sample_bytes, FAST_EXTRAS, model="u2net_human_seg", a="true", af="240", ab="10", ae="10"
    )
    assert matted.status_code == 200 and Image.open(io.BytesIO(matted.content)).mode == "RGBA"


@pytest.mark.parametrize(
    ("form", "params", "option", "words"),
    [
        ({"model": "u2net_nope"}, {}, "model", "Did you mean 'u2net"),
        ({"model": "u2net_custom"}, {}, "model", "never does"),
        ({"af": "300"}, {}, "af", "from 0 to 255"),
        ({"om": "maybe"}, {}, "om", "yes/no"),
        ({}, {"bgc": "red"}, "bgc", "R,G,B,A"),
        ({}, {"extras": "{not json"}, "extras", "not JSON"),
        ({}, {"extras": json.dumps({"bg": "/etc/hostname"})}, "extras", "not an option here"),
    ],
)
def test_bad_rembg_fields_get_422(
    client: httpx.Client,
    sample_bytes: bytes,
    form: dict[str, str],
    params: dict[str, str],
    option: str,
    words: str,
) -> None:
    answer = rembg_post(client, sample_bytes, params, **form)
    assert answer.status_code == 422, answer.text
    assert answer.json()["option"] == option and words in answer.json()["detail"]


def test_no_url_fetching(client: httpx.Client) -> None:
    answer = client.get("/api/remove", params={"url": "http://127.0.0.1:1/photo.jpg"})
    assert answer.status_code == 405
    assert "never fetches images from URLs" in answer.json()["detail"]
