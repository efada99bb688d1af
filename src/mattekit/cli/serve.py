"""`mattekit serve`: the HTTP API and the web page (needs the ``server`` extra)."""

from __future__ import annotations

from typing import Any

import click

from mattekit.cli.common import Settings, cli, log

__all__ = ["serve"]

_EXTRA_HINT = "the server needs the 'server' extra: pip install 'mattekit[server]'"


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; any but loopback needs an API key.",
)
@click.option("--port", default=7000, show_default=True, type=click.IntRange(0, 65535), help="Port.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Inference threads. [default: half the CPUs, 1 to 4]",
)
@click.option(
    "--queue",
    type=click.IntRange(min=0),
    default=8,
    show_default=True,
    help="Requests that may wait for a worker; more get 503 with Retry-After.",
)
@click.option(
    "--max-upload",
    "max_upload",
    type=click.FloatRange(min=0, min_open=True),
    default=50.0,
    show_default=True,
    metavar="MB",
    help="Largest request body (413 beyond).",
)
@click.option(
    "--max-pixels",
    "max_pixels",
    type=click.IntRange(min=1),
    default=50_000_000,
    show_default=True,
    metavar="N",
    help="Largest image in pixels (413 beyond).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    metavar="S",
    help="Seconds a request's work may take (504) and its upload (408).",
)
@click.option(
    "--api-key",
    "api_key",
    envvar="MATTEKIT_API_KEY",
    default=None,
    metavar="KEY",
    help="Required on every call but /healthz, the page and the docs "
    "(X-API-Key or Authorization: Bearer). Prefer $MATTEKIT_API_KEY: a flag shows in ps.",
)
@click.option(
    "--cors",
    multiple=True,
    metavar="ORIGIN",
    help="Let web pages from ORIGIN call the API (repeatable). [default: off]",
)
@click.option(
    "--preload",
    multiple=True,
    metavar="SUBJECT:QUALITY",
    help="Load these levels' models at start (repeatable). [default: auto:balanced]",
)
@click.option(
    "--video-jobs",
    "video_jobs",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Unfinished video jobs allowed (POST /v1/video); more get 503.",
)
@click.option(
    "--max-video-seconds",
    "max_video_seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    metavar="S",
    help="Seconds of a video a job processes, at most (from its start).",
)
@click.pass_obj
def serve(settings: Settings, /, host: str, port: int, workers: int | None, queue: int, max_upload: float,
          max_pixels: int, timeout: float, api_key: str | None, cors: tuple[str, ...],
          preload: tuple[str, ...], video_jobs: int, max_video_seconds: float) -> None:  # fmt: skip
    """Serve the HTTP API and the web page.

    Example: mattekit serve, then
    curl -F file=@photo.jpg 127.0.0.1:7000/v1/remove -o photo.png
    """
    try:
        from mattekit.server import ServerSettings, check_bind, run_server
    except ImportError as exc:
        click.echo(f"mattekit: error: {_EXTRA_HINT} ({exc.name} is missing)", err=True)
        raise SystemExit(1) from None
    from mattekit import OptionError

    try:
        chosen: dict[str, Any] = {
            "host": host, "port": port, "queue": queue, "max_upload_mb": max_upload,
            "max_pixels": max_pixels, "timeout": timeout, "api_key": api_key, "cors": tuple(cors),
            "video_jobs": video_jobs, "max_video_seconds": max_video_seconds,
        }  # fmt: skip
        if workers:
            chosen["workers"] = workers
        if preload:
            chosen["preload"] = preload
        server_settings = ServerSettings(**chosen)
        check_bind(host, server_settings.api_key)
        shown = f"[{host}]" if ":" in host else host
        log.info("serving on http://%s:%d (page at /, API docs at /docs)", shown, port)
        run_server(server_settings, log_level="debug" if settings.debug else "info")
    except OptionError as exc:
        flag = f"--{exc.option.replace('_', '-')}" if exc.option else ""
        message = str(exc)
        if exc.option and message.startswith(f"{exc.option}:"):
            message = f"{flag}{message[len(exc.option) :]}"
        click.echo(f"mattekit: error: {message}", err=True)
        raise SystemExit(2) from None
