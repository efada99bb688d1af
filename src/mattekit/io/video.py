"""Video files in and out with PyAV (FFmpeg's libraries, bundled in its wheels; no ffmpeg binary).

Reading (`VideoReader`): any container and codec FFmpeg decodes. Frames come out upright RGB
uint8 (the display rotation applied) with their own timestamps, so variable frame rates pass
through; audio comes out as packets, untouched, for copying. A corrupt packet is reported and
skipped; subtitle, data and extra video streams are listed as dropped.

Writing (`VideoWriter`, `PngSequenceWriter`): the format follows the output's extension and
whether the frames are transparent (`video_format`):

    opaque        .mp4 .m4v .mov .mkv -> H.264 (libx264, yuv420p)     .webm -> VP9 (yuv420p)
    transparent   .webm .mkv -> VP9 with alpha (yuva420p)   .mov -> ProRes 4444 (yuva444p10le)
    a folder      a PNG sequence (RGB or RGBA), audio copied beside it as audio.mka

The writers keep the input's time base, timestamps, frame rate, colour tags and display
rotation; audio is copied packet for packet when the output container takes its codec, else
re-encoded once (AAC, or Opus for WebM) and said so in `notices`. Output goes to a hidden
temporary file (or folder) beside the target and is renamed over it by `finish()`; `abort()`
removes it, so a failure or Ctrl-C never leaves a half-written file at the output path.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import av
import av.error
import cv2
import numpy as np
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.packet import Packet
from av.stream import Disposition
from av.video.stream import VideoStream
from numpy.typing import NDArray

from mattekit.errors import InputError, MattekitError, OptionError, UnsupportedInputError
from mattekit.io.frames import Frame
from mattekit.io.images import encode_image

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

DEFAULT_CRF: Final = {"libx264": 20, "libvpx-vp9": 32}
"""Constant-quality level per encoder when none is given (lower is better and larger)."""

DEFAULT_PRESET: Final = "superfast"
"""x264 speed preset when none is given: keeps 720p encoding well above real time on two
cores (see benchmarks/video.py); "medium" makes files about a third smaller, 4-5x slower."""

PRESETS: Final = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
)  # fmt: skip
"""x264's speed presets; VP9 maps them to its deadline and cpu-used settings."""

# Colour matrices OpenCV's I420 conversions implement (BT.601, limited range), as FFmpeg's
# AVColorSpace values: unspecified, BT.470BG, SMPTE 170M.
_BT601: Final = frozenset({2, 5, 6})
_FULL_RANGE: Final = 2
# FFmpeg colour spaces swscale converts to, by AVColorSpace value.
_SWS_SPACES: Final = {1: "ITU709", 4: "FCC", 5: "ITU601", 6: "SMPTE170M", 7: "SMPTE240M", 9: "BT2020"}
_MAX_DEMUX_ERRORS: Final = 50


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


# -- writing ------------------------------------------------------------------------------------


@dataclass
class _AudioTrack:
    source: AudioStream
    target: AudioStream
    copy: bool


@dataclass
class _Settings:
    crf: int | None = None
    preset: str | None = None
    notices: list[str] = field(default_factory=list)


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


