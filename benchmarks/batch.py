"""Batch throughput: photos per second for 1, 2 and N workers, locally and through Ray, against
a loop of the single-file command, on one folder, in one run.

Usage:
    python benchmarks/batch.py [--count 200] [--auto-count 16] [--levels person:fast,auto:balanced]
                               [--no-ray] [--json FILE]

The folder: `--count` photos drawn from ../shared/eval (people, fullbody, objects: 162-1280 px),
60% at their own size, 25% resized to 1920 px and 15% to 3000 px on the long side (fewer for
the any-subject level, `--auto-count`, which takes seconds a photo on a small machine). Every row is the wall
time of a whole run into an empty output folder, worker start-up and model loading included:

- baseline: `mattekit remove IN/* -o OUT/` (one process, one photo after another);
- local W x T / K: `run_batch` with W worker processes, T ONNX Runtime threads each, K photos
  in flight per worker (K = 2 overlaps decoding and encoding with the model);
- ray W x T / K: the same through Ray Data on a local Ray started before the row (its start-up
  is printed apart, as a cluster is started once for many runs).

The best local row per level is what `mattekit batch` should use by default. The machine may
be shared: run it when nothing else runs, and compare rows of the same run only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from _common import EVAL, machine

from mattekit.batch import run_batch
from mattekit.models.runtime import usable_cpus

SETS = ("people", "fullbody", "objects")
VARIANTS = (1920, 3000)


def make_folder(folder: Path, count: int) -> dict[str, int]:
    """`count` photos in `folder`, the eval sets shuffled (seed 0), 12 of every 20 at their own
    size, 5 resized to 1920 px and 3 to 3000 px on the long side; returns the size counts."""
    originals = sorted(p for name in SETS for p in (EVAL / name / "images").glob("*.jpg"))
    random.Random(0).shuffle(originals)
    folder.mkdir(parents=True)
    made: dict[str, int] = {}
    for index in range(count):
        source = originals[index % len(originals)]
        slot = index % 20
        side = None if slot < 12 else VARIANTS[0] if slot < 17 else VARIANTS[1]
        name = f"{index:03d}-{source.parent.parent.name}-{source.stem}"
        if side is None:
            shutil.copy(source, folder / f"{name}.jpg")
        else:
            with Image.open(source) as photo:
                scale = side / max(photo.size)
                size = (round(photo.width * scale), round(photo.height * scale))
                photo.convert("RGB").resize(size, Image.Resampling.LANCZOS).save(
                    folder / f"{name}.jpg", quality=90
                )
        key = f"{side} px" if side else "own size"
        made[key] = made.get(key, 0) + 1
    return made


def baseline(folder: Path, out: Path, options: dict[str, str]) -> float:
    """Wall seconds of `mattekit remove` over every photo, in one process."""
    flags = [f"--{k}={v}" for k, v in options.items()]
    photos = sorted(str(p) for p in folder.iterdir())
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mattekit", "-q", "remove", *photos, "-o", f"{out}/", *flags], check=True
    )
    return time.perf_counter() - start


def batch(folder: Path, out: Path, options: dict[str, str], engine: str, workers: int, threads: int,
          inflight: int) -> float:  # fmt: skip
    start = time.perf_counter()
    summary = run_batch(folder, out, options, engine=engine, workers=workers, threads=threads,
                        inflight=inflight, progress=False)  # fmt: skip
    seconds = time.perf_counter() - start
    if summary.failed or summary.ok != len(list(folder.iterdir())):
        raise SystemExit(f"batch failed: {summary.line()}")
    return seconds


def configs(cores: int) -> list[tuple[int, int, int]]:
    """(workers, threads, in flight) to try: 1, 2 and N workers, threads filling the cores."""
    counts = sorted({1, 2, cores})
    found = []
    for workers in counts:
        threads = max(1, cores // workers)
        for inflight in (1, 2):
            found.append((workers, threads, inflight))
        if threads > 1:
            found.append((workers, 1, 2))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--auto-count", type=int, default=16)
    parser.add_argument("--levels", default="person:fast,auto:balanced")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    cores = usable_cpus()
    rows: list[dict[str, Any]] = []
    ray_start = None
    work = Path(tempfile.mkdtemp(prefix="mattekit-batch-bench-"))
    try:
        folders = {}
        for level in args.levels.split(","):
            subject, quality = level.split(":")
            count = args.count if level == "person:fast" else args.auto_count
            folder = work / level.replace(":", "-")
            sizes = make_folder(folder, count)
            folders[level] = (folder, {"subject": subject, "quality": quality}, count)
            print(f"{level}: {count} photos ({sizes})", file=sys.stderr, flush=True)

        def record(level: str, how: str, seconds: float) -> None:
            count = folders[level][2]
            rows.append({"level": level, "how": how, "photos": count, "seconds": round(seconds, 2),
                         "photos_per_s": round(count / seconds, 3)})  # fmt: skip
            print(f"  {level} {how:<22} {seconds:7.1f} s  {count / seconds:6.2f} photos/s", file=sys.stderr,
                  flush=True)  # fmt: skip

        out = work / "out"
        for level, (folder, options, _) in folders.items():
            record(level, "baseline remove loop", baseline(folder, out, options))
            shutil.rmtree(out)
            for workers, threads, inflight in configs(cores):
                how = f"local {workers}x{threads} / {inflight}"
                record(level, how, batch(folder, out, options, "local", workers, threads, inflight))
                shutil.rmtree(out)
        if not args.no_ray:  # started after the local rows, so its idle daemons do not slow them
            import logging

            import ray

            start = time.perf_counter()
            ray.init(num_cpus=cores, object_store_memory=256 << 20, include_dashboard=False,
                     log_to_driver=False, logging_level=logging.WARNING)  # fmt: skip
            ray_start = time.perf_counter() - start
            for level, (folder, options, _) in folders.items():
                for workers in sorted({1, cores}):
                    threads = max(1, cores // workers)
                    how = f"ray {workers}x{threads} / 2"
                    record(level, how, batch(folder, out, options, "ray", workers, threads, 2))
                    shutil.rmtree(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if ray_start is not None:
            import ray

            ray.shutdown()
    print(f"\n{machine()}; {cores} cores" + (f"; Ray started in {ray_start:.1f} s" if ray_start else ""))
    print("\n| level | photos | run | seconds | photos/s | vs baseline |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        base = next(r for r in rows if r["level"] == row["level"] and r["how"].startswith("baseline"))
        ratio = row["photos_per_s"] / base["photos_per_s"]
        print(f"| {row['level']} | {row['photos']} | {row['how']} | {row['seconds']} | {row['photos_per_s']} | "
              f"{ratio:.2f}x |")  # fmt: skip
    for level in dict.fromkeys(r["level"] for r in rows):
        local = [r for r in rows if r["level"] == level and r["how"].startswith("local")]
        best = max(local, key=lambda r: r["photos_per_s"])
        one = max((r for r in local if r["how"].startswith("local 1x")), key=lambda r: r["photos_per_s"])
        many = max(
            (r for r in local if r["how"].startswith(f"local {cores}x")), key=lambda r: r["photos_per_s"]
        )
        print(f"{level}: fastest local run {best['how']}; {cores} workers over one: "
              f"{many['photos_per_s'] / one['photos_per_s']:.2f}x (best of each)")  # fmt: skip
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine(), "ray_start_s": ray_start, "rows": rows}, indent=2)
        )


if __name__ == "__main__":
    os.environ.setdefault("MATTEKIT_OFFLINE", "1")
    main()
