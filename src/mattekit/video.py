"""Video files, animations and live frames through a Remover's stream mode.

`process_video` reads a file (any video FFmpeg decodes, or an animated GIF / WebP / PNG),
runs every frame through one video-mode Remover, and writes a video, an animation or a PNG
sequence, with the sound copied. Three stages overlap, with bounded queues between them so
memory stays flat however long the clip::

    decode thread  ->  Remover.process_frame (calling thread)  ->  encode thread

PyAV and ONNX Runtime release the GIL while they work, so the stages run side by side.
`process_frames` does the same for frames you already have (a webcam, a game, a screen):

    >>> import cv2  # doctest: +SKIP
    >>> camera = cv2.VideoCapture(0)  # doctest: +SKIP
    >>> def frames():  # doctest: +SKIP
    ...     while (read := camera.read())[0]:
    ...         yield cv2.cvtColor(read[1], cv2.COLOR_BGR2RGB)
    >>> options = RemoveOptions(subject="person", quality="fast", background="blur")  # doctest: +SKIP
    >>> for out in process_frames(frames(), options):  # doctest: +SKIP
    ...     cv2.imshow("mattekit", cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
    ...     if cv2.waitKey(1) == 27:
    ...         break
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from mattekit.errors import OptionError
from mattekit.io.animated import ANIMATION_EXTENSIONS, AnimationReader, AnimationWriter, is_animation
from mattekit.io.frames import Frame
from mattekit.io.images import ensure_not_input
from mattekit.options import RemoveOptions
from mattekit.remover import Remover

if TYPE_CHECKING:
    from mattekit.io.video import VideoInfo

__all__ = ["Progress", "VideoResult", "process_frames", "process_video"]

Progress = Callable[[int, "int | None"], None]
"""Called after each frame with (frames done, frames expected or None)."""

QUEUE_FRAMES = 4
"""Frames waiting between two stages, at most: enough to ride out jitter, small in memory."""

_END = object()
_POLL_S = 0.1


@dataclass(frozen=True)
class VideoResult:
    """What `process_video` did.

    Attributes:
        target: the file or folder written.
        frames: frames written.
        seconds: wall time, start to finish.
        segmenter: what segmented the frames (e.g. "selfie+smooth").
        notices: what the output does differently from the input, one line each (audio
            re-encoded, streams dropped, corrupt packets skipped).
    """

    target: Path
    frames: int
    seconds: float
    segmenter: str
    notices: tuple[str, ...]

    @property
    def fps(self) -> float:
        """Frames per second, end to end."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class _Source(Protocol):
    warnings: list[str]
    audio_streams: list[Any]

    def __iter__(self) -> Iterator[Any]: ...

    def close(self) -> None: ...


class _Sink(Protocol):
    notices: list[str]

    def write(self, pixels: NDArray[np.uint8], frame: Frame) -> None: ...

    def write_audio(self, packet: Any) -> None: ...

    def finish(self) -> None: ...

    def abort(self, exc: BaseException | None = None) -> None: ...