class VideoWriter:
    """Writes frames and audio to a video file, atomically (see the module's notes).

    Args:
        target: the output file; its folder must exist.
        fmt: the format (`video_format`).
        info: the input's facts: time base, frame rate, rotation and colour tags are kept.
        width, height: the frames' upright size.
        audio: the input's audio streams, copied when the container takes their codec.
        crf: constant-quality level (x264 0-51, VP9 0-63); None for `DEFAULT_CRF`.
        preset: x264 speed preset (`PRESETS`); None for `DEFAULT_PRESET`.

    Raises:
        OptionError: the folder does not exist, the target is a folder, or bad crf/preset.
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        fmt: VideoFormat,
        info: VideoInfo,
        *,
        width: int,
        height: int,
        audio: Sequence[AudioStream] = (),
        crf: int | None = None,
        preset: str | None = None,
    ) -> None:
        _check_settings(crf, preset)
        path = Path(target)
        _check_target_file(path)
        self.notices: list[str] = []
        """What the output does differently from the input (audio re-encoded, size cropped)."""
        self._fmt = fmt
        self._info = info
        self._target = path
        self._temp = _temp_beside(path, folder=False)
        try:
            options: dict[str, str] = {"movflags": "+faststart"} if fmt.container in ("mp4", "mov") else {}
            self._container: OutputContainer = av.open(
                os.fspath(self._temp), "w", format=fmt.container, options=options
            )
        except BaseException:
            self._temp.unlink(missing_ok=True)
            raise
        try:
            self._video = self._add_video(width, height, crf, preset)
            self._tracks = {a.index: self._add_audio(a) for a in audio}
        except BaseException as exc:
            self.abort(exc)
            raise

    def _add_video(self, width: int, height: int, crf: int | None, preset: str | None) -> VideoStream:
        fmt, info = self._fmt, self._info
        stored_w, stored_h = (height, width) if info.rotation in (90, 270) else (width, height)
        if fmt.pix_fmt.startswith(("yuv420", "yuva420")) and (stored_w % 2 or stored_h % 2):
            self.notices.append(f"video cropped to an even size ({stored_w & ~1}x{stored_h & ~1}) for 4:2:0")
            stored_w, stored_h = stored_w & ~1, stored_h & ~1
        self._size = (stored_w, stored_h)
        stream = self._container.add_stream(fmt.codec, rate=info.fps)
        if not isinstance(stream, VideoStream):
            raise MattekitError(f"{fmt.codec} is not a video encoder")
        stream.width, stream.height = stored_w, stored_h
        stream.pix_fmt = fmt.pix_fmt
        stream.codec_context.time_base = info.time_base
        stream.time_base = info.time_base
        stream.options = dict(_codec_options(fmt.codec, crf, preset))
        self._colorspace = (
            info.colorspace if info.colorspace in _SWS_SPACES or info.colorspace in _BT601 else 2
        )
        ctx = stream.codec_context
        ctx.colorspace = self._colorspace
        ctx.color_range = 1  # limited ("tv"), what every player expects of yuv420p
        if self._colorspace != 2:
            ctx.color_primaries = info.color_primaries
            ctx.color_trc = info.color_trc
        if info.rotation:
            stream.set_display_rotation(info.rotation)
        self._fast = fmt.pix_fmt == "yuv420p" and self._colorspace in _BT601
        return stream

    def _add_audio(self, source: AudioStream) -> _AudioTrack:
        container = self._container
        try:
            return _AudioTrack(source, container.add_stream_from_template(source), True)
        except ValueError:
            pass
        codec = _AUDIO_FALLBACK.get(self._fmt.container, "aac")
        rate = source.codec_context.sample_rate or 48000
        if codec == "libopus" and rate not in _OPUS_RATES:
            rate = 48000
        target = container.add_stream(codec, rate=rate)
        if not isinstance(target, AudioStream):
            raise MattekitError(f"{codec} is not an audio encoder")
        target.layout = source.codec_context.layout
        self.notices.append(
            f"audio stream #{source.index} ({source.codec_context.name}) re-encoded as {codec.removeprefix('lib')}: "
            f"{self._fmt.container} does not take {source.codec_context.name}"
        )
        return _AudioTrack(source, target, False)

    def write(self, pixels: NDArray[np.uint8], frame: Frame) -> None:
        """Encode one processed frame (RGB, or RGBA for transparent formats) at `frame`'s time."""
        if self._info.rotation:
            pixels = np.rot90(pixels, -self._info.rotation // 90)
        out = self._to_video_frame(pixels)
        out.pts = frame.pts
        out.time_base = frame.time_base
        if frame.duration:
            out.duration = frame.duration
        self._encode(out)

    def write_audio(self, packet: Packet[Any]) -> None:
        """Copy (or re-encode) one audio packet of an input audio stream."""
        track = self._tracks.get(packet.stream.index)
        if track is None:
            return
        if track.copy:
            packet.stream = track.target
            self._mux([packet])
            return
        try:
            decoded = track.source.codec_context.decode(packet)
        except av.error.FFmpegError:
            return  # a corrupt audio packet: a short gap, as players make
        for audio in decoded:
            audio.pts = None
            self._mux(track.target.encode(audio))

    def finish(self) -> None:
        """Flush the encoders, close the file and rename it over the target."""
        try:
            self._encode(None)
            for track in self._tracks.values():
                if not track.copy:
                    self._mux(track.target.encode(None))
            self._container.close()
            _sync(self._temp)
            os.replace(self._temp, self._target)
        except BaseException as exc:
            self.abort(exc)
            raise

    def abort(self, exc: BaseException | None = None) -> None:
        """Stop and remove the temporary file; the target is left as it was."""
        with contextlib.suppress(av.error.FFmpegError, OSError, ValueError):
            self._container.close()
        self._temp.unlink(missing_ok=True)

    def _encode(self, out: av.VideoFrame | None) -> None:
        try:
            packets = self._video.encode(out)
        except av.error.FFmpegError as exc:
            raise MattekitError(f"the {self._fmt.codec} encoder failed: {_reason(exc)}") from exc
        self._mux(packets)

    def _mux(self, packets: Sequence[Packet[Any]]) -> None:
        try:
            self._container.mux(packets)
        except av.error.FFmpegError as exc:
            raise MattekitError(f"writing the {self._fmt.container} file failed: {_reason(exc)}") from exc

    def _to_video_frame(self, pixels: NDArray[np.uint8]) -> av.VideoFrame:
        width, height = self._size
        if pixels.shape[1] != width or pixels.shape[0] != height:
            pixels = pixels[:height, :width]
        if self._fast and pixels.ndim == 3 and pixels.shape[2] == 3:
            i420 = np.asarray(cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2YUV_I420), np.uint8)
            return av.VideoFrame.from_ndarray(i420, format="yuv420p")
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[:, :, None], 3, axis=2)
        if not self._fmt.alpha and pixels.shape[2] == 4:
            pixels = pixels[:, :, :3]
        layout = "rgba" if pixels.shape[2] == 4 else "rgb24"
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels, dtype=np.uint8), format=layout)
        space = _SWS_SPACES.get(self._colorspace, "ITU601")
        return frame.reformat(format=self._fmt.pix_fmt, dst_colorspace=space)


