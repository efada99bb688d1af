"""Video jobs on a real server: a real clip (DAVIS frames from ../shared/eval/video), the job's
life from 202 to the one download, the duration limit, cancelling and bad requests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from PIL import Image
from serving import FAST, live_server

from evalset import EVAL
from mattekit import RemoveOptions
from mattekit.server import ServerSettings
from mattekit.video import process_video

pytestmark = pytest.mark.models

SEQUENCE = EVAL / "video" / "dance-twirl"
FRAMES = 12  # half a second at 24 fps
LIMIT_S = 0.25  # the server processes the first quarter second: 6 frames
PERSON_FAST = {"subject": "person", "quality": "fast"}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    settings = ServerSettings(workers=1, queue=2, video_jobs=2, max_video_seconds=LIMIT_S, preload=FAST)
    with live_server(settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The first frames of the dancer, as H.264 in MP4 at 24 fps."""
    path = tmp_path_factory.mktemp("clip") / "dance.mp4"
    images = [
        np.asarray(Image.open(f).convert("RGB")) for f in sorted((SEQUENCE / "frames").glob("*.jpg"))[:FRAMES]
    ]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(24))
        stream.pix_fmt = "yuv420p"
        stream.width, stream.height = images[0].shape[1], images[0].shape[0]
        for index, image in enumerate(images):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path.read_bytes()


def start(client: httpx.Client, clip: bytes, **fields: str) -> httpx.Response:
    return client.post(
        "/v1/video", files={"file": ("dance.mp4", clip, "video/mp4")}, data={**PERSON_FAST, **fields}
    )


def wait_done(client: httpx.Client, job: str) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while True:
        state: dict[str, object] = client.get(f"/v1/jobs/{job}").json()
        if state["state"] not in ("queued", "running") or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def test_a_video_job_from_202_to_its_one_download(client: httpx.Client, clip: bytes, tmp_path: Path) -> None:
    accepted = start(client, clip, bg="#00ff00", format="mp4")
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()["id"]
    assert accepted.headers["location"] == f"/v1/jobs/{job}"
    state = wait_done(client, job)
    assert state["state"] == "done", state
    assert state["progress"] == 1.0 and state["result_url"] == f"/v1/jobs/{job}/result"

    answer = client.get(f"/v1/jobs/{job}/result")
    assert answer.status_code == 200 and answer.headers["content-type"] == "video/mp4"
    (tmp_path / "out.mp4").write_bytes(answer.content)
    with av.open(str(tmp_path / "out.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == round(LIMIT_S * 24) == state["frames"]  # the server's duration limit
    truth = [
        np.asarray(Image.open(f).convert("L")) >= 128 for f in sorted((SEQUENCE / "masks").glob("*.png"))
    ]
    scores = []
    for frame, person in zip(frames, truth, strict=False):
        r, g, b = (frame[..., i].astype(int) for i in range(3))
        kept = ~((g > 180) & (r < 90) & (b < 90))  # what is not the green background
        scores.append((kept & person).sum() / (kept | person).sum())
    assert min(scores) >= 0.6, scores  # the dancer, on green

    # the same frames as the library makes from the same clip and options
    (tmp_path / "in.mp4").write_bytes(clip)
    options = RemoveOptions(subject="person", quality="fast", background="#00ff00")
    process_video(tmp_path / "in.mp4", tmp_path / "local.mp4", options, duration=LIMIT_S)
    with av.open(str(tmp_path / "local.mp4")) as container:
        local = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(local) == len(frames)
    assert max(np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(local, frames, strict=True)) < 1.0

    assert client.get(f"/v1/jobs/{job}/result").status_code == 404  # handed over once
    assert client.get(f"/v1/jobs/{job}").status_code == 404


def test_a_job_can_be_cancelled(client: httpx.Client, clip: bytes) -> None:
    job = start(client, clip).json()["id"]
    cancelled = client.delete(f"/v1/jobs/{job}")
    assert cancelled.status_code == 200 and cancelled.json() == {"id": job, "state": "cancelled"}
    assert client.get(f"/v1/jobs/{job}").status_code == 404


@pytest.mark.parametrize(
    ("files", "fields", "status", "option", "words"),
    [
        ({"file": ("notes.txt", b"not a video")}, {}, 415, None, "name the upload with its extension"),
        (None, {"quality": "fastest"}, 422, "quality", "is not one of"),
        (None, {"format": "mp4"}, 422, "format", "cannot carry transparency"),
        (None, {"format": "avi"}, 422, "format", "is not one of"),
        (None, {"crop": "5%"}, 422, "crop", "does not take"),
    ],
)
def test_bad_video_requests(
    client: httpx.Client,
    clip: bytes,
    files: dict[str, tuple[str, bytes]] | None,
    fields: dict[str, str],
    status: int,
    option: str | None,
    words: str,
) -> None:
    answer = client.post(
        "/v1/video", files=files or {"file": ("dance.mp4", clip)}, data={**PERSON_FAST, **fields}
    )
    assert answer.status_code == status, answer.text
    assert answer.json()["option"] == option and words in answer.json()["detail"]


def test_unknown_jobs_are_404(client: httpx.Client) -> None:
    for method, path in [
        ("GET", "/v1/jobs/nope"),
        ("GET", "/v1/jobs/nope/result"),
        ("DELETE", "/v1/jobs/nope"),
    ]:
        answer = client.request(method, path)
        assert answer.status_code == 404 and "no video job" in answer.json()["detail"]


def test_a_failed_job_reports_its_error_as_the_endpoints_do(client: httpx.Client, tmp_path: Path) -> None:
    # An animation over the pixel limit the request asks for fails in the job; its error has
    # the body of the endpoints' errors, with the status it would have had, and no
    # command-line flag to pass.
    frames = [Image.new("RGB", (64, 48), (40 * i, 90, 160)) for i in range(3)]
    path = tmp_path / "wave.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    answer = client.post(
        "/v1/video",
        files={"file": ("wave.gif", path.read_bytes(), "image/gif")},
        data={**PERSON_FAST, "bg": "white", "format": "webp", "max_pixels": "1000"},
    )
    assert answer.status_code == 202, answer.text
    state = wait_done(client, answer.json()["id"])
    assert state["state"] == "failed", state
    error = state["error"]
    assert isinstance(error, dict)
    assert error["error"] == "InputTooLargeError" and error["status"] == 413 and error["option"] is None
    assert "64x48 is over the limit of 1000 pixels per frame" in error["detail"]
    assert "--max-pixels" not in error["detail"]
