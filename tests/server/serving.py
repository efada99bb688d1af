"""Helpers of the server tests: real servers (uvicorn on a free loopback port, in a thread,
one per test module; the models are loaded once per process and shared) and image checks."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from evalset import EVAL, ROOT

pytest.importorskip("fastapi", reason="the server extra is not installed")

from mattekit.server import ServerSettings, build_server

SAMPLE = ROOT / "src" / "mattekit" / "data" / "sample.jpg"
PEOPLE = EVAL / "people"
FAST = ("person:fast",)


@contextmanager
def live_server(settings: ServerSettings) -> Iterator[str]:
    """Serve `settings` on a free loopback port until the block ends; yields the base URL
    once /readyz says the preloaded models are in memory."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = build_server(replace(settings, host="127.0.0.1", port=port), log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    headers = {"X-API-Key": settings.api_key} if settings.api_key else {}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", headers=headers, timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"the test server at {url} did not get ready")
            time.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def wait_until_idle(client: httpx.Client, *, expect: int = 0, seconds: float = 30) -> dict[str, object]:
    """Poll /readyz until `expect` slots are in use (bounded); returns its last answer."""
    deadline = time.monotonic() + seconds
    while True:
        state: dict[str, object] = client.get("/readyz").json()
        if state["in_use"] == expect or time.monotonic() > deadline:
            return state
        time.sleep(0.02)


def people(count: int) -> list[tuple[Path, Path]]:
    """The first `count` photos of ../shared/eval/people with their truth masks."""
    images = sorted((PEOPLE / "images").glob("*.jpg"))[:count]
    return [(image, PEOPLE / "masks" / f"{image.stem}.png") for image in images]


def alpha_of(data: bytes) -> np.ndarray:
    """The alpha channel (0..255) of an encoded image, or its grey values for a mask."""
    image = Image.open(io.BytesIO(data))
    band = image.getchannel("A") if image.mode in ("RGBA", "LA") else image.convert("L")
    return np.asarray(band)


def iou(alpha: np.ndarray, truth_path: Path) -> float:
    """IoU of the alpha (>= 128) with the truth mask (>= 128), as ../shared/eval/score.py counts it."""
    truth = np.asarray(Image.open(truth_path).convert("L")) >= 128
    mask = alpha >= 128
    union = (mask | truth).sum()
    return 1.0 if union == 0 else float((mask & truth).sum() / union)


def encoded(image: Image.Image, fmt: str = "JPEG", **params: int) -> bytes:
    """An image encoded in memory."""
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()