def _temp_beside(target: Path, *, folder: bool) -> Path:
    """A new hidden file or folder in the target's folder, to be renamed over it at the end
    (as `mattekit.io.atomic` does for files written from Python)."""
    parent = target.absolute().parent
    while True:
        temp = parent / f".{target.name}.{secrets.token_hex(4)}.part"
        try:
            if folder:
                temp.mkdir()
            else:
                os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return temp


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_target_file(path: Path) -> None:
    if path.is_dir():
        raise OptionError(f"{path}: is a folder; give a file name such as {path / 'out.mp4'}")
    if not path.parent.is_dir():
        raise OptionError(f"{path}: the output folder {path.parent} does not exist")


class PngSequenceWriter:
    """Writes frames as numbered PNGs (000000.png, ...) into a folder, atomically.

    The frames go to a hidden folder beside the target, renamed to it by `finish()`. Audio is
    copied as it is into ``audio.mka`` beside the frames (Matroska takes any codec).

    Args:
        target: the output folder; it must not exist yet, or be empty.
        audio: the input's audio streams.

    Raises:
        OptionError: the target is a file or a folder with files in it, or its parent is missing.
    """

    def __init__(self, target: str | os.PathLike[str], *, audio: Sequence[AudioStream] = ()) -> None:
        self.target = Path(target)
        self.notices: list[str] = []
        if self.target.is_file():
            raise OptionError(f"{self.target}: is a file; a PNG sequence is written to a folder")
        if self.target.is_dir() and any(self.target.iterdir()):
            raise OptionError(f"{self.target}: the folder is not empty; give a new or empty folder")
        parent = self.target.absolute().parent
        if not parent.is_dir():
            raise OptionError(f"{self.target}: the output folder {parent} does not exist")
        temp = self._temp = _temp_beside(self.target, folder=True)
        self._count = 0
        self._audio: OutputContainer | None = None
        self._tracks: dict[int, AudioStream] = {}
        try:
            if audio:
                self._audio = av.open(os.fspath(temp / "audio.mka"), "w", format="matroska")
                self._tracks = {a.index: self._audio.add_stream_from_template(a) for a in audio}
        except BaseException:
            self.abort()
            raise

    def write(self, pixels: NDArray[np.uint8], frame: Frame) -> None:
        """Write the next frame as a PNG."""
        data = encode_image(np.ascontiguousarray(pixels), "PNG")
        with open(self._temp / f"{self._count:06d}.png", "wb") as handle:
            handle.write(data)
        self._count += 1

    def write_audio(self, packet: Packet[Any]) -> None:
        """Copy one audio packet into audio.mka."""
        target = self._tracks.get(packet.stream.index)
        if target is not None and self._audio is not None:
            packet.stream = target
            self._audio.mux(packet)

    def finish(self) -> None:
        """Close the audio file and rename the folder to the target."""
        if self._audio is not None:
            self._audio.close()
            self._audio = None
        if self.target.is_dir():
            self.target.rmdir()  # checked empty at the start
        os.replace(self._temp, self.target)

    def abort(self, exc: BaseException | None = None) -> None:
        """Remove the temporary folder; the target is left as it was."""
        if self._audio is not None:
            with contextlib.suppress(av.error.FFmpegError, OSError):
                self._audio.close()
            self._audio = None
        shutil.rmtree(self._temp, ignore_errors=True)
