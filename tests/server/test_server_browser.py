"""The web page in a real browser: Debian's chromium driven by Playwright, against a real server.

Chromium comes from the system (scripts/test.sh installs Debian's package when missing);
Playwright's own browser download is never used. Without a browser the test is skipped
with the reason, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from serving import FAST, iou, live_server, people

from mattekit.server import ServerSettings

pytestmark = pytest.mark.models

_CANVAS_PNG = "() => document.getElementById('after').toDataURL('image/png')"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the browser test must run in CI: {reason}")
    pytest.skip(reason)


def _chromium() -> str:
    for candidate in (os.environ.get("MATTEKIT_CHROMIUM", ""), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    _unavailable("no chromium (Debian's package 'chromium'; scripts/test.sh installs it as root)")
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (the test extra has it)")
    executable = _chromium()
    artifacts = Path(os.environ.get("MATTEKIT_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    with (
        live_server(ServerSettings(workers=2, queue=8, preload=FAST)) as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(url)
        page.artifacts = artifacts  # type: ignore[attr-defined]
        yield page
        context.close()
        browser.close()


@pytest.fixture(autouse=True)
def screenshot_on_failure(request: pytest.FixtureRequest, page: Any) -> Iterator[None]:
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed > failed_before:
        shot = page.artifacts / f"{request.node.name}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the page: {shot}")


def canvas_pixels(page: Any) -> np.ndarray:
    """The result canvas's pixels, RGBA, as the page holds them."""
    data_url = page.evaluate(_CANVAS_PNG)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGBA"))


def wait_for_result(page: Any) -> None:
    page.wait_for_selector("body[data-result='ready']", state="attached")


def test_cut_out_a_photo_chosen_with_the_keyboard(page: Any) -> None:
    photo, truth = people(1)[0]
    page.check('input[name="subject"][value="person"]')
    page.select_option("#quality", "fast")
    # Enter on the drop zone opens the file picker (the file input is clicked); Playwright's
    # file-chooser interception is unreliable with the system's chromium, so the file is then
    # set on the input directly
    page.evaluate(
        "() => document.getElementById('file').addEventListener('click', () => { window.picked = true; })"
    )
    page.focus("#drop")
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.picked === true")
    page.set_input_files("#file", str(photo))
    wait_for_result(page)
    pixels = canvas_pixels(page)
    with Image.open(photo) as original:
        assert pixels.shape[:2] == (original.height, original.width)
    alpha = pixels[..., 3]
    assert iou(alpha, truth) >= 0.85
    corners = [alpha[0, 0], alpha[0, -1]]
    assert max(corners) == 0, corners  # the top corners are background
    inside = np.asarray(Image.open(truth).convert("L")) == 255
    assert np.median(alpha[inside]) == 255
    assert "Done in" in page.text_content("#status")
    assert page.text_content("#error") == ""

    with page.expect_download() as download:
        page.click("#download-png")
    saved = Image.open(download.value.path())
    assert saved.format == "PNG" and saved.mode == "RGBA"
    assert np.array_equal(np.asarray(saved)[..., 3], alpha)


def test_a_colour_background_and_a_webp_download(page: Any) -> None:
    page.fill("#bg-color", "#ff0000")  # picking a colour selects the colour background
    assert page.is_checked('input[name="background"][value="color"]')
    wait_for_result(page)
    pixels = canvas_pixels(page)
    assert (pixels[..., 3] == 255).all()
    assert tuple(pixels[0, 0]) == (255, 0, 0, 255)
    _, truth = people(1)[0]
    inside = np.asarray(Image.open(truth).convert("L")) == 255
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 50) & (pixels[..., 2] < 50)
    assert red[inside].mean() < 0.05  # the person is not painted over

    with page.expect_download() as download:
        page.click("#download-webp")
    saved = Image.open(download.value.path())
    assert saved.format == "WEBP"
    assert saved.size == (pixels.shape[1], pixels.shape[0])
    corner = np.asarray(saved.convert("RGB"))[2, 2].astype(int)
    assert corner[0] > 200 and corner[1] < 60 and corner[2] < 60, corner


def test_the_slider_shows_before_and_after(page: Any) -> None:
    page.focus("#split")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    assert page.eval_on_selector("#after-wrap", "e => e.style.clipPath") == "inset(0px 0px 0px 55%)"


def test_server_errors_are_shown_in_the_page(page: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(people(1)[0][0].read_bytes()[:3000])
    page.set_input_files("#file", str(broken))
    page.wait_for_selector("#error:not(:empty)")
    message = page.text_content("#error")
    assert "broken.jpg" in message and "truncated or corrupt" in message
    assert page.is_hidden("#progress")