def process_video(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    options: RemoveOptions | None = None,
    *,
    remover: Remover | None = None,
    start: float | None = None,
    duration: float | None = None,
    crf: int | None = None,
    preset: str | None = None,
    progress: Progress | None = None,
) -> VideoResult:
    """Remove or replace the background of every frame of a video or animation.

    The output's kind follows its name: .mp4/.m4v/.mkv/.mov (H.264) or .webm (VP9) for an
    opaque result; .webm/.mkv (VP9 with alpha) or .mov (ProRes 4444) for a transparent one;
    .gif/.webp/.png for an animation; a folder (an existing one, a trailing slash, or no
    extension) for a PNG sequence. Audio is copied as it is when the container takes it.
    The output is written beside the target under a hidden name and renamed at the end:
    an error or Ctrl-C leaves nothing at `target`.

    Args:
        source: the input video or animated image (never overwritten).
        target: the output file or folder.
        options: what to do (background, subject, quality); None for a cutout.
        remover: a video-mode Remover to use instead of building one from `options`.
        start: skip this many seconds first; duration: process this many seconds.
        crf: constant-quality level of the encoder; preset: x264 speed preset
            (`mattekit.io.video.PRESETS`); None for the defaults.
        progress: called after each frame with (done, expected or None); an exception it
            raises stops the work (nothing is written) and propagates, e.g. to cancel.

    Returns:
        What was written, with notices to show the user.

    Raises:
        InputError: the input is missing, unreadable, has no video stream, or is the output.
        OptionError: a bad option, or an output that cannot hold the result (transparency
            in MP4, an unknown extension).
        ModelError: a model is missing and cannot be fetched.
    """
    began = time.perf_counter()
    source, target = Path(source), Path(target)
    if remover is not None and options is not None:
        raise OptionError("give options or a remover, not both")
    opts = remover.options if remover is not None else options or RemoveOptions()
    _check_video_options(opts)
    ensure_not_input(target, [source])
    reader, info = _open_source(source, start, duration, opts.max_pixels)
    try:
        sink = _open_sink(target, opts, reader, info, crf, preset)
        try:
            own = remover is None
            worker = remover if remover is not None else Remover(opts, mode="video")
            try:
                worker.reset()
                frames = _run(reader, sink, worker, progress, info.frames)
                segmenter = worker.info.name
            finally:
                if own:
                    worker.close()
        except BaseException as exc:
            sink.abort(exc)
            raise
    finally:
        reader.close()
    notices = (*(f"dropped {d}" for d in info.dropped), *reader.warnings, *sink.notices)
    return VideoResult(target, frames, time.perf_counter() - began, segmenter, tuple(notices))


def process_frames(
    frames: Iterable[NDArray[np.uint8]],
    options: RemoveOptions | None = None,
    *,
    remover: Remover | None = None,
    fps: float | Fraction | None = None,
) -> Iterator[NDArray[np.uint8]]:
    """Process frames one by one as a stream (RGB uint8 HxWx3 in, the options' output out).

    Args:
        frames: any iterable of frames: a webcam loop, a list, a generator.
        options: what to do; None for a cutout (RGBA).
        remover: a video-mode Remover to use instead of building one from `options`.
        fps: the frames' rate, for their timestamps; None to time them by the clock as
            they arrive (live sources).

    Yields:
        One output per frame: RGB over a background, RGBA for a cutout, or an 8-bit mask.

    Raises:
        OptionError: bad options, or both options and a remover.
        InputError: a frame that is not an image.
    """
    if remover is not None and options is not None:
        raise OptionError("give options or a remover, not both")
    if fps is not None and not fps > 0:
        raise OptionError(f"fps: must be > 0, got {fps!r}", "fps")
    own = remover is None
    worker = remover if remover is not None else Remover(options, mode="video")
    try:
        worker.reset()
        began = time.monotonic()
        last = -1.0
        for index, frame in enumerate(frames):
            if fps is not None:
                stamp = float(index * 1000 / Fraction(fps))
            else:
                stamp = max((time.monotonic() - began) * 1000, last + 1e-3)
            last = stamp
            yield worker.process_frame(frame, stamp)
    finally:
        if own:
            worker.close()


# -- opening ------------------------------------------------------------------------------


def _check_video_options(options: RemoveOptions) -> None:
    if options.output not in ("image", "mask"):
        raise OptionError(
            f"output: video frames are made as 'image' or 'mask', not '{options.output}'", "output"
        )
    if options.crop is not None:
        raise OptionError("crop: video frames keep their size; crop is for photos", "crop")


def _open_source(
    source: Path, start: float | None, duration: float | None, max_pixels: int | None
) -> tuple[_Source, VideoInfo]:
    if is_animation(source):
        animation = AnimationReader(source, max_pixels=max_pixels)
        try:
            return _AnimationSource(animation, start, duration), _animation_info(animation, start, duration)
        except BaseException:
            animation.close()
            raise
    from mattekit.io.video import VideoReader

    reader = VideoReader(source, start=start, duration=duration)
    return reader, reader.info


