"""Running the application with uvicorn, on the address the settings allow."""

from __future__ import annotations

import socket

import uvicorn

from mattekit.server.app import create_app
from mattekit.server.settings import ServerSettings, check_bind

__all__ = ["build_server", "run_server"]


def build_server(settings: ServerSettings, *, log_level: str = "info") -> uvicorn.Server:
    """A uvicorn server for `settings`, not started (tests run it in a thread).

    Raises:
        OptionError: a non-loopback host without an API key.
    """
    check_bind(settings.host, settings.api_key)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,  # mattekit's own line per request (no query strings)
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


def run_server(
    settings: ServerSettings, *, log_level: str = "info", sock: socket.socket | None = None
) -> None:
    """Serve until interrupted.

    Args:
        settings: how to serve.
        log_level: uvicorn's log level.
        sock: an already bound socket to serve on (settings.host and port are then only
            checked, not bound).

    Raises:
        OptionError: a non-loopback host without an API key.
    """
    server = build_server(settings, log_level=log_level)
    server.run(sockets=[sock] if sock is not None else None)
