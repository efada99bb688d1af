"""Video levels on ../shared/eval/video: per-frame quality, flicker with and without smoothing,
lag, time at 720p, and RVM on the still people sets.

Usage:
    python benchmarks/video_quality.py [--parts video,speed,smoothing,stills]
                                       [--levels person:fast,...] [--frames N] [--halves]
                                       [--stills-limit N]

Parts:
- video: each sequence (dance-twirl: person and auto; blackswan and libby: auto), each
  level in video mode. Per-frame IoU (at 0.5), boundary F (3 px, the shared scorer's),
  MAE, flicker (mean |alpha_t - alpha_t-1| where the truth does not change between the two
  frames) and "arrival" (mean alpha on pixels that became subject in this frame: a lagging
  mask is low there). Smoothed levels also run without smoothing and with the base step
  only (no motion gate: the smoothing before the gate), from the same model output, so the
  differences are the smoothing's; RVM runs with its recurrent state, from a zero state on
  every frame, and with the smoothing on top. `--halves`: scores of the first and the
  second half of each sequence's frames (the knobs were chosen on the first) and of all.
- speed: ms per frame of each video level at 1280x720 (the dancer's frames upscaled), median
  of 10 frames after 2, with the selfie model's time in the same run as the floor.
- smoothing: ms per frame of the smoothing alone (`TemporalSmoother.update` with the frame)
  at 1280x720 on the selfie model's 256x144 map, median of 200 updates.
- stills: RVM from a zero state on ../shared/eval/people and fullbody against today's image
  levels person balanced and accurate (IoU, boundary F, MAE, median ms).
Prints markdown tables.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
from _common import EVAL, load_scorer, machine
from numpy.typing import NDArray

from mattekit import RemoveOptions, Remover
from mattekit.segmenters.isnet import ISNetSegmenter
from mattekit.segmenters.levels import build_segmenter
from mattekit.segmenters.rvm import RVMSegmenter
from mattekit.segmenters.selfie import SelfieSegmenter
from mattekit.stages.refine import upsample_mask
from mattekit.stages.temporal import TemporalSmoother

Frames = list[NDArray[np.uint8]]
Truth = list[NDArray[np.bool_]]
Masks = list[NDArray[np.float32]]

SEQUENCES = {"dance-twirl": ("person", "auto"), "blackswan": ("auto",), "libby": ("auto",)}
QUALITIES = ("fast", "balanced", "accurate")
FPS = 24.0


def load_sequence(name: str, limit: int | None = None) -> tuple[Frames, Truth]:
    """A sequence's RGB frames and boolean truth masks."""
    folder = EVAL / "video" / name
    paths = sorted((folder / "frames").glob("*.jpg"))[:limit]
    frames = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in paths]
    truth = [cv2.imread(str(folder / "masks" / f"{p.stem}.png"), cv2.IMREAD_GRAYSCALE) > 127 for p in paths]
    return frames, truth


@dataclass
class Scores:
    """Mean per-frame scores of one run over one sequence."""

    iou: float
    boundary_f: float
    mae: float
    flicker: float
    arrival: float


def score(masks: Masks, truth: Truth, scorer: ModuleType, start: int = 0, stop: int | None = None) -> Scores:
    """Per-frame IoU, boundary F, MAE; flicker where the truth stays; alpha where it arrives;
    over frames start..stop (flicker and arrival: pairs of frames both in that range)."""
    ious, bfs, maes, flicker, arrival = [], [], [], [], []
    stop = len(masks) if stop is None else stop
    for i in range(start, stop):
        alpha, true = masks[i], truth[i]
        pred = alpha >= 0.5
        union = (pred | true).sum()
        ious.append(1.0 if union == 0 else float((pred & true).sum() / union))
        bfs.append(scorer.boundary_f(pred, true, 3))
        maes.append(float(np.abs(alpha - true).mean()))
        if i > start:
            same = truth[i - 1] == true
            flicker.append(float(np.abs(alpha - masks[i - 1])[same].mean()))
            new = true & ~truth[i - 1]
            if new.any():
                arrival.append(float(alpha[new].mean()))
    mean = statistics.fmean
    return Scores(
        mean(ious), mean(bfs), mean(maes), mean(flicker), mean(arrival) if arrival else float("nan")
    )


