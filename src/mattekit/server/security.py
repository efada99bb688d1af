"""The API key check: an ASGI middleware that compares keys in constant time.

The key comes in ``X-API-Key: KEY`` or ``Authorization: Bearer KEY``. Every path needs it
but the open ones: /healthz (liveness), and the page, its assets and the API docs, which are
the package's own files and carry no data; the page and the docs ask for the key and send it
with each call.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from mattekit.server.faults import Unauthorized, error_response

__all__ = ["OPEN_PATHS", "OPEN_PREFIXES", "ApiKeyMiddleware", "given_key"]

OPEN_PATHS = frozenset({"/healthz", "/", "/favicon.ico", "/docs", "/openapi.json", "/docs/oauth2-redirect"})
OPEN_PREFIXES = ("/static/", "/docs-assets/")


def given_key(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key a request carries, if any."""
    for name, value in headers:
        if name == b"x-api-key":
            return value.decode("latin-1").strip()
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return None


class ApiKeyMiddleware:
    """Answer 401 to requests without the right key (see the module's docstring)."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self._key = key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._open(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = given_key(scope["headers"])
        if key is None or not hmac.compare_digest(key.encode("utf-8"), self._key):
            reason = "no API key" if key is None else "wrong API key"
            fault = Unauthorized(f"{reason}: send it as 'X-API-Key: KEY' or 'Authorization: Bearer KEY'")
            await error_response(fault)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _open(path: str) -> bool:
        return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)
