"""Video output formats and encoder settings. The format follows the output's extension and
whether the frames are transparent (`video_format`):

    opaque        .mp4 .m4v .mov .mkv -> H.264 (libx264, yuv420p)     .webm -> VP9 (yuv420p)
    transparent   .webm .mkv -> VP9 with alpha (yuva420p)   .mov -> ProRes 4444 (yuva444p10le)
    a folder      a PNG sequence (RGB or RGBA), audio copied beside it as audio.mka
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mattekit.errors import OptionError

__all__ = ["DEFAULT_CRF", "DEFAULT_PRESET", "PRESETS", "VIDEO_EXTENSIONS", "VideoFormat", "video_format"]

DEFAULT_CRF: Final = {"libx264": 20, "libvpx-vp9": 32}
"""Constant-quality level per encoder when none is given (lower is better and larger)."""

DEFAULT_PRESET: Final = "superfast"
"""x264 speed preset when none is given: keeps 720p encoding well above real time on two
cores (see benchmarks/video.py); "medium" makes files about a third smaller, 4-5x slower."""

PRESETS: Final = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
)  # fmt: skip
"""x264's speed presets; VP9 maps them to its deadline and cpu-used settings."""


@dataclass(frozen=True)
class VideoFormat:
    """How a video output is written.

    Attributes:
        container: FFmpeg's muxer name ("mp4", "webm", "mov", "matroska").
        codec: the video encoder ("libx264", "libvpx-vp9", "prores_ks").
        pix_fmt: the encoded pixel format ("yuv420p", "yuva420p", "yuva444p10le").
        alpha: whether the output carries transparency.
    """

    container: str
    codec: str
    pix_fmt: str
    alpha: bool


_CONTAINERS: Final = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
_OPAQUE: Final = {"webm": ("libvpx-vp9", "yuv420p")}
_TRANSPARENT: Final = {
    "webm": ("libvpx-vp9", "yuva420p"),
    "matroska": ("libvpx-vp9", "yuva420p"),
    "mov": ("prores_ks", "yuva444p10le"),
}
_AUDIO_FALLBACK: Final = {"webm": "libopus"}
_OPUS_RATES: Final = (48000, 24000, 16000, 12000, 8000)

VIDEO_EXTENSIONS: Final = tuple(_CONTAINERS)
"""File extensions a video can be written to (a folder takes a PNG sequence)."""


def video_format(path: str | os.PathLike[str], *, transparent: bool) -> VideoFormat:
    """The format a video output takes, from its extension and whether it is transparent.

    Raises:
        OptionError: an extension we do not write, or transparency in a container that
            cannot carry it (MP4).

    Example:
        >>> video_format("out.webm", transparent=True).pix_fmt
        'yuva420p'
    """
    suffix = Path(path).suffix.lower()
    container = _CONTAINERS.get(suffix)
    if container is None:
        got = f"extension {suffix!r}" if suffix else "no extension"
        raise OptionError(
            f"{os.fspath(path)}: cannot tell the video format from {got}; use "
            f"{', '.join(VIDEO_EXTENSIONS)}, .gif or .webp, or a folder for a PNG sequence"
        )
    if transparent:
        if container not in _TRANSPARENT:
            raise OptionError(
                f"{os.fspath(path)}: {suffix} cannot carry transparency; write .webm (VP9 with alpha), "
                ".mov (ProRes 4444) or a folder (PNG sequence), or give a background with --bg"
            )
        codec, pix_fmt = _TRANSPARENT[container]
    else:
        codec, pix_fmt = _OPAQUE.get(container, ("libx264", "yuv420p"))
    return VideoFormat(container, codec, pix_fmt, transparent)


def _check_settings(crf: int | None, preset: str | None) -> None:
    if crf is not None and (isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 63):
        raise OptionError(f"crf: must be a whole number from 0 to 63 (lower is better), got {crf!r}", "crf")
    if preset is not None and preset not in PRESETS:
        raise OptionError(f"preset: '{preset}' is not one of {', '.join(PRESETS)}", "preset")


def _codec_options(codec: str, crf: int | None, preset: str | None) -> dict[str, object]:
    preset = preset or DEFAULT_PRESET
    if codec == "libx264":
        return {"crf": str(DEFAULT_CRF[codec] if crf is None else crf), "preset": preset}
    if codec == "libvpx-vp9":
        speed = PRESETS.index(preset)
        realtime = speed <= PRESETS.index("veryfast")
        return {
            "crf": str(DEFAULT_CRF[codec] if crf is None else crf),
            "b": "0",
            "deadline": "realtime" if realtime else "good",
            "cpu-used": str(8 - speed),
            "row-mt": "1",
        }
    return {"profile": "4", "vendor": "apl0"}  # prores_ks: 4 = 4444