def smoothed_runs(kind: str, quality: str, frames: Frames) -> tuple[Masks, Masks, Masks, str]:
    """(without smoothing, base step only, with smoothing, name) of a per-frame level, from
    one model run a frame.

    Mirrors segmenters/temporal.py: selfie and IS-Net smooth their low-resolution map, the
    others their full-size mask. `check_video_path` confirms it against the Remover.
    """
    segmenter = build_segmenter(kind, quality)
    base, gated = TemporalSmoother(), TemporalSmoother()
    plain, steps, smooth = [], [], []
    for rgb in frames:
        if isinstance(segmenter, (SelfieSegmenter, ISNetSegmenter)):
            raw = segmenter.predict(rgb)
            plain.append(upsample_mask(raw, rgb))
            steps.append(upsample_mask(base.update(raw), rgb))
            smooth.append(upsample_mask(gated.update(raw, rgb), rgb))
        else:
            mask = segmenter.segment(rgb)
            plain.append(mask)
            steps.append(base.update(mask))
            smooth.append(gated.update(mask, rgb))
    return plain, steps, smooth, segmenter.info.name


def rvm_runs(quality: str, frames: Frames) -> tuple[dict[str, Masks], str]:
    """RVM at a level's size: with its state, from a zero state each frame, and smoothed."""
    segmenter = build_segmenter("person", quality, video=True)
    assert isinstance(segmenter, RVMSegmenter), segmenter.info.name
    state = [segmenter.segment_frame(rgb, i * 1000 / FPS) for i, rgb in enumerate(frames)]
    segmenter.reset()
    zero = [segmenter.segment(rgb) for rgb in frames]
    smoother = TemporalSmoother()
    smoothed = [smoother.update(mask) for mask in state]
    runs = {"recurrent state": state, "zero state each frame": zero, "state + smoothing": smoothed}
    return runs, segmenter.info.name


def check_video_path(kind: str, quality: str, frames: Frames, expected: Masks) -> float:
    """Largest difference between the Remover's video mode and the benchmark's smoothed masks."""
    remover = Remover(RemoveOptions(subject=kind, quality=quality, output="mask"), mode="video")
    worst = 0.0
    for i, rgb in enumerate(frames):
        got = remover.segment_frame(rgb, i * 1000 / FPS).mask
        worst = max(worst, float(np.abs(got - expected[i]).max()))
    return worst


