"""Video files in and out with PyAV (FFmpeg's libraries, bundled in its wheels; no ffmpeg binary).

`formats` picks an output's container, codec and encoder settings; `reader` decodes an input
(`VideoReader`); `writer` encodes the output (`VideoWriter`, `PngSequenceWriter`).
"""

from __future__ import annotations

from mattekit.io.video.formats import (
    DEFAULT_CRF,
    DEFAULT_PRESET,
    PRESETS,
    VIDEO_EXTENSIONS,
    VideoFormat,
    video_format,
)
from mattekit.io.video.reader import VideoInfo, VideoReader
from mattekit.io.video.writer import PngSequenceWriter, VideoWriter

__all__ = [
    "DEFAULT_CRF",
    "DEFAULT_PRESET",
    "PRESETS",
    "VIDEO_EXTENSIONS",
    "PngSequenceWriter",
    "VideoFormat",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "video_format",
]
