"""Animated GIF, WebP and PNG in and out, with Pillow.

`AnimationReader` gives the frames of an animation as `Frame`s (RGB, or RGBA when it has
transparency), each with its own duration, in milliseconds; `AnimationWriter` takes frames
and writes an animated WebP (with alpha), GIF (with a transparency index) or PNG (APNG),
keeping the per-frame durations and the loop count, atomically.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from PIL import GifImagePlugin, Image, PngImagePlugin, WebPImagePlugin

from mattekit.errors import InputError, InputTooLargeError, OptionError, UnsupportedInputError
from mattekit.io.frames import Frame
from mattekit.io.images import max_pixels_from_env, write_atomic

__all__ = [
    "ANIMATION_EXTENSIONS",
    "MAX_ANIMATION_BYTES",
    "AnimationInfo",
    "AnimationReader",
    "AnimationWriter",
    "is_animation",
]

MILLISECOND: Final = Fraction(1, 1000)

ANIMATION_EXTENSIONS: Final = {".gif": "GIF", ".webp": "WEBP", ".png": "PNG", ".apng": "PNG"}
"""Extensions an animation is written to, with Pillow's format names."""

MAX_ANIMATION_BYTES: Final = 1 << 30
"""Largest animation held for writing (RGBA bytes of all frames): Pillow writes an animation
from all its frames at once; longer clips belong in a video file."""

_FORMATS: Final = (
    GifImagePlugin.GifImageFile.format,
    WebPImagePlugin.WebPImageFile.format,
    PngImagePlugin.PngImageFile.format,
)
_GIF_DEFAULT_MS: Final = 100  # what browsers show a GIF frame that says 0 ms for


def is_animation(path: str | os.PathLike[str]) -> bool:
    """True for a GIF, WebP or PNG file with more than one frame (reads the header only)."""
    try:
        with Image.open(path, formats=list(_FORMATS)) as image:
            return bool(getattr(image, "is_animated", False))
    except (OSError, ValueError, Image.DecompressionBombError):
        return False


@dataclass(frozen=True)
class AnimationInfo:
    """What an animation holds.

    Attributes:
        width, height: the canvas size.
        frames: how many frames.
        duration: the total time in seconds.
        loop: how often it plays (0: forever); None when the file does not say (GIF: once).
        format: Pillow's format name ("GIF", "WEBP", "PNG").
        alpha: whether any frame has transparency.
    """

    width: int
    height: int
    frames: int
    duration: float
    loop: int | None
    format: str
    alpha: bool


class AnimationReader:
    """The frames of an animated GIF, WebP or PNG, fully composed, with their durations.

    Frames are `Frame`s in milliseconds (`time_base` 1/1000); their `pts` increase strictly
    (a frame shown for 0 ms still gets its own millisecond), their `duration` is the file's.

    Args:
        path: the file.
        max_pixels: refuse larger canvases; None for the default limit.

    Raises:
        InputError: the file is missing or too large.
        UnsupportedInputError: not a GIF, WebP or PNG.
    """

    def __init__(self, path: str | os.PathLike[str], *, max_pixels: int | None = None) -> None:
        self.path = Path(path)
        self.warnings: list[str] = []
        self.audio_streams: list[Any] = []
        label = os.fspath(path)
        try:
            self._image = Image.open(path, formats=list(_FORMATS))
        except FileNotFoundError as exc:
            raise InputError(f"{label}: no such file") from exc
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise UnsupportedInputError(f"{label}: not a GIF, WebP or PNG animation ({exc})") from exc
        image = self._image
        limit = max_pixels or max_pixels_from_env()
        if image.width * image.height > limit:
            image.close()
            raise InputTooLargeError(
                f"{label}: {image.width}x{image.height} is over the limit of {limit} pixels per frame"
            )
        count = int(getattr(image, "n_frames", 1))
        durations = []
        alpha = False
        for index in range(count):
            image.seek(index)
            image.load()  # WebP tells a frame's duration when it is decoded
            durations.append(int(image.info.get("duration") or 0))
            alpha = alpha or image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image.seek(0)
        self.durations = tuple(durations)
        loop = image.info.get("loop")
        self.info = AnimationInfo(
            width=image.width,
            height=image.height,
            frames=count,
            duration=sum(d or _GIF_DEFAULT_MS for d in durations) / 1000,
            loop=None if loop is None else int(loop),
            format=str(image.format),
            alpha=alpha,
        )

    def __iter__(self) -> Any:
        """Each frame as a `Frame` (RGBA when the animation has transparency, else RGB)."""
        image = self._image
        mode = "RGBA" if self.info.alpha else "RGB"
        pts = 0
        last = -1
        for index, duration in enumerate(self.durations):
            image.seek(index)
            pixels = np.asarray(image.convert(mode), np.uint8)
            pts = max(pts, last + 1)
            yield Frame(pixels, pts, MILLISECOND, duration)
            last = pts
            pts += duration

    def __enter__(self) -> AnimationReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._image.close()


