"""The pixel limit: images over it are refused from the header, before any pixel is decoded."""

from __future__ import annotations

import os

from mattekit.errors import InputTooLargeError, OptionError

__all__ = ["DEFAULT_MAX_PIXELS", "MAX_PIXELS_ENV", "max_pixels_from_env"]

DEFAULT_MAX_PIXELS = 100_000_000
"""Largest image decoded by default (100 MP: a 12000x8000 photo fits, a 30000x30000 bomb does not)."""

MAX_PIXELS_ENV = "MATTEKIT_MAX_PIXELS"
"""Environment variable that overrides :data:`DEFAULT_MAX_PIXELS`."""


def max_pixels_from_env() -> int:
    """The pixel limit from ``MATTEKIT_MAX_PIXELS``, or :data:`DEFAULT_MAX_PIXELS` when unset.

    Returns:
        A positive pixel count.

    Raises:
        OptionError: The variable is set but is not a positive integer.
    """
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise OptionError(
            f"{MAX_PIXELS_ENV} must be a positive whole number of pixels (e.g. 200000000), got {raw!r}"
        )
    return value


def _check_pixels(size: tuple[int, int], label: str, limit: int) -> None:
    width, height = size
    pixels = width * height
    if pixels > limit:
        raise InputTooLargeError(
            f"{label} is {width}x{height} = {_megapixels(pixels)}, over the limit of {_megapixels(limit)}",
            f"raise it with --max-pixels or {MAX_PIXELS_ENV}",
        )


def _megapixels(pixels: int) -> str:
    if pixels < 100_000:
        return f"{pixels} pixels"
    return f"{pixels / 1e6:.1f}".rstrip("0").rstrip(".") + " MP"
