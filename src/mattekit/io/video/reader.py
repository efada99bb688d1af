"""Reading a video file (`VideoReader`): any container and codec FFmpeg decodes.

Frames come out upright RGB uint8 (the display rotation applied) with their own timestamps, so
variable frame rates pass through; audio comes out as packets, untouched, for copying. A corrupt
packet is reported and skipped; subtitle, data and extra video streams are listed as dropped.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import av
import av.error
import cv2
import numpy as np
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.packet import Packet
from av.stream import Disposition
from av.video.stream import VideoStream
from numpy.typing import NDArray

from mattekit.errors import InputError, OptionError, UnsupportedInputError
from mattekit.io.frames import Frame

__all__ = ["VideoInfo", "VideoReader"]

# Colour matrices OpenCV's I420 conversions implement (BT.601, limited range), as FFmpeg's
# AVColorSpace values: unspecified, BT.470BG, SMPTE 170M.
_BT601: Final = frozenset({2, 5, 6})
_FULL_RANGE: Final = 2
_MAX_DEMUX_ERRORS: Final = 50


@dataclass(frozen=True)
class VideoInfo:
    """What a video input holds, as read from its header and first frame.

    Attributes:
        width, height: the upright frame size (after the display rotation).
        rotation: the display rotation, counter-clockwise degrees (0, 90, 180, 270).
        fps: the average frame rate; None when the container does not say.
        time_base: the unit of the video stream's timestamps, in seconds.
        duration: seconds to process (after --start / --duration); None when unknown.
        frames: about how many frames will be processed; None when unknown.
        codec: the video codec's name.
        colorspace: FFmpeg's colour matrix of the input (AVColorSpace), kept on output.
        color_primaries, color_trc: its primaries and transfer tags, kept on output.
        audio: the audio codecs, one per audio stream.
        dropped: streams that are not carried over (subtitles, data, extra video).
    """

    width: int
    height: int
    rotation: int
    fps: Fraction | None
    time_base: Fraction
    duration: float | None
    frames: int | None
    codec: str
    colorspace: int = 2
    color_primaries: int = 2
    color_trc: int = 2
    audio: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


def _open_input(path: Path) -> InputContainer:
    label = os.fspath(path)
    if path.is_dir():
        raise InputError(f"{label}: is a folder, not a video file")
    if not path.exists():
        raise InputError(f"{label}: no such file")
    try:
        return av.open(label, "r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise UnsupportedInputError(
            f"{label}: not a video or image FFmpeg can read ({_reason(exc)})"
        ) from exc


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc)


class VideoReader:
    """Frames (upright RGB, or RGBA with `alpha`) and audio packets of a video file, in order.

    Args:
        path: the video file.
        start: skip to this many seconds from the start.
        duration: read this many seconds (from `start`); None for all.
        alpha: read transparency too (VP8/VP9 with alpha, ProRes 4444, PNG, ...): frames
            are RGBA. (libvpx, which decodes WebM's alpha, does not see the display
            rotation: such frames come as stored.)

    Raises:
        InputError: the file is missing or a folder, or start/duration are bad.
        UnsupportedInputError: not a file FFmpeg reads, or it has no video stream.

    Example:
        >>> with VideoReader("clip.mp4") as reader:  # doctest: +SKIP
        ...     frames = [item for item in reader if isinstance(item, Frame)]
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        start: float | None = None,
        duration: float | None = None,
        alpha: bool = False,
    ) -> None:
        self.path = Path(path)
        self.warnings: list[str] = []
        """Problems met while reading (corrupt packets skipped), one line each."""
        if start is not None and not (np.isfinite(start) and start >= 0):
            raise OptionError(f"start: must be a number of seconds >= 0, got {start!r}", "start")
        if duration is not None and not (np.isfinite(duration) and duration > 0):
            raise OptionError(f"duration: must be a number of seconds > 0, got {duration!r}", "duration")
        self._container = _open_input(self.path)
        try:
            self._setup(start, duration, alpha)
        except BaseException:
            self._container.close()
            raise

    def _setup(self, start: float | None, duration: float | None, alpha: bool) -> None:
        container = self._container
        label = os.fspath(self.path)
        moving = [s for s in container.streams.video if not s.disposition & Disposition.attached_pic]
        if not moving:  # (an audio file's cover art is a still picture, not a video)
            raise UnsupportedInputError(f"{label}: has no video stream")
        stream = moving[0]
        self._stream: VideoStream = stream
        self.audio_streams: list[AudioStream] = list(container.streams.audio)
        dropped = [
            f"{s.type} stream #{s.index} ({s.codec_context.name if s.codec_context else 'unknown'})"
            for s in container.streams
            if s is not stream and s not in self.audio_streams
        ]
        self._alpha = alpha
        self._decoder: Any = stream.codec_context
        if alpha and stream.codec_context.name in ("vp8", "vp9") and stream.metadata.get("alpha_mode") == "1":
            # FFmpeg's own VP8/VP9 decoders ignore the alpha plane WebM keeps beside each frame;
            # libvpx's decode it (as `ffmpeg -c:v libvpx-vp9` does).
            self._decoder = av.CodecContext.create(
                "libvpx" if stream.codec_context.name == "vp8" else "libvpx-vp9", "r"
            )
        else:
            stream.thread_type = "AUTO"
        tb = stream.time_base or Fraction(1, 90000)
        self._time_base = Fraction(tb)
        origin = stream.start_time or 0
        self._shift = 0
        self._start_pts: int | None = None
        self._end_pts: int | None = None
        if start:
            self._shift = origin + round(Fraction(start) / self._time_base)
            self._start_pts = self._shift
            try:
                container.seek(self._shift, stream=stream, backward=True, any_frame=False)
            except av.error.FFmpegError as exc:
                raise InputError(f"{label}: cannot seek to {start:g} s ({_reason(exc)})") from exc
        if duration:
            self._end_pts = (self._start_pts or origin) + round(Fraction(duration) / self._time_base)
        self._audio_shift = {
            s.index: round(self._shift * self._time_base / Fraction(s.time_base or Fraction(1, 48000)))
            for s in self.audio_streams
        }
        self._last_pts: int | None = None
        self._ahead: list[Frame] = []
        self._pending_audio: list[Packet[Any]] = []
        self._items: Generator[Frame | Packet[Any], None, None] = self._read()
        first = self._peek(label)
        fps = stream.average_rate or stream.guessed_rate
        total = self._total_seconds(origin, start, duration)
        self.info = VideoInfo(
            width=first.pixels.shape[1],
            height=first.pixels.shape[0],
            rotation=self._rotation,
            fps=Fraction(fps) if fps else None,
            time_base=self._time_base,
            duration=total,
            frames=self._frame_count(fps, total, start, duration),
            codec=stream.codec_context.name,
            colorspace=int(self._first_colorspace[0]),
            color_primaries=int(self._first_colorspace[1]),
            color_trc=int(self._first_colorspace[2]),
            audio=tuple(s.codec_context.name for s in self.audio_streams),
            dropped=tuple(dropped),
        )

    def _total_seconds(self, origin: int, start: float | None, duration: float | None) -> float | None:
        stream, container = self._stream, self._container
        if stream.duration:
            whole = float(stream.duration * self._time_base)
        elif container.duration:
            whole = container.duration / av.time_base
        else:
            return duration
        left = max(0.0, whole - (start or 0.0))
        return min(left, duration) if duration else left

    def _frame_count(
        self, fps: Fraction | None, total: float | None, start: float | None, duration: float | None
    ) -> int | None:
        if self._stream.frames and not start and not duration:
            return int(self._stream.frames)
        if fps and total is not None:
            return max(1, round(total * fps))
        return None

    def _peek(self, label: str) -> Frame:
        self._rotation = 0
        self._first_colorspace: tuple[int, int, int] = (2, 2, 2)
        for item in self._items:
            if isinstance(item, Frame):
                self._ahead.append(item)
                return item
            self._pending_audio.append(item)
        if self._start_pts is not None:
            start = float((self._start_pts - (self._stream.start_time or 0)) * self._time_base)
            raise InputError(f"{label}: no frame at or after --start {start:g} s (the video is shorter)")
        detail = f"; {self.warnings[-1]}" if self.warnings else ""
        raise UnsupportedInputError(f"{label}: no video frame could be decoded{detail}")

    def __iter__(self) -> Iterator[Frame | Packet[Any]]:
        """Frames and audio packets in the order the file holds them (audio shifted by --start)."""
        ahead, self._ahead = self._ahead, []
        pending, self._pending_audio = self._pending_audio, []
        yield from pending
        yield from ahead
        yield from self._items

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._items.close()
        self._container.close()

    # -- reading ------------------------------------------------------------------------------

    def _read(self) -> Generator[Frame | Packet[Any], None, None]:
        streams = [self._stream, *self.audio_streams]
        video_done = False
        audio_open = {s.index for s in self.audio_streams}
        errors = 0
        while True:
            try:
                for packet in self._container.demux(streams):
                    errors = 0
                    if packet.stream.type == "video":
                        if video_done:
                            continue
                        for frame in self._decode(packet):
                            if self._end_pts is not None and frame.pts + self._shift >= self._end_pts:
                                video_done = True
                                break
                            yield frame
                    else:
                        kept = self._audio(packet, audio_open)
                        if kept is not None:
                            yield kept
                    if video_done and not audio_open:
                        return
                return
            except av.error.FFmpegError as exc:  # a damaged container: skip on, as players do
                errors += 1
                self.warnings.append(f"skipped unreadable data ({_reason(exc)})")
                if errors > _MAX_DEMUX_ERRORS:
                    raise InputError(
                        f"{os.fspath(self.path)}: too damaged to read on ({_reason(exc)})"
                    ) from exc

    def _audio(self, packet: Packet[Any], audio_open: set[int]) -> Packet[Any] | None:
        if packet.size == 0 or packet.stream.index not in audio_open:
            return None
        shift = self._audio_shift[packet.stream.index]
        tb = packet.time_base
        if self._start_pts is not None and packet.pts is not None and packet.pts < shift:
            return None
        if self._end_pts is not None and packet.pts is not None and tb is not None:
            end = self._end_pts * self._time_base
            if packet.pts * tb >= end:
                audio_open.discard(packet.stream.index)
                return None
        if shift:
            if packet.pts is not None:
                packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
        return packet

    def _decode(self, packet: Packet[Any]) -> Iterator[Frame]:
        try:
            frames = self._decoder.decode(packet if packet.size else None)
        except av.error.EOFError:
            return
        except av.error.FFmpegError as exc:
            where = f" at {float(packet.pts * self._time_base):.2f} s" if packet.pts is not None else ""
            self.warnings.append(f"skipped a corrupt video packet{where} ({_reason(exc)})")
            return
        for frame in frames:
            made = self._frame(frame)
            if made is not None:
                yield made

    def _frame(self, frame: av.VideoFrame) -> Frame | None:
        pts = frame.pts
        if pts is None:
            step = self._fallback_step()
            pts = (self._last_pts + step + self._shift) if self._last_pts is not None else self._shift
        if self._start_pts is not None and pts < self._start_pts:
            return None
        pts -= self._shift
        if self._last_pts is None:
            self._rotation = round(frame.rotation / 90) % 4 * 90
            self._first_colorspace = (frame.colorspace, frame.color_primaries, frame.color_trc)
        elif pts <= self._last_pts:  # repeated or backwards timestamps: keep them increasing
            pts = self._last_pts + 1
        self._last_pts = pts
        pixels = np.asarray(frame.to_ndarray(format="rgba"), np.uint8) if self._alpha else _to_rgb(frame)
        if self._rotation:
            pixels = np.rot90(pixels, self._rotation // 90)
        return Frame(pixels, int(pts), self._time_base, int(frame.duration or 0))

    def _fallback_step(self) -> int:
        rate = self._stream.average_rate or self._stream.guessed_rate or 25
        return max(1, round(1 / (Fraction(rate) * self._time_base)))


def _to_rgb(frame: av.VideoFrame) -> NDArray[np.uint8]:
    """RGB of a decoded frame: OpenCV for BT.601 limited-range 4:2:0 (3x faster than swscale
    here), else swscale, which reads the frame's own colour matrix and range."""
    if (
        frame.format.name == "yuv420p"
        and frame.colorspace in _BT601
        and frame.color_range != _FULL_RANGE
        and frame.width % 2 == 0
        and frame.height % 2 == 0
    ):
        return np.asarray(cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2RGB_I420), np.uint8)
    return np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
