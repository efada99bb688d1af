"""What the server answers when something goes wrong: one table of statuses, one JSON body.

The library's errors map through `mattekit.errors.HTTP_STATUSES`; the server's own faults
(a full queue, a timeout, a missing key) are added here:

    QueueFull        503  + Retry-After: every worker busy and the queue full
    WorkTimeout      504  the work took longer than the per-request timeout
    UploadTimeout    408  the upload did not arrive within the timeout
    Unauthorized     401  no API key, or the wrong one
    NotServed        405  something this server never does (fetching an image from a URL)
    NotFound         404  no such video job (unknown, downloaded, cancelled or expired)
    JobNotDone       409  a video job's result asked for before it is done
    ModelsLoading    503  + Retry-After: /readyz before the preloaded models are in memory

Every error answer is JSON, ``{"error": <class>, "detail": <one line>, "option": <name or null>}``.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.responses import JSONResponse

from mattekit.errors import InputTooLargeError, MattekitError, OptionError, http_status

__all__ = [
    "SERVER_STATUSES",
    "JobNotDone",
    "ModelsLoading",
    "NotFound",
    "NotServed",
    "QueueFull",
    "ServerFault",
    "Unauthorized",
    "UploadTimeout",
    "WorkTimeout",
    "error_body",
    "error_response",
    "status_for",
]


class ServerFault(MattekitError):
    """A fault of the serving itself, not of the input or options.

    Attributes:
        retry_after: seconds a client should wait before trying again, when that helps.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QueueFull(ServerFault):
    """Every worker is busy and the queue is full."""


class WorkTimeout(ServerFault):
    """The work did not finish within the per-request timeout."""


class UploadTimeout(ServerFault):
    """The request body did not arrive within the timeout."""


class Unauthorized(ServerFault):
    """The API key is missing or wrong."""


class NotServed(ServerFault):
    """A request for something this server never does."""


class NotFound(ServerFault):
    """No such thing (a video job that is unknown, downloaded, cancelled or expired)."""


class JobNotDone(ServerFault):
    """A video job's result was asked for before the job was done."""


class ModelsLoading(ServerFault):
    """The preloaded models are not in memory yet."""


SERVER_STATUSES: dict[type[MattekitError], int] = {
    QueueFull: 503,
    ModelsLoading: 503,
    WorkTimeout: 504,
    UploadTimeout: 408,
    Unauthorized: 401,
    NotServed: 405,
    NotFound: 404,
    JobNotDone: 409,
}
"""The server's own faults; everything else is looked up in `HTTP_STATUSES`."""


def status_for(exc: MattekitError) -> int:
    """The HTTP status for an error: the server's table first, then the library's."""
    for cls in type(exc).__mro__:
        if cls in SERVER_STATUSES:
            return SERVER_STATUSES[cls]
    return http_status(exc)


def one_line(exc: BaseException) -> str:
    """The error's message on one line, as a client of the server reads it."""
    message = str(exc)
    if isinstance(exc, InputTooLargeError) and exc.hint:
        # The caller's own hint (a command-line flag) means nothing to a client of the server.
        message = f"{exc.reason}; the server's operator sets its limits"
    return " ".join(message.split()) or type(exc).__name__


def error_body(exc: MattekitError) -> dict[str, Any]:
    """The JSON body of an error answer (a failed video job carries the same)."""
    return {
        "error": type(exc).__name__,
        "detail": one_line(exc),
        "option": exc.option if isinstance(exc, OptionError) else None,
    }


def error_response(exc: MattekitError) -> JSONResponse:
    """The JSON answer for an error, with Retry-After and WWW-Authenticate where they apply."""
    headers: dict[str, str] = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="mattekit"'
    return JSONResponse(error_body(exc), status_code=status_for(exc), headers=headers)
