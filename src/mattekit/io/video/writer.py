"""Writing a video (`VideoWriter`) or a PNG sequence (`PngSequenceWriter`), in a format from
`mattekit.io.video.formats`.

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import av
import av.error
import cv2
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.packet import Packet
from av.video.stream import VideoStream
from numpy.typing import NDArray

from mattekit.errors import MattekitError, OptionError
from mattekit.io.frames import Frame
from mattekit.io.images import encode_image
from mattekit.io.video.formats import (
    _AUDIO_FALLBACK,
    _OPUS_RATES,
    VideoFormat,
    _check_settings,
    _codec_options,
)
from mattekit.io.video.reader import _BT601, VideoInfo, _reason

__all__ = ["PngSequenceWriter", "VideoWriter"]

# FFmpeg colour spaces swscale converts to, by AVColorSpace value.
_SWS_SPACES: Final = {1: "ITU709", 4: "FCC", 5: "ITU601", 6: "SMPTE170M", 7: "SMPTE240M", 9: "BT2020"}


@dataclass
class _AudioTrack:
    source: AudioStream
    target: AudioStream
    copy: bool


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