def part_video(levels: list[str], limit: int | None, scorer: ModuleType, halves: bool = False) -> None:
    print("\n## Video levels on ../shared/eval/video (means over frames)\n")
    print("| sequence | frames | level | runs | variant | IoU | boundary F | MAE | flicker x1000 | arrival |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    checked = False
    for sequence, kinds in SEQUENCES.items():
        frames, truth = load_sequence(sequence, limit)
        for kind in kinds:
            for quality in QUALITIES:
                level = f"{kind}:{quality}"
                if level not in levels:
                    continue
                if kind == "person" and quality != "fast":
                    runs, name = rvm_runs(quality, frames)
                else:
                    plain, steps, smooth, inner = smoothed_runs(kind, quality, frames)
                    if not checked:
                        gap = check_video_path(kind, quality, frames[:4], smooth[:4])
                        print(f"<!-- {level}: Remover video mode vs this benchmark, max |diff| {gap:.2e} -->")
                        checked = True
                    runs = {"without smoothing": plain, "base step only": steps, "with smoothing": smooth}
                    name = f"{inner}+smooth"
                n = len(frames)
                ranges = (
                    [(0, n // 2, "1st half"), (n // 2, n, "2nd half"), (0, n, "all")]
                    if halves
                    else [(0, n, "all")]
                )
                for start, stop, label in ranges:
                    for variant, masks in runs.items():
                        s = score(masks, truth, scorer, start, stop)
                        print(
                            f"| {sequence} | {label} | {level} | {name} | {variant} | {s.iou:.3f} "
                            f"| {s.boundary_f:.3f} | {s.mae:.3f} | {s.flicker * 1000:.2f} | {s.arrival:.3f} |",
                            flush=True,
                        )


def _times_ms(fn: Callable[[NDArray[np.uint8], float], object], frames: Frames) -> tuple[float, float, float]:
    """(median wall, fastest wall, median CPU) ms of `fn` over the frames after the first two.

    The CPU time (all threads of this process) does not grow when other jobs share the
    machine, as wall time does: on a shared machine it tells what a frame costs.
    """
    walls, cpus = [], []
    for i, rgb in enumerate(frames):
        start, cpu = time.perf_counter(), time.process_time()
        fn(rgb, i * 1000 / FPS)
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls[2:]), min(walls[2:]), statistics.median(cpus[2:])


def part_speed(levels: list[str]) -> None:
    frames, _ = load_sequence("dance-twirl", 12)
    hd = [cv2.resize(f, (1280, 720), interpolation=cv2.INTER_CUBIC) for f in frames]
    print(f"\n## Video levels at 1280x720, ms per frame (median of 10), {machine()}\n")
    selfie = SelfieSegmenter()
    floor, _, _ = _times_ms(lambda rgb, _: selfie.predict(rgb), hd)
    load = os.getloadavg()[0]
    print(f"floor in the same run: the selfie model alone (resize + run), {floor:.1f} ms; load {load:.1f}\n")
    print(
        "| level | runs | segment_frame ms, median (fastest) | fps (median) | x floor | CPU ms (all threads) |"
    )
    print("|---|---|---|---|---|---|")
    for level in levels:
        kind, quality = level.split(":")
        segmenter = build_segmenter(kind, quality, video=True)
        ms, fastest, cpu = _times_ms(segmenter.segment_frame, hd)
        print(
            f"| {level} | {segmenter.info.name} | {ms:.1f} ({fastest:.1f}) | {1000 / ms:.1f} "
            f"| {ms / floor:.1f} | {cpu:.0f} |",
            flush=True,
        )


def part_smoothing() -> None:
    frames, _ = load_sequence("dance-twirl", 12)
    hd = [cv2.resize(f, (1280, 720), interpolation=cv2.INTER_CUBIC) for f in frames]
    selfie = SelfieSegmenter()
    maps = [selfie.predict(rgb) for rgb in hd]
    times = {}
    for label, with_frame in (("base step only", False), ("with smoothing (motion gate)", True)):
        smoother = TemporalSmoother()
        walls = []
        for i in range(200):
            k = i % len(hd)
            start = time.perf_counter()
            smoother.update(maps[k], hd[k] if with_frame else None)
            walls.append((time.perf_counter() - start) * 1000)
        times[label] = statistics.median(walls[2:])
    print(f"\n## Smoothing alone at 1280x720 (selfie map 256x144), {machine()}\n")
    print("| variant | ms per frame (median of 200) |")
    print("|---|---|")
    for label, ms in times.items():
        print(f"| {label} | {ms:.2f} |")


def part_stills(limit: int | None, scorer: ModuleType) -> None:
    print("\n## RVM on still photos (zero state) against the image levels\n")
    print("| set | runs | IoU | boundary F | MAE | median ms |")
    print("|---|---|---|---|---|---|")
    contenders: dict[str, Callable[[NDArray[np.uint8]], NDArray[np.float32]]] = {}
    for quality in ("balanced", "accurate"):
        remover = Remover(RemoveOptions(subject="person", quality=quality, output="mask"))
        contenders[f"person {quality} ({remover.info.name})"] = lambda rgb, r=remover: r.segment(rgb).mask
    for side in (384, 512):
        rvm = RVMSegmenter(side)
        contenders[f"rvm@{side}, zero state"] = rvm.segment
    for name in ("people", "fullbody"):
        folder = EVAL / name
        paths = sorted((folder / "images").glob("*.jpg"))[:limit]
        images = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in paths]
        truth = [
            _truth(folder / "masks" / f"{p.stem}.png", img.shape[:2])
            for p, img in zip(paths, images, strict=True)
        ]
        for label, fn in contenders.items():
            ious, bfs, maes, times = [], [], [], []
            for rgb, true in zip(images, truth, strict=True):
                start = time.perf_counter()
                alpha = fn(rgb)
                times.append((time.perf_counter() - start) * 1000)
                pred = alpha >= 0.5
                ious.append(float((pred & true).sum() / max(1, (pred | true).sum())))
                bfs.append(scorer.boundary_f(pred, true, 3))
                maes.append(float(np.abs(alpha - true).mean()))
            print(
                f"| {name} | {label} | {statistics.fmean(ious):.3f} | {statistics.fmean(bfs):.3f} "
                f"| {statistics.fmean(maes):.3f} | {statistics.median(times):.0f} |",
                flush=True,
            )


def _truth(path: Path, shape: tuple[int, ...]) -> NDArray[np.bool_]:
    mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if mask.shape != shape[:2]:
        mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.asarray(mask > 127)


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--parts", default="video,speed,stills")
    parser.add_argument(
        "--levels", default=",".join(f"{k}:{q}" for k in ("person", "auto") for q in QUALITIES)
    )
    parser.add_argument("--frames", type=int, default=None, help="first N frames of each sequence")
    parser.add_argument("--halves", action="store_true", help="also score each half of every sequence")
    parser.add_argument("--stills-limit", type=int, default=None, help="first N photos of each still set")
    args = parser.parse_args(None if argv is None else list(argv))
    levels = args.levels.split(",")
    scorer = load_scorer()
    parts = args.parts.split(",")
    print(f"Machine: {machine()}")
    if "speed" in parts:
        part_speed(levels)
    if "video" in parts:
        part_video(levels, args.frames, scorer, args.halves)
    if "smoothing" in parts:
        part_smoothing()
    if "stills" in parts:
        part_stills(args.stills_limit, scorer)


if __name__ == "__main__":
    main()
