"""Video throughput: frames per second end to end, next to a plain decode + encode floor.

Usage:
    python benchmarks/video.py [--sizes 720p,1080p] [--levels person:fast,person:balanced,...]
                               [--frames 90] [--slow-frames 12] [--repeat 3] [--bg blur]
                               [--profile] [--rss SECONDS]

The clips are the DAVIS dancer (../shared/eval/video/dance-twirl, 854x480) scaled up to each
size, H.264 at 29.97 fps with an AAC track, made once per run. End to end is exactly
`mattekit video clip.mp4 -o out.mp4 --bg blur -s SUBJECT -Q QUALITY` minus process start
and model loading: decode thread -> Remover -> encode thread, H.264 (libx264, the default
crf and preset) in MP4 with the audio copied. The floor is the same clip decoded and encoded
again by PyAV with the same encoder settings and the audio copied, with no processing and no
RGB conversion: what any tool that re-encodes pays. Floor and level alternate, medians of
--repeat. Levels slower than 2 fps run once, on the first --slow-frames frames only.

A level may end in "/no-fg" (person:fast/no-fg): the same level with foreground colour
estimation off (`--no-estimate-foreground`).

--profile adds where a frame's time goes when the stages run one after the other (decode
to RGB, Remover.process_frame, RGB to YUV + encode). --rss SECONDS runs person:fast on a
clip of that length at 480p and prints the RSS every tenth of the way (flat = no leak).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from functools import partial
from pathlib import Path

import av
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from _common import EVAL, machine

SIZES = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}
LEVELS = ["person:fast", "person:balanced", "person:accurate", "auto:fast", "auto:balanced", "auto:accurate"]
RATE = Fraction(30000, 1001)
SEQUENCE = EVAL / "video" / "dance-twirl" / "frames"


def make_clip(size: str, frames: int, folder: Path) -> Path:
    """The dancer scaled to `size`, `frames` long (the 90 frames loop), H.264 crf 16 + AAC."""
    width, height = SIZES[size]
    sources = sorted(SEQUENCE.glob("*.jpg"))
    path = folder / f"dancer-{size}-{frames}.mp4"
    cache: dict[int, np.ndarray] = {}
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=RATE)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "16", "preset": "veryfast"}
        sound = container.add_stream("aac", rate=48000)
        sound.layout = "stereo"
        for index in range(frames):
            key = index % len(sources)
            if key not in cache:
                cache[key] = np.asarray(
                    Image.open(sources[key]).convert("RGB").resize((width, height), Image.BICUBIC)
                )
            container.mux(video.encode(av.VideoFrame.from_ndarray(cache[key], format="rgb24")))
        container.mux(video.encode(None))
        seconds = frames / float(RATE)
        t = np.arange(round(seconds * 48000)) / 48000
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        samples = np.stack([tone, tone])
        for start in range(0, samples.shape[1], 1024):
            chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, start : start + 1024]),
                                               format="fltp", layout="stereo")  # fmt: skip
            chunk.sample_rate, chunk.pts = 48000, start
            container.mux(sound.encode(chunk))
        container.mux(sound.encode(None))
    return path


def _cpu() -> float:
    spent = os.times()
    return spent.user + spent.system


def timed(run: object) -> tuple[float, float]:
    """(frames/s, CPU ms per frame of this process, all threads) of a run returning (fps, frames)."""
    before = _cpu()
    fps, frames = run()  # type: ignore[operator]
    return fps, 1000 * (_cpu() - before) / max(frames, 1)


def floor_fps(clip: Path, out: Path, frames: int | None = None) -> tuple[float, int]:
    """Decode and re-encode with the pipeline's encoder settings, audio copied; (frames/s, frames)."""
    from mattekit.io.video import DEFAULT_CRF, DEFAULT_PRESET

    start = time.perf_counter()
    count = 0
    with av.open(str(clip)) as source, av.open(str(out), "w", options={"movflags": "+faststart"}) as target:
        video = source.streams.video[0]
        video.thread_type = "AUTO"
        encoder = target.add_stream("libx264", rate=video.average_rate)
        encoder.width, encoder.height, encoder.pix_fmt = video.width, video.height, "yuv420p"
        encoder.codec_context.time_base = video.time_base
        encoder.options = {"crf": str(DEFAULT_CRF["libx264"]), "preset": DEFAULT_PRESET}
        sound = {a.index: target.add_stream_from_template(a) for a in source.streams.audio}
        for packet in source.demux(video, *source.streams.audio):
            if packet.stream.type == "audio":
                if packet.size:
                    packet.stream = sound[packet.stream.index]
                    target.mux(packet)
                continue
            if frames is not None and count >= frames:
                continue
            for frame in packet.decode():
                if frames is not None and count >= frames:
                    break
                target.mux(encoder.encode(frame))
                count += 1
        target.mux(encoder.encode(None))
    return count / (time.perf_counter() - start), count


def level_fps(clip: Path, out: Path, remover: object, duration: float | None) -> tuple[float, int]:
    """End to end through `process_video` with a ready Remover; (frames/s, frames)."""
    from mattekit import process_video

    result = process_video(clip, out, remover=remover, duration=duration)  # type: ignore[arg-type]
    return result.fps, result.frames