def _animation_info(animation: AnimationReader, start: float | None, duration: float | None) -> VideoInfo:
    from mattekit.io.video import VideoInfo

    info = animation.info
    total = max(0.0, info.duration - (start or 0.0))
    total = min(total, duration) if duration else total
    fps = Fraction(info.frames) / Fraction(info.duration).limit_denominator(1000) if info.duration else None
    frames = info.frames if not (start or duration) else None
    return VideoInfo(info.width, info.height, 0, fps, Fraction(1, 1000), total, frames, info.format.lower())


class _AnimationSource:
    """An animation's frames within --start / --duration, as a video reader gives them."""

    def __init__(self, animation: AnimationReader, start: float | None, duration: float | None) -> None:
        self.animation = animation
        self.warnings = animation.warnings
        self.audio_streams: list[Any] = []
        self.loop = animation.info.loop
        self._first = round((start or 0) * 1000)
        self._end = self._first + round(duration * 1000) if duration else None

    def __iter__(self) -> Iterator[Frame]:
        for frame in self.animation:
            if frame.pts < self._first:
                continue
            if self._end is not None and frame.pts >= self._end:
                return
            yield Frame(frame.pixels, frame.pts - self._first, frame.time_base, frame.duration)

    def close(self) -> None:
        self.animation.close()


def _is_folder(target: Path) -> bool:
    return target.is_dir() or os.fspath(target).endswith(("/", os.sep)) or not target.suffix


def _open_sink(
    target: Path,
    options: RemoveOptions,
    source: _Source,
    info: VideoInfo,
    crf: int | None,
    preset: str | None,
) -> _Sink:
    from mattekit.io import video as videoio

    suffix = target.suffix.lower()
    transparent = options.output == "image" and options.background.transparent
    if _is_folder(target):
        return videoio.PngSequenceWriter(target, audio=source.audio_streams)
    if suffix in ANIMATION_EXTENSIONS:
        loop = source.loop if isinstance(source, _AnimationSource) else 0
        return AnimationWriter(target, loop=loop, frames=info.frames, width=info.width, height=info.height)
    fmt = videoio.video_format(target, transparent=transparent)
    return videoio.VideoWriter(
        target,
        fmt,
        info,
        width=info.width,
        height=info.height,
        audio=source.audio_streams,
        crf=crf,
        preset=preset,
    )


# -- running ------------------------------------------------------------------------------


def _run(source: _Source, sink: _Sink, remover: Remover, progress: Progress | None, total: int | None) -> int:
    """Decode, process and encode with the three stages overlapping; returns frames written."""
    stop = threading.Event()
    inbox: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_FRAMES)
    outbox: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_FRAMES)
    failures: list[BaseException] = []
    written = [0]

    def put(box: queue.Queue[Any], item: object) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def get(box: queue.Queue[Any]) -> Any:
        while not stop.is_set():
            try:
                return box.get(timeout=_POLL_S)
            except queue.Empty:
                continue
        return _END

    def fail(exc: BaseException) -> None:
        failures.append(exc)
        stop.set()

    def decode() -> None:
        try:
            for item in source:
                if not put(inbox, item):
                    return
            put(inbox, _END)
        except BaseException as exc:
            fail(exc)

    def encode() -> None:
        try:
            while (item := get(outbox)) is not _END:
                if isinstance(item, tuple):
                    sink.write(*item)
                    written[0] += 1
                else:
                    sink.write_audio(item)
        except BaseException as exc:
            fail(exc)

    threads = [
        threading.Thread(target=decode, name="mattekit-decode", daemon=True),
        threading.Thread(target=encode, name="mattekit-encode", daemon=True),
    ]
    for thread in threads:
        thread.start()
    done = 0
    try:
        while (item := get(inbox)) is not _END:
            if isinstance(item, Frame):
                pixels = remover.process_frame(item.pixels, item.timestamp_ms)
                if not put(outbox, (pixels, item)):
                    break
                done += 1
                if progress is not None:
                    progress(done, total)
            elif not put(outbox, item):
                break
        put(outbox, _END)
        threads[1].join()
    except BaseException:
        stop.set()
        raise
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    sink.finish()
    return written[0]
