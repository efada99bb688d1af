"""Overload, timeouts and disconnects on a real uvicorn server over loopback sockets."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from serving import FAST, SAMPLE, encoded, live_server, wait_until_idle

from mattekit.server import ServerSettings

pytestmark = pytest.mark.models

PERSON_FAST = {"subject": "person", "quality": "fast"}


@pytest.fixture(scope="module")
def one_slot() -> Iterator[httpx.Client]:
    """A server with one worker and no queue: one request at a time, the next gets 503."""
    settings = ServerSettings(workers=1, queue=0, timeout=60, preload=FAST)
    with live_server(settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def hasty() -> Iterator[httpx.Client]:
    """A server whose requests time out after a quarter of a second."""
    settings = ServerSettings(workers=1, queue=1, timeout=0.25, preload=FAST)
    with live_server(settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def start_upload(client: httpx.Client, path: str = "/v1/remove", declared: int = 200_000) -> socket.socket:
    """Open a request that declares `declared` body bytes and send only the first thousand."""
    address = urlsplit(str(client.base_url))
    sock = socket.create_connection((address.hostname, address.port))
    head = (
        f"POST {path}?subject=person&quality=fast HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: image/jpeg\r\nContent-Length: {declared}\r\n\r\n"
    )
    sock.sendall(head.encode() + SAMPLE.read_bytes()[:1000])
    return sock


def remove(client: httpx.Client, image: bytes) -> httpx.Response:
    return client.post("/v1/remove", files={"file": ("photo.jpg", image)}, data=PERSON_FAST)


def test_a_full_queue_answers_503_with_retry_after(one_slot: httpx.Client, sample_bytes: bytes) -> None:
    held = start_upload(one_slot)
    try:
        assert wait_until_idle(one_slot, expect=1)["in_use"] == 1
        busy = remove(one_slot, sample_bytes)
        assert busy.status_code == 503
        assert int(busy.headers["retry-after"]) >= 1
        assert busy.json()["error"] == "QueueFull"
        assert "busy" in busy.json()["detail"]
    finally:
        held.close()  # the client goes away in the middle of its upload
    assert wait_until_idle(one_slot)["in_use"] == 0
    assert remove(one_slot, sample_bytes).status_code == 200


def test_disconnects_free_their_slots(one_slot: httpx.Client, sample_bytes: bytes) -> None:
    for _ in range(3):  # mid-upload, three times over: no slot may leak
        start_upload(one_slot).close()
        assert wait_until_idle(one_slot)["in_use"] == 0
    # a whole request whose client leaves before the answer
    address = urlsplit(str(one_slot.base_url))
    with socket.create_connection((address.hostname, address.port)) as sock:
        head = (
            f"POST /v1/remove?subject=person&quality=fast HTTP/1.1\r\nHost: {address.netloc}\r\n"
            f"Content-Type: image/jpeg\r\nContent-Length: {len(sample_bytes)}\r\n\r\n"
        )
        sock.sendall(head.encode() + sample_bytes)
    assert wait_until_idle(one_slot)["in_use"] == 0
    assert remove(one_slot, sample_bytes).status_code == 200


def test_slow_work_times_out_with_504_and_the_server_recovers(
    hasty: httpx.Client, sample_bytes: bytes
) -> None:
    big = encoded(Image.open(SAMPLE).resize((4000, 3000)), "JPEG", quality=30)  # 12 MP, about 0.3 MB
    late = remove(hasty, big)
    assert late.status_code == 504, late.text
    assert late.json()["error"] == "WorkTimeout" and "0.25 s" in late.json()["detail"]
    assert wait_until_idle(hasty)["in_use"] == 0  # the slot comes back once the work has stopped
    assert (
        hasty.post("/v1/mask", files={"file": ("p.jpg", sample_bytes)}, data=PERSON_FAST).status_code == 200
    )


def test_a_slow_upload_gets_408(hasty: httpx.Client) -> None:
    sock = start_upload(hasty)
    answer = ""
    try:
        sock.settimeout(30)
        while "}" not in answer:  # the JSON body's end, or the connection's
            chunk = sock.recv(4096).decode("latin-1")
            if not chunk:
                break
            answer += chunk
    finally:
        sock.close()
    assert answer.startswith("HTTP/1.1 408"), answer
    assert "did not arrive within 0.25 s" in answer
    assert wait_until_idle(hasty)["in_use"] == 0