class AnimationWriter:
    """Writes frames as an animated WebP, GIF or PNG (by the target's extension), atomically.

    Durations come from each frame's `duration`, or from the time to the next frame. WebP and
    PNG keep 8-bit alpha; GIF keeps a transparency index (pixels under half alpha are clear).

    Args:
        target: the output file (.webp, .gif, .png or .apng).
        loop: how often it plays (0: forever); None to play once.
        frames, width, height: the expected count and size, to refuse an animation too long
            to hold (see `MAX_ANIMATION_BYTES`) before any work; frames may be None.

    Raises:
        OptionError: an extension we do not write, a missing folder, or too long a clip.
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        loop: int | None = 0,
        frames: int | None = None,
        width: int = 0,
        height: int = 0,
    ) -> None:
        self.target = Path(target)
        self.notices: list[str] = []
        fmt = ANIMATION_EXTENSIONS.get(self.target.suffix.lower())
        if fmt is None:
            raise OptionError(f"{target}: an animation is written as {', '.join(ANIMATION_EXTENSIONS)}")
        if not self.target.absolute().parent.is_dir():
            raise OptionError(f"{target}: the output folder {self.target.absolute().parent} does not exist")
        if frames is not None:
            self._check_size(frames * width * height * 4)
        self._format = fmt
        self._loop = loop
        self._frames: list[Image.Image] = []
        self._durations: list[int] = []
        self._last: Frame | None = None
        self._bytes = 0

    def _check_size(self, size: int) -> None:
        if size > MAX_ANIMATION_BYTES:
            raise OptionError(
                f"{self.target}: too long for an animated image ({size >> 20} MiB of frames, "
                f"limit {MAX_ANIMATION_BYTES >> 20} MiB); write a video (.webm keeps transparency) "
                "or shorten it with --duration"
            )

    def write(self, pixels: NDArray[np.uint8], frame: Frame) -> None:
        """Add the next frame (RGB, RGBA or an 8-bit mask)."""
        self._bytes += pixels.shape[0] * pixels.shape[1] * 4
        self._check_size(self._bytes)
        if self._last is not None:
            self._durations.append(_duration_ms(self._last, frame))
        image = Image.fromarray(np.ascontiguousarray(pixels))
        if self._format == "GIF" and image.mode == "RGBA":
            image = _gif_frame(image)
        self._frames.append(image)
        self._last = frame

    def write_audio(self, packet: object) -> None:
        """Animations have no sound: audio is dropped (the caller is told once)."""
        if not any(n.startswith("audio dropped") for n in self.notices):
            self.notices.append("audio dropped: an animated image has no sound")

    def finish(self) -> None:
        """Encode the animation and write it over the target."""
        if not self._frames or self._last is None:
            raise InputError(f"{self.target}: no frame to write")
        self._durations.append(_duration_ms(self._last, None))
        first, rest = self._frames[0], self._frames[1:]
        params: dict[str, Any] = {"save_all": True, "append_images": rest, "duration": self._durations}
        if self._format == "GIF":
            params.update(disposal=2, optimize=False)
            if self._loop is not None:
                params["loop"] = self._loop
        else:
            params["loop"] = 1 if self._loop is None else self._loop
        if self._format == "WEBP":
            params.update(quality=90, method=4)
        buffer = io.BytesIO()
        first.save(buffer, format=self._format, **params)
        write_atomic(self.target, buffer.getvalue())
        self._frames.clear()

    def abort(self, exc: BaseException | None = None) -> None:
        """Drop the frames; nothing was written."""
        self._frames.clear()


def _duration_ms(frame: Frame, following: Frame | None) -> int:
    if frame.duration:
        return max(0, round(frame.duration * frame.time_base * 1000))
    if following is not None:
        return max(1, round((following.pts - frame.pts) * frame.time_base * 1000))
    return _GIF_DEFAULT_MS


def _gif_frame(image: Image.Image) -> Image.Image:
    """An RGBA frame as a palette image with one transparent index (alpha < 128 is clear)."""
    alpha = np.asarray(image.getchannel("A"))
    clear = alpha < 128
    palette = image.convert("RGB").quantize(
        colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    indices = np.asarray(palette, np.uint8).copy()
    indices[clear] = 255
    out = Image.fromarray(indices, "P")
    colors = (palette.getpalette() or [])[: 255 * 3]
    out.putpalette(colors + [0] * (256 * 3 - len(colors)))
    out.info["transparency"] = 255
    return out
