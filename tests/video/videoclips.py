"""What the video tests share: clips made with PyAV from the DAVIS sequences in
../shared/eval/video (H.264 at 30000/1001 fps with a generated AAC sine track, the truth
masks beside them), and a plain-PyAV reader of what the tests wrote."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from evalset import EVAL

VIDEO = EVAL / "video"
RATE = Fraction(30000, 1001)
SAMPLE_RATE = 48000


@dataclass(frozen=True)
class Clip:
    """A test clip and what is true of it."""

    path: Path
    frames: int
    masks: list[np.ndarray]  # bool HxW per frame, the hand-made truth


def frames_of(sequence: str, count: int, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """The first `count` frames of a DAVIS sequence, RGB (resized to `size` = (w, h))."""
    files = sorted((VIDEO / sequence / "frames").glob("*.jpg"))[:count]
    images = [Image.open(f).convert("RGB") for f in files]
    return [np.asarray(im.resize(size, Image.BILINEAR) if size else im) for im in images]


def masks_of(sequence: str, count: int) -> list[np.ndarray]:
    files = sorted((VIDEO / sequence / "masks").glob("*.png"))[:count]
    return [np.asarray(Image.open(f).convert("L")) >= 128 for f in files]


def sine(seconds: float, channels: int = 2) -> np.ndarray:
    """A 440 Hz tone, float32 planar (channels x samples)."""
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return np.stack([tone] * channels)


def write_clip(
    path: Path,
    frames: list[np.ndarray],
    *,
    rate: Fraction = RATE,
    audio: str | None = "aac",
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    rotation: int = 0,
) -> Path:
    """Encode RGB frames as H.264 (yuv420p) with an optional generated sine track."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "18", "preset": "ultrafast"}
        if time_base is not None:
            video.codec_context.time_base = time_base
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = container.add_stream(audio, rate=SAMPLE_RATE)
            sound.layout = "stereo"
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            if pts is not None and time_base is not None:
                frame.pts, frame.time_base = pts[index], time_base
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            samples = sine(len(frames) / float(rate))
            step = 1024
            for start in range(0, samples.shape[1], step):
                chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, start : start + step]),
                                                   format="fltp", layout="stereo")  # fmt: skip
                chunk.sample_rate = SAMPLE_RATE
                chunk.pts = start
                container.mux(sound.encode(chunk))
            container.mux(sound.encode(None))
    return path


ANIMATION_DURATIONS = [40, 80, 120, 40, 60, 200, 40, 100]


@dataclass(frozen=True)
class Decoded:
    """A video file read back: its frames, timestamps and audio packets."""

    frames: list[np.ndarray]
    pts: list[int]
    time_base: Fraction
    duration: float
    codec: str
    pix_fmt: str
    rotation: int
    audio: list[tuple[bytes, int | None]]
    audio_codec: str | None


def decode(path: Path, *, alpha: bool = False) -> Decoded:
    """Everything a test checks of a video file, read with plain PyAV (alpha via libvpx for VP9)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec, pix_fmt = stream.codec_context.name, stream.codec_context.pix_fmt
        decoder = stream.codec_context
        if alpha and codec == "vp9":
            decoder = av.CodecContext.create("libvpx-vp9", "r")
        layout = "rgba" if alpha else "rgb24"
        frames, pts, rotation = [], [], 0
        for packet in container.demux(stream):
            try:
                decoded = decoder.decode(packet if packet.size else None)
            except av.error.EOFError:
                decoded = []
            for frame in decoded:
                frames.append(frame.to_ndarray(format=layout))
                pts.append(frame.pts)
                rotation = frame.rotation
        duration = container.duration / av.time_base if container.duration else 0.0
        time_base = Fraction(stream.time_base)
    audio_codec, audio = audio_packets(path)
    return Decoded(frames, pts, time_base, duration, codec, pix_fmt, rotation, audio, audio_codec)


def audio_packets(path: Path) -> tuple[str | None, list[tuple[bytes, int | None]]]:
    """The first audio stream's codec and its packets (bytes, pts); (None, []) when none."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None, []
        sound = container.streams.audio[0]
        return sound.codec_context.name, [(bytes(p), p.pts) for p in container.demux(sound) if p.size]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int((a | b).sum())
    return 1.0 if union == 0 else int((a & b).sum()) / union
