"""The one exception hierarchy of mattekit.

    MattekitError
    ├── InputError (also ValueError)        unreadable, unsupported or too large input
    │   ├── UnsupportedInputError           not an image / video we can decode   (HTTP 415)
    │   └── InputTooLargeError              over the byte or pixel limit          (HTTP 413)
    ├── OptionError (also ValueError)       a bad option value or combination      (HTTP 422)
    └── ModelError                          missing, corrupt or unfetchable model  (HTTP 503)

Messages say what was expected, what was received, and how to fix it. The shells map
the classes to outcomes through one table each: `EXIT_CODES` for the command line and
`HTTP_STATUSES` for the server (the nearest class in the error's MRO wins).
"""

from __future__ import annotations

__all__ = [
    "EXIT_CODES",
    "HTTP_STATUSES",
    "InputError",
    "InputTooLargeError",
    "MattekitError",
    "ModelError",
    "OptionError",
    "UnsupportedInputError",
    "exit_code",
    "http_status",
]


class MattekitError(Exception):
    """Root of every error mattekit raises on purpose."""


class InputError(MattekitError, ValueError):
    """The input cannot be used: unreadable, unsupported, too large, or would be overwritten."""


class UnsupportedInputError(InputError):
    """The input is not in a format mattekit can decode."""


class InputTooLargeError(InputError):
    """The input is over a configured byte or pixel limit.

    Attributes:
        reason: what is over which limit, without the hint.
        hint: how to raise the limit where the caller can ("raise it with --max-pixels or
            MATTEKIT_MAX_PIXELS"); a server, where only its operator can, words its own.
    """

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(f"{reason}; {hint}" if hint else reason)
        self.reason = reason
        self.hint = hint


class OptionError(MattekitError, ValueError):
    """An option has a bad value, or options conflict.

    Attributes:
        option: the option's name as every surface spells it ("quality", "bg"), when one
            option is at fault; the message then starts with it ("quality: ...").
    """

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


class ModelError(MattekitError):
    """A model is missing, corrupt, or cannot be fetched or loaded."""


EXIT_CODES: dict[type[MattekitError], int] = {
    OptionError: 2,
    InputError: 1,
    ModelError: 1,
    MattekitError: 1,
}
"""Exit status of the command line for each error class (2: usage error)."""

HTTP_STATUSES: dict[type[MattekitError], int] = {
    UnsupportedInputError: 415,
    InputTooLargeError: 413,
    InputError: 422,
    OptionError: 422,
    ModelError: 503,
    MattekitError: 500,
}
"""HTTP status of the server's answer for each error class."""


def _lookup(table: dict[type[MattekitError], int], exc: MattekitError) -> int:
    for cls in type(exc).__mro__:
        if cls in table:
            return table[cls]
    return table[MattekitError]


def exit_code(exc: MattekitError) -> int:
    """The command line's exit status for `exc` (see `EXIT_CODES`)."""
    return _lookup(EXIT_CODES, exc)


def http_status(exc: MattekitError) -> int:
    """The server's HTTP status for `exc` (see `HTTP_STATUSES`)."""
    return _lookup(HTTP_STATUSES, exc)
