"""The server's settings, checked once, and the rule for binding beyond this machine."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from mattekit.errors import OptionError
from mattekit.models.runtime import usable_cpus
from mattekit.options import RemoveOptions

__all__ = ["API_KEY_ENV", "ServerSettings", "check_bind", "is_loopback"]

API_KEY_ENV = "MATTEKIT_API_KEY"
"""Environment variable read for the API key when none is given."""


def _default_workers() -> int:
    return max(1, min(4, usable_cpus() // 2))


@dataclass(frozen=True)
class ServerSettings:
    """How the server runs.

    Attributes:
        host, port: where it listens (127.0.0.1 unless an API key is set).
        workers: inference threads (each runs one request at a time).
        queue: requests that may wait for a worker; beyond, 503 with Retry-After.
        max_upload_mb: the most megabytes a request body may have (413 beyond).
        max_pixels: the most pixels an image (or background picture) may have (413 beyond).
        timeout: seconds a request's work may take, queue included (504), and its upload
            may take to arrive (408).
        api_key: required on every endpoint but /healthz, the page and the docs; None: none.
        cors: origins allowed to call the API from a browser (CORS is off when empty).
        preload: subject:quality pairs whose models load at start (/readyz waits for them).
        cache: how many Removers (one per distinct options) stay built.
        video_jobs: the most unfinished video jobs (503 beyond).
        max_video_seconds: the most seconds of a video a job processes.
    """

    host: str = "127.0.0.1"
    port: int = 7000
    workers: int = _default_workers()
    queue: int = 8
    max_upload_mb: float = 50.0
    max_pixels: int = 50_000_000
    timeout: float = 60.0
    api_key: str | None = None
    cors: tuple[str, ...] = ()
    preload: tuple[str, ...] = ("auto:balanced",)
    cache: int = 16
    video_jobs: int = 2
    max_video_seconds: float = 60.0

    def __post_init__(self) -> None:
        for name, low in (("workers", 1), ("queue", 0), ("cache", 1), ("max_pixels", 1), ("video_jobs", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise OptionError(f"{name}: must be a whole number >= {low}, got {value!r}", name)
        for name in ("max_upload_mb", "timeout", "max_video_seconds"):
            if not getattr(self, name) > 0:
                raise OptionError(f"{name}: must be more than 0, got {getattr(self, name)!r}", name)
        if not 0 <= self.port <= 65535:
            raise OptionError(f"port: must be from 0 to 65535, got {self.port}", "port")
        if self.api_key is not None and not self.api_key.strip():
            object.__setattr__(self, "api_key", None)
        for item in self.preload:
            self.preload_options(item)

    @property
    def max_upload(self) -> int:
        """The body limit in bytes."""
        return int(self.max_upload_mb * 1_000_000)

    def preload_options(self, item: str) -> RemoveOptions:
        """The options a "subject:quality" preload entry stands for.

        Raises:
            OptionError: not a subject and a quality level.
        """
        subject, _, quality = item.partition(":")
        try:
            return RemoveOptions(subject=subject or "auto", quality=quality or "balanced",
                                 max_pixels=self.max_pixels)  # fmt: skip
        except OptionError as exc:
            raise OptionError(f"preload: '{item}': {exc}", "preload") from None


def is_loopback(host: str) -> bool:
    """True for addresses only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond this machine without an API key.

    Raises:
        OptionError: `host` is not a loopback address and there is no key.
    """
    if not is_loopback(host) and not api_key:
        raise OptionError(
            f"host: {host} is reachable from other machines; set an API key with --api-key or "
            f"{API_KEY_ENV} to listen there (or keep the default 127.0.0.1)",
            "host",
        )
