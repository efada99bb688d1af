"""The HTTP API on a real server: real photos and models, status codes, types and bodies."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from serving import FAST, SAMPLE, alpha_of, encoded, iou, live_server, people, wait_until_idle

from mattekit import RemoveOptions, Remover
from mattekit.cli import cli
from mattekit.server import ServerSettings

pytestmark = pytest.mark.models

SETTINGS = ServerSettings(workers=2, queue=4, max_upload_mb=3, max_pixels=4_000_000, timeout=60, preload=FAST)
PERSON_FAST = {"subject": "person", "quality": "fast"}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with live_server(SETTINGS) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def post(
    client: httpx.Client, path: str, image: bytes, name: str = "photo.jpg", **fields: str
) -> httpx.Response:
    return client.post(path, files={"file": (name, image, "image/jpeg")}, data=fields)


def test_health_ready_and_models(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] is True and "selfie" in ready["loaded"]
    assert (ready["workers"], ready["capacity"], ready["in_use"]) == (2, 6, 0)
    models = client.get("/v1/models").json()
    assert {"selfie", "isnet-medium", "deeplabv3-voc"} <= {m["name"] for m in models["models"]}
    assert "dog" in models["classes"] and "background" not in models["classes"]
    assert models["rembg_models"]["u2netp"] == {"subject": "auto", "quality": "fast"}
    assert models["rembg_models"]["u2net_human_seg"] == {"subject": "person", "quality": "balanced"}


def test_remove_cuts_people_out_as_the_library_does(client: httpx.Client) -> None:
    scores = []
    for image, truth in people(6):
        answer = post(client, "/v1/remove", image.read_bytes(), image.name, **PERSON_FAST)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "image/png"
        assert answer.headers["content-disposition"] == f'inline; filename="{image.stem}.cutout.png"'
        assert answer.headers["x-mattekit-segmenter"] == "selfie"
        assert Image.open(io.BytesIO(answer.content)).mode == "RGBA"
        scores.append(iou(alpha_of(answer.content), truth))
    assert np.mean(scores) >= 0.85, scores
    assert min(scores) >= 0.6, scores
    # the same bytes as the library's Remover with the same options
    photo = people(1)[0][0]
    expected = Remover(RemoveOptions(subject="person", quality="fast")).process(photo)
    answer = post(client, "/v1/remove", photo.read_bytes(), **PERSON_FAST)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(answer.content))), expected)


def test_raw_body_with_query_options_is_the_same_as_a_form(client: httpx.Client, sample_bytes: bytes) -> None:
    form = post(client, "/v1/remove", sample_bytes, **PERSON_FAST)
    raw = client.post(
        "/v1/remove", params=PERSON_FAST, content=sample_bytes, headers={"content-type": "image/jpeg"}
    )
    assert raw.status_code == form.status_code == 200
    assert raw.content == form.content


def test_replace_mask_sticker_and_formats(client: httpx.Client, sample_bytes: bytes) -> None:
    green = post(client, "/v1/replace", sample_bytes, bg="#00ff00", **PERSON_FAST)
    assert green.status_code == 200 and green.headers["content-type"] == "image/jpeg"
    corner = np.asarray(Image.open(io.BytesIO(green.content)).convert("RGB"))[5, -5].astype(int)
    assert corner[1] > 200 and corner[0] < 60 and corner[2] < 60, corner

    backdrop = encoded(Image.new("RGB", (64, 48), (200, 30, 30)), "PNG")
    picture = client.post(
        "/v1/replace",
        files={"file": ("photo.jpg", sample_bytes), "bg": ("red.png", backdrop)},
        data={**PERSON_FAST, "format": "png"},
    )
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert tuple(np.asarray(Image.open(io.BytesIO(picture.content)))[5, -5]) == (200, 30, 30)

    mask = post(client, "/v1/mask", sample_bytes, **PERSON_FAST)
    assert mask.status_code == 200 and mask.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(mask.content)).mode == "L"
    cutout = post(client, "/v1/remove", sample_bytes, **PERSON_FAST)
    assert np.array_equal(alpha_of(mask.content), alpha_of(cutout.content))

    sticker = post(client, "/v1/sticker", sample_bytes, outline="6", outline_color="white", **PERSON_FAST)
    assert sticker.status_code == 200
    made = Image.open(io.BytesIO(sticker.content))
    assert made.mode == "RGBA" and made.size != (512, 512)

    webp = post(client, "/v1/remove", sample_bytes, format="webp", **PERSON_FAST)
    assert webp.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(webp.content)).format == "WEBP"


def test_classes_answers_what_the_cli_prints(
    client: httpx.Client, sample_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = post(client, "/v1/classes", sample_bytes, "sample.jpg", quality="fast")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    monkeypatch.chdir(SAMPLE.parent)
    printed = CliRunner().invoke(cli, ["classes", "sample.jpg", "--quality", "fast", "--json"])
    assert printed.exit_code == 0, printed.output
    assert answer.json() == json.loads(printed.output)
    assert answer.json()[0]["classes"][0]["name"] == "person"


def _png_of_pixels(width: int, height: int) -> bytes:
    return encoded(Image.new("RGB", (width, height), (90, 120, 150)), "PNG")


FAULTS = [
    # (what, body or (files, data), status, words in the detail, option)
    ("oversized upload", {"content": b"\xff\xd8" + bytes(3_100_000)}, 413, "over the server's limit", None),
    (
        "too many pixels",
        {"files": {"file": ("big.png", _png_of_pixels(2500, 2000))}},
        413,
        "over the limit of 4 MP; the server's operator sets its limits",
        None,
    ),
    ("truncated JPEG", "truncated", 422, "truncated or corrupt", None),
    (
        "not an image",
        {"files": {"file": ("notes.txt", b"hello, these are notes")}},
        415,
        "not an image",
        None,
    ),
    ("empty body", {"content": b""}, 422, "no image", None),
    ("bad quality", {"data": {"quality": "fastest"}}, 422, "quality: 'fastest' is not one of", "quality"),
    ("unknown option", {"data": {"qualty": "fast"}}, 422, "unknown option", "qualty"),
    ("bad number", {"data": {"erode": "lots"}}, 422, "erode: 'lots' is not a whole number", "erode"),
    ("option of another verb", {"data": {"bg": "white"}}, 422, "/v1/remove does not take", "bg"),
    ("a server path as bg", {"path": "/v1/replace", "data": {"bg": str(SAMPLE)}}, 422, "not a colour", "bg"),
    (
        "over the pixel limit",
        {"data": {"max_pixels": "9000000"}},
        422,
        "at most the server's limit",
        "max_pixels",
    ),
    ("repeated option", {"params": {"quality": "accurate"}}, 422, "more than once", "quality"),
    ("bad format", {"data": {"format": "gif"}}, 422, "format: 'gif'", "format"),
]


@pytest.mark.parametrize(
    ("what", "request_", "status", "words", "option"), FAULTS, ids=[f[0] for f in FAULTS]
)
def test_faults_get_their_status_and_one_line(
    client: httpx.Client, sample_bytes: bytes, what: str, request_: object, status: int, words: str,
    option: str | None,
) -> None:  # fmt: skip
    if request_ == "truncated":
        request_ = {"files": {"file": ("cut.jpg", sample_bytes[: len(sample_bytes) // 2])}}
    assert isinstance(request_, dict)
    kwargs = dict(request_)
    path = kwargs.pop("path", "/v1/remove")
    if "content" not in kwargs and "files" not in kwargs:
        kwargs["files"] = {"file": ("photo.jpg", sample_bytes)}
    if "content" in kwargs:
        kwargs["params"] = {**PERSON_FAST, **kwargs.get("params", {})}
    else:
        kwargs["data"] = {**PERSON_FAST, **kwargs.get("data", {})}
    answer = client.post(path, **kwargs)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert words in body["detail"], body
    assert "\n" not in body["detail"] and "Traceback" not in body["detail"]
    assert body["option"] == option
    # and the server goes on serving
    assert post(client, "/v1/mask", sample_bytes, **PERSON_FAST).status_code == 200


def test_slots_are_free_after_the_faults(client: httpx.Client) -> None:
    assert wait_until_idle(client)["in_use"] == 0


def test_docs_and_openapi_are_served_locally(client: httpx.Client) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert not re.search(r"(src|href)=\"https?://", docs.text)
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/openapi.json").json()
    form = spec["paths"]["/v1/remove"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["quality"]["enum"] == ["fast", "balanced", "accurate"]
    assert {"/v1/replace", "/v1/mask", "/v1/sticker", "/v1/classes", "/api/remove", "/healthz"} <= set(
        spec["paths"]
    )


def test_page_and_assets_come_from_the_server(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "access-control-allow-origin" not in page.headers  # CORS is off by default
    for asset in ("/static/app.js", "/static/style.css"):
        answer = client.get(asset)
        assert answer.status_code == 200
        assert not re.search(r"https?://", answer.text), asset
    assert not re.search(r"https?://", page.text)
