"""API keys, the bind rule, CORS and logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from serving import FAST, live_server

from mattekit.cli import cli
from mattekit.errors import OptionError
from mattekit.server import ServerSettings, check_bind
from mattekit.server.settings import is_loopback

pytestmark = pytest.mark.models

KEY = "correct horse battery staple"
ORIGIN = "http://pictures.test"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with live_server(ServerSettings(api_key=KEY, cors=(ORIGIN,), preload=FAST)) as url:
        yield url


def test_every_endpoint_but_healthz_needs_the_key(url: str, sample_bytes: bytes) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        assert client.get("/healthz").status_code == 200
        for method, path in [("GET", "/readyz"), ("GET", "/v1/models"), ("POST", "/v1/remove"),
                             ("POST", "/v1/classes"), ("POST", "/api/remove")]:  # fmt: skip
            answer = client.request(method, path, content=sample_bytes)
            assert answer.status_code == 401, path
            assert answer.json()["detail"].startswith("no API key")
            assert answer.headers["www-authenticate"].startswith("Bearer")
        wrong = client.get("/v1/models", headers={"X-API-Key": KEY + "x"})
        assert wrong.status_code == 401 and wrong.json()["detail"].startswith("wrong API key")
        assert client.get("/v1/models", headers={"X-API-Key": KEY}).status_code == 200
        bearer = client.post(
            "/v1/mask", params={"subject": "person", "quality": "fast"}, content=sample_bytes,
            headers={"Authorization": f"Bearer {KEY}"},
        )  # fmt: skip
        assert bearer.status_code == 200 and bearer.headers["content-type"] == "image/png"
        # the page, its assets and the docs carry no data: they load, and ask for the key
        assert client.get("/").status_code == 200
        assert client.get("/static/app.js").status_code == 200
        assert client.get("/docs").status_code == 200
        spec = client.get("/openapi.json").json()
        assert spec["components"]["securitySchemes"]["apiKey"] == {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
        }
        assert spec["security"] == [{"apiKey": []}]


def test_cors_only_for_the_given_origin(url: str) -> None:
    with httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": KEY}) as client:
        allowed = client.get("/v1/models", headers={"Origin": ORIGIN})
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        other = client.get("/v1/models", headers={"Origin": "http://elsewhere.test"})
        assert "access-control-allow-origin" not in other.headers
        preflight = client.options(
            "/v1/remove", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                                   "Access-Control-Request-Headers": "X-API-Key"}
        )  # fmt: skip
        assert preflight.status_code == 200


def test_logs_carry_no_image_data_nor_queries(
    url: str, sample_bytes: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    marker = "secretname1234"
    with caplog.at_level(logging.INFO, logger="mattekit.server"):
        answer = httpx.post(
            f"{url}/v1/mask", params={"subject": "person", "quality": "fast", "bg": marker},
            files={"file": (f"{marker}.jpg", sample_bytes)}, headers={"X-API-Key": KEY}, timeout=60,
        )  # fmt: skip
        assert answer.status_code == 422  # bg is not an option of mask
        httpx.post(
            f"{url}/v1/mask", params={"subject": "person", "quality": "fast"},
            files={"file": (f"{marker}.jpg", sample_bytes)}, headers={"X-API-Key": KEY}, timeout=60,
        )  # fmt: skip
    lines = [r.getMessage() for r in caplog.records if r.name == "mattekit.server"]
    assert any(re.fullmatch(r"POST /v1/mask 200 \d+\.\d{3}s in=\d+KB out=\d+KB", line) for line in lines), (
        lines
    )
    assert not any(marker in line or KEY in line for line in lines), lines


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True),
                                                ("localhost", True), ("0.0.0.0", False), ("::", False),
                                                ("192.168.1.4", False), ("example.test", False)])  # fmt: skip
def test_only_loopback_binds_without_a_key(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    if loopback:
        check_bind(host, None)
    else:
        with pytest.raises(OptionError, match=r"^host: .* reachable from other machines; set an API key"):
            check_bind(host, None)
        check_bind(host, "a key")


def test_serve_refuses_another_host_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATTEKIT_API_KEY", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("mattekit: error: --host: 0.0.0.0 is reachable from other machines")
    assert "--api-key or MATTEKIT_API_KEY" in lines[0]


def test_serve_rejects_a_bad_preload_in_one_line() -> None:
    result = CliRunner().invoke(cli, ["serve", "--preload", "person:fastest"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "mattekit: error: --preload: 'person:fastest': quality: 'fastest' is not one of fast, balanced, "
        "accurate. Did you mean 'fast'?"
    )
