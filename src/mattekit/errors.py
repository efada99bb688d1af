"""The one exception hierarchy of mattekit.

    MattekitError
    ├── InputError (also ValueError)        unreadable, unsupported or too large input
    │   ├── UnsupportedInputError           not an image / video we can decode   (HTTP 415)
    │   └── InputTooLargeError              over the byte or pixel limit          (HTTP 413)
    ├── OptionError (also ValueError)       a bad option value or combination      (HTTP 422)
    └── ModelError                          missing, corrupt or unfetchable model  (HTTP 503)

Messages say what was expected, what was received, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "MattekitError",
    "InputError",
    "UnsupportedInputError",
    "InputTooLargeError",
    "OptionError",
    "ModelError",
]


class MattekitError(Exception):
    """Root of every error mattekit raises on purpose."""


class InputError(MattekitError, ValueError):
    """The input cannot be used: unreadable, unsupported, too large, or would be overwritten."""


class UnsupportedInputError(InputError):
    """The input is not in a format mattekit can decode."""


class InputTooLargeError(InputError):
    """The input is over a configured byte or pixel limit."""


class OptionError(MattekitError, ValueError):
    """An option has a bad value, or options conflict."""


class ModelError(MattekitError):
    """A model is missing, corrupt, or cannot be fetched or loaded."""
