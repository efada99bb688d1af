"""What goes behind the subject: small types that compose themselves.

    Transparent()        a cutout (RGBA)
    Color((r, g, b))     a solid colour
    Picture(rgb)         another picture, scaled to cover and centre-cropped
    Blur(radius)         the photo itself, blurred (portrait mode)

Each has `compose(rgb, alpha, foreground)`. A picture is decoded once, when it is made,
and scaled once per frame size (a few sizes are remembered), so a Remover or a video
reuses it for every frame.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from mattekit.errors import MattekitError, OptionError
from mattekit.io.images import decode_image
from mattekit.stages import _arrays, compose

__all__ = ["Background", "Blur", "Color", "Picture", "Transparent", "parse_background"]

Pixels = NDArray[np.uint8]
Alpha = NDArray[np.float32]

# Portrait-mode blur radius when none is given: a fraction of the image's longer side, so a
# 12 MP photo and a 720p frame look alike.
_DEFAULT_BLUR_FRACTION = 0.015
_MAX_BLUR = 500.0
# How many frame sizes a picture background keeps scaled copies for.
_PICTURE_SIZES = 4


class Background(ABC):
    """A background: composes the subject of a photo over itself."""

    transparent: ClassVar[bool] = False
    """True when the result is a cutout (RGBA) rather than a picture (RGB)."""

    @abstractmethod
    def compose(self, rgb: Pixels, alpha: Alpha, foreground: Pixels | None = None) -> Pixels:
        """The subject of `rgb` (where `alpha` is 1) over this background.

        Args:
            rgb: the photo, RGB uint8 HxWx3.
            alpha: the subject's soft mask, float32 HxW in [0, 1].
            foreground: the subject's own colours at soft edges (see
                `mattekit.stages.compose.estimate_foreground`); None to use `rgb`.

        Returns:
            RGBA uint8 for a transparent background, else RGB uint8.
        """

    def compose_estimating(self, rgb: Pixels, alpha: Alpha) -> Pixels:
        """`compose` with the subject's own colours at soft edges, estimated here (no halo).

        The same as ``compose(rgb, alpha, estimate_foreground(rgb, alpha))``; a background
        may do it in fewer passes (a cutout only needs the colours where alpha is soft).
        """
        return self.compose(rgb, alpha, compose.estimate_foreground(rgb, alpha))


@dataclass(frozen=True)
class Transparent(Background):
    """No background: a cutout with the mask as its alpha channel."""

    transparent: ClassVar[bool] = True

    def compose(self, rgb: Pixels, alpha: Alpha, foreground: Pixels | None = None) -> Pixels:
        """RGBA cutout."""
        return compose.cutout(rgb, alpha, foreground=foreground)

    def compose_estimating(self, rgb: Pixels, alpha: Alpha) -> Pixels:
        """RGBA cutout with estimated edge colours, in one pass (`compose.cutout_with_foreground`)."""
        return compose.cutout_with_foreground(rgb, alpha)


@dataclass(frozen=True)
class Color(Background):
    """A solid colour, (r, g, b) in 0..255."""

    rgb: tuple[int, int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "rgb", _arrays.check_color(self.rgb))

    def compose(self, rgb: Pixels, alpha: Alpha, foreground: Pixels | None = None) -> Pixels:
        """RGB over the colour."""
        return compose.over_color(rgb, alpha, self.rgb, foreground=foreground)


@dataclass(frozen=True)
class Blur(Background):
    """The photo's own background, blurred (portrait mode).

    Attributes:
        radius: Gaussian radius in pixels, in (0, 500]; None for 1.5% of the longer side.
    """

    radius: float | None = None

    def __post_init__(self) -> None:
        number = None if self.radius is None else _arrays.number(self.radius)
        if self.radius is not None and (number is None or not 0 < number <= _MAX_BLUR):
            raise OptionError(
                f"bg: blur radius must be a number of pixels in (0, {_MAX_BLUR:g}], got {self.radius!r}",
                "bg",
            )

    def radius_for(self, height: int, width: int) -> float:
        """The radius used for an image of this size."""
        return self.radius or max(2.0, _DEFAULT_BLUR_FRACTION * max(height, width))

    def compose(self, rgb: Pixels, alpha: Alpha, foreground: Pixels | None = None) -> Pixels:
        """RGB over the blurred photo."""
        radius = self.radius_for(*rgb.shape[:2])
        return compose.over_blur(rgb, alpha, radius, foreground=foreground)


class Picture(Background):
    """Another picture behind the subject, scaled to cover the frame and centre-cropped.

    Safe to share between threads: the scaled copies are kept under a lock.

    Args:
        image: the picture, RGB uint8 HxWx3 (see `Picture.load` for files and bytes).
    """

    def __init__(self, image: NDArray[np.uint8]) -> None:
        self.image = _arrays.check_image(image, "background")
        self._covered: dict[tuple[int, int], NDArray[np.uint8]] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, source: object, *, max_pixels: int | None = None) -> Picture:
        """Decode a picture from a path, bytes, a binary file, PIL or numpy image.

        Raises:
            InputError: it cannot be read, is not an image, or is too large (the same
                subclass as for any input, with the message prefixed "background image:").
        """
        try:
            decoded = decode_image(source, name="background", max_pixels=max_pixels)  # type: ignore[arg-type]
        except MattekitError as exc:
            raise type(exc)(f"background image: {exc}") from exc
        return cls(decoded.rgb)

    def covered(self, height: int, width: int) -> NDArray[np.uint8]:
        """The picture scaled to cover (width, height) and centre-cropped, made once per size."""
        key = (height, width)
        with self._lock:
            found = self._covered.get(key)
        if found is None:
            found = compose.cover(self.image, width, height)
            with self._lock:
                if len(self._covered) >= _PICTURE_SIZES:
                    self._covered.pop(next(iter(self._covered)))
                self._covered[key] = found
        return found

    def compose(self, rgb: Pixels, alpha: Alpha, foreground: Pixels | None = None) -> Pixels:
        """RGB over the picture."""
        back = self.covered(*rgb.shape[:2])
        return compose.over_image(rgb, alpha, back, foreground=foreground)

    def __repr__(self) -> str:
        h, w = self.image.shape[:2]
        return f"Picture({w}x{h})"


def parse_background(spec: object, *, max_pixels: int | None = None) -> Background:
    """Read a background from the forms users give it.

    Accepts None, "none" or "transparent"; "blur" or "blur:RADIUS"; a colour name or #hex
    code; an (r, g, b) tuple; a path to an image; an image (PIL, array, bytes); or a
    `Background`.

    Raises:
        OptionError: text that is none of those (the message starts with "bg:").
        InputError: the picture cannot be read or is too large.

    Example:
        >>> parse_background("blur:20"), parse_background("white")
        (Blur(radius=20.0), Color(rgb=(255, 255, 255)))
    """
    if spec is None:
        return Transparent()
    if isinstance(spec, Background):
        return spec
    if isinstance(spec, tuple) and len(spec) == 3:
        return Color(_arrays.check_color(spec))
    if isinstance(spec, str):
        text = spec.strip()
        lower = text.lower()
        if lower == "blur" or lower.startswith("blur:"):
            return Blur(_blur_radius(text))
        if lower in {"none", "transparent"}:
            return Transparent()
        if text.startswith("#") or not os.path.exists(text):
            try:
                return Color(compose.parse_color(text))
            except OptionError:
                raise OptionError(
                    f"bg: background '{text}' is not a colour (a name like 'white' or a code like "
                    "'#00ff00'), 'blur' or 'blur:RADIUS', 'transparent', or an existing image file",
                    "bg",
                ) from None
        spec = Path(text)
    return Picture.load(spec, max_pixels=max_pixels)


def _blur_radius(text: str) -> float | None:
    _, _, value = text.partition(":")
    if not value:
        return None
    try:
        radius = float(value)
    except ValueError:
        radius = -1.0
    if not 0 < radius <= _MAX_BLUR:
        raise OptionError(
            f"bg: blur radius must be a number of pixels in (0, {_MAX_BLUR:g}], got '{value}'", "bg"
        )
    return radius