def profile(clip: Path, out: Path, remover: object, frames: int) -> dict[str, float]:
    """Milliseconds per frame of each stage, run one after the other (no overlap)."""
    from mattekit.io.frames import Frame
    from mattekit.io.video import VideoReader, VideoWriter, video_format

    remover.reset()  # type: ignore[attr-defined]
    spent = {"decode": 0.0, "process": 0.0, "encode": 0.0}
    done = 0
    with VideoReader(clip) as reader:
        info = reader.info
        writer = VideoWriter(out, video_format(out, transparent=False), info, width=info.width,
                             height=info.height, audio=reader.audio_streams)  # fmt: skip
        items = iter(reader)
        while done < frames:
            tick = time.perf_counter()
            item = next(items, None)
            if item is None:
                break
            tock = time.perf_counter()
            spent["decode"] += tock - tick
            if not isinstance(item, Frame):
                writer.write_audio(item)
                continue
            pixels = remover.process_frame(item.pixels, item.timestamp_ms)  # type: ignore[attr-defined]
            tack = time.perf_counter()
            spent["process"] += tack - tock
            writer.write(pixels, item)
            spent["encode"] += time.perf_counter() - tack
            done += 1
        writer.finish()
    return {k: 1000 * v / max(done, 1) for k, v in spent.items()}


def current_rss_mb() -> float:
    """This process's resident memory now (Linux), else its peak so far."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_run(seconds: float, folder: Path, bg: str) -> None:
    from mattekit import RemoveOptions, Remover, process_video

    frames = round(seconds * float(RATE))
    clip = make_clip("480p", frames, folder)
    remover = Remover(
        RemoveOptions.from_strings({"subject": "person", "quality": "fast", "bg": bg}), mode="video"
    )
    marks: list[tuple[int, float]] = []
    step = max(1, frames // 10)

    def progress(done: int, total: int | None) -> None:
        if done % step == 0 or done == 1:
            marks.append((done, current_rss_mb()))

    result = process_video(clip, folder / "rss.mp4", remover=remover, progress=progress)
    print(f"\n{seconds:g} s clip at 480p, person:fast, {result.frames} frames, {result.fps:.1f} fps")
    print("| frames done | RSS (MB) |\n|---:|---:|")
    for done, rss in marks:
        print(f"| {done} | {rss:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="720p,1080p")
    parser.add_argument("--levels", default=",".join(LEVELS))
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--slow-frames", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bg", default="blur")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--rss", type=float, default=None, metavar="SECONDS")
    args = parser.parse_args()
    from mattekit import RemoveOptions, Remover

    print(f"Machine: {machine()}; PyAV {av.__version__}\n")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.rss:
            rss_run(args.rss, folder, args.bg)
            return
        rows = []
        profiles = []
        for size in args.sizes.split(","):
            clip = make_clip(size, args.frames, folder)
            floor_fps(clip, folder / "warm.mp4", 10)
            for level in args.levels.split(","):
                subject, _, quality = level.partition(":")
                quality, _, variant = quality.partition("/")  # "person:fast/no-fg": no colour estimate
                strings = {"subject": subject, "quality": quality, "bg": args.bg}
                if variant == "no-fg":
                    strings["estimate_foreground"] = "false"
                options = RemoveOptions.from_strings(strings)
                remover = Remover(options, mode="video")
                out = folder / "out.mp4"
                probe, _ = level_fps(
                    clip, out, remover, duration=3 / float(RATE)
                )  # warm up, and a speed probe
                slow = probe < 2
                duration = args.slow_frames / float(RATE) if slow else None
                frames = args.slow_frames if slow else None
                floors, fpss, floor_cpus, cpus, loads = [], [], [], [], []
                for _ in range(1 if slow else args.repeat):
                    floor, floor_cpu = timed(partial(floor_fps, clip, folder / "floor.mp4", frames))
                    fps, cpu = timed(partial(level_fps, clip, out, remover, duration))
                    floors.append(floor)
                    floor_cpus.append(floor_cpu)
                    fpss.append(fps)
                    cpus.append(cpu)
                    loads.append(os.getloadavg()[0])
                done = frames or args.frames
                row = (size, level, remover.info.name, done, statistics.median(fpss), statistics.median(floors),
                       statistics.median(cpus), statistics.median(floor_cpus), statistics.median(loads))  # fmt: skip
                rows.append(row)
                print(
                    f"  {size} {level}: {row[4]:.1f} fps, floor {row[5]:.1f} fps, load {row[8]:.1f}",
                    file=sys.stderr,
                )
                if args.profile:
                    profiles.append((size, level, profile(clip, out, remover, done)))
                    print(
                        f"    profile {profiles[-1][2]}, CPU {row[6]:.0f} ms/frame, floor {row[7]:.0f}",
                        file=sys.stderr,
                    )
                remover.close()
        print(
            f"End to end, --bg {args.bg}, H.264 out (libx264 defaults), audio copied; medians of {args.repeat}"
        )
        print("(CPU: ms of CPU per frame, all threads; load: the 1-minute load average while measured)\n")
        print(
            "| size | level | segmenter | frames | fps | floor fps | of floor | CPU ms | floor CPU ms | load |"
        )
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for size, level, name, done, fps, floor, cpu, floor_cpu, load in rows:
            print(f"| {size} | {level} | {name} | {done} | {fps:.1f} | {floor:.1f} | {100 * fps / floor:.0f}% "
                  f"| {cpu:.0f} | {floor_cpu:.0f} | {load:.1f} |")  # fmt: skip
        if profiles:
            print("\nStages one after the other, ms per frame\n")
            print("| size | level | decode to RGB | process_frame | RGB to YUV + encode |")
            print("|---|---|---:|---:|---:|")
            for size, level, spent in profiles:
                print(
                    f"| {size} | {level} | {spent['decode']:.1f} | {spent['process']:.1f} | {spent['encode']:.1f} |"
                )


if __name__ == "__main__":
    main()
