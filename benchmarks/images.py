"""End-to-end speed and memory per quality level, on generated 1080p / 12 MP / 24 MP photos.

Usage:
    python benchmarks/images.py [--levels person:fast,auto:accurate,...] [--sizes 1080p,12mp]
                                [--repeat 5] [--rss-24mp] [--profile] [--baseline SRC]

End to end = decode a JPEG from disk -> segment -> compose a transparent cutout -> encode
PNG -> write atomically, exactly what `mattekit remove` does per file. "model" is the
model's own inference time (`predict`, with its input resize) on the same photo. The floor
row is what no level can avoid: decoding that JPEG and encoding the person:fast cutout of it
as PNG; every level's time is also given as a multiple of it. Each (level, size) runs in a
fresh process so its peak RSS is its own. Prints markdown tables.

--profile adds a per-stage table for each level and size (stages timed in alternating
rounds, medians). --baseline SRC also runs every row with another copy of the package (a
`src` folder, e.g. an earlier checkout copied elsewhere) first on the import path, row by row
in the same run, so before and after see the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from _common import ROOT, machine, median_ms

SIZES = {"1080p": (1920, 1080), "12mp": (4000, 3000), "24mp": (6000, 4000)}
LEVELS = ["person:fast", "person:balanced", "person:accurate", "auto:fast", "auto:balanced", "auto:accurate"]
FLOOR = "floor"


def make_photo(size: str, folder: Path) -> Path:
    """The bundled astronaut photo, cover-resized to the size (a real photo, so the masks are real)."""
    width, height = SIZES[size]
    image = Image.open(ROOT / "examples" / "astronaut.jpg").convert("RGB")
    scale = max(width / image.width, height / image.height)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    left, top = (image.width - width) // 2, (image.height - height) // 2
    path = folder / f"photo-{size}.jpg"
    image.crop((left, top, left + width, top + height)).save(path, quality=90)
    return path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_one(level: str, photo: Path, repeat: int) -> dict[str, float]:
    """Run in a child process: times and peak RSS of one level on one photo."""
    from mattekit import RemoveOptions, Remover
    from mattekit.io.images import decode_image
    from mattekit.segmenters import build_segmenter

    subject, _, quality = level.partition(":")
    remover = Remover(RemoveOptions(subject=subject, quality=quality))
    target = photo.with_name(f"{photo.stem}.{subject}-{quality}.png")
    end_to_end = median_ms(lambda: remover.process_file(photo, target), repeat=repeat)
    rgb = decode_image(photo).rgb
    segmenter = build_segmenter(remover.options.kind, quality)  # the same cached sessions
    predict = getattr(segmenter, "predict", None) or segmenter.segment
    model = median_ms(lambda: predict(rgb), repeat=repeat)
    return {"end_to_end_ms": end_to_end, "model_ms": model, "peak_rss_mb": _peak_rss_mb()}


def _person_fast_cutout(photo: Path):  # type: ignore[no-untyped-def]
    """The person:fast cutout of the photo: what the floor encodes."""
    from mattekit import RemoveOptions, Remover

    with Remover(RemoveOptions(subject="person", quality="fast")) as remover:
        return remover.process(photo)


def measure_floor(photo: Path, repeat: int) -> dict[str, float]:
    """Run in a child process: decode the JPEG from disk and encode its person:fast cutout as PNG."""
    from mattekit.io.images import decode_image, encode_image

    cutout = _person_fast_cutout(photo)

    def floor() -> None:
        decode_image(photo)
        encode_image(cutout, "PNG")

    return {"end_to_end_ms": median_ms(floor, repeat=repeat), "model_ms": 0.0, "peak_rss_mb": _peak_rss_mb()}


def profile_one(level: str, photo: Path, repeat: int) -> dict[str, float]:
    """Run in a child process: the stages of one level on one photo, ms (medians of `repeat`).

    Stages run in alternating rounds, each on the previous stage's real output, so a busy
    moment of the machine touches them all alike. Works with any copy of the package that has
    `Remover._segment_decoded` and `Remover._compose` (the one place that knows the order).
    """
    from mattekit import RemoveOptions, Remover
    from mattekit.io import images as imageio
    from mattekit.stages import compose

    subject, _, quality = level.partition(":")
    remover = Remover(RemoveOptions(subject=subject, quality=quality))
    target = photo.with_name(f"{photo.stem}.{subject}-{quality}.profile.png")
    decoded = remover.decode(photo)
    rgb = decoded.rgb
    found = remover._segment_decoded(decoded)
    mask = found.mask
    out = remover._compose(rgb, mask)
    data = imageio.encode_image(out, "PNG")

    stages: dict[str, Callable[[], object]] = {"read + decode JPEG": lambda: remover.decode(photo)}
    segmenter = remover._segmenter
    predict = getattr(segmenter, "predict", None)
    if predict is not None and getattr(segmenter, "_refine", None) == "guided":
        from mattekit.stages import refine

        small = predict(rgb)
        stages["model (input resize + inference)"] = lambda: predict(rgb)
        stages["guided upsampling"] = lambda: refine.upsample_mask(small, rgb)
    else:
        stages["segment (model + refinement)"] = lambda: remover._segment_decoded(decoded)
    stages["compose (foreground + cutout)"] = lambda: remover._compose(rgb, mask)
    if (
        remover.options.output == "image"
        and remover.options.background.transparent
        and remover.options.estimate_foreground
    ):
        fused = getattr(compose, "cutout_with_foreground", None)
        if fused is not None:
            stages["  of which cutout_with_foreground"] = lambda: fused(rgb, mask)
        else:
            foreground = compose.estimate_foreground(rgb, mask)
            stages["  of which estimate_foreground"] = lambda: compose.estimate_foreground(rgb, mask)
            stages["  of which cutout"] = lambda: compose.cutout(rgb, mask, foreground=foreground)
    stages["PNG encode"] = lambda: imageio.encode_image(out, "PNG")
    stages["atomic write"] = lambda: imageio.write_atomic(target, data)
    stages["end to end (process_file)"] = lambda: remover.process_file(photo, target)
    stages[FLOOR] = lambda: (imageio.decode_image(photo), imageio.encode_image(out, "PNG"))

    times: dict[str, list[float]] = {name: [] for name in stages}
    for fn in stages.values():
        fn()  # warm-up
    for _ in range(repeat):
        for name, fn in stages.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def _child(args: list[str], baseline: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if baseline:
        env["PYTHONPATH"] = os.pathsep.join([baseline, *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False, env=env
    )


def _result(out: subprocess.CompletedProcess[str]) -> dict[str, float] | str:
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines()
        return f"failed: {lines[-1] if lines else out.returncode}"
    parsed: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default=",".join(LEVELS))
    parser.add_argument("--sizes", default="1080p,12mp")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rss-24mp", action="store_true", help="also the 24 MP accurate run")
    parser.add_argument("--profile", action="store_true", help="also a per-stage table per level and size")
    parser.add_argument("--baseline", metavar="SRC", help="also run every row with this package source first")
    parser.add_argument("--one", nargs=2, metavar=("LEVEL", "PHOTO"), help=argparse.SUPPRESS)
    parser.add_argument("--profile-one", nargs=2, metavar=("LEVEL", "PHOTO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        level, photo = args.one[0], Path(args.one[1])
        measure = (
            measure_floor(photo, args.repeat) if level == FLOOR else measure_one(level, photo, args.repeat)
        )
        print(json.dumps(measure))
        return
    if args.profile_one:
        print(json.dumps(profile_one(args.profile_one[0], Path(args.profile_one[1]), args.repeat)))
        return

    trees: list[tuple[str, str | None]] = [("this tree", None)]
    if args.baseline:
        trees.insert(0, ("baseline", str(Path(args.baseline).resolve())))
    runs = [(lv, sz) for sz in args.sizes.split(",") for lv in [FLOOR, *args.levels.split(",")]]
    if args.rss_24mp:
        runs += [(FLOOR, "24mp"), ("person:accurate", "24mp")]
    code_col = " code |" if args.baseline else ""
    print(f"# end to end, JPEG -> PNG cutout — {machine()}, {time.strftime('%Y-%m-%d')}\n")
    if args.baseline:
        print(f"baseline = {trees[0][1]}\n")
    print(f"| level | photo |{code_col} end to end ms (median) | x floor | model ms | peak RSS MB |")
    print("|---|---|" + ("---|" if args.baseline else "") + "---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        photos = {sz: make_photo(sz, Path(tmp)) for sz in {sz for _, sz in runs}}
        floors: dict[tuple[str, str], float] = {}
        for level, size in runs:
            repeat = (
                args.repeat
                if size == "1080p" or level.endswith("fast") or level == FLOOR
                else max(1, args.repeat // 2)
            )
            for name, tree in trees:
                m = _result(_child(["--one", level, str(photos[size]), "--repeat", str(repeat)], tree))
                code = f" {name} |" if args.baseline else ""
                if isinstance(m, str):
                    print(f"| {level} | {size} |{code} {m} | | | |", flush=True)
                    continue
                ms = m["end_to_end_ms"]
                if level == FLOOR:
                    floors[(name, size)] = ms
                floor = floors.get((name, size))
                ratio = f"{ms / floor:.2f}" if floor else ""
                model = f"{m['model_ms']:.0f}" if level != FLOOR else ""
                print(f"| {level} | {size} |{code} {ms:.0f} | {ratio} | {model} | "
                      f"{m['peak_rss_mb']:.0f} |", flush=True)  # fmt: skip
        if args.profile:
            _print_profiles(args, trees, photos)


def _print_profiles(
    args: argparse.Namespace, trees: list[tuple[str, str | None]], photos: dict[str, Path]
) -> None:
    for size in args.sizes.split(","):
        for level in args.levels.split(","):
            results = [
                _result(
                    _child(["--profile-one", level, str(photos[size]), "--repeat", str(args.repeat)], tree)
                )
                for _, tree in trees
            ]
            print(f"\n## {level} at {size}, per stage (ms, medians of {args.repeat} alternating rounds)\n")
            names = [n for n, _ in trees]
            print("| stage | " + " | ".join(f"{n} ms | {n} x floor" for n in names)
                  + (" | after / before |" if len(trees) > 1 else " |"))  # fmt: skip
            print("|---|" + "---|---|" * len(trees) + ("---|" if len(trees) > 1 else ""))
            stages: list[str] = []
            for r in results:  # every tree's stages, each after the one it follows
                at = 0
                for stage in r if isinstance(r, dict) else []:
                    if stage in stages:
                        at = stages.index(stage) + 1
                    else:
                        stages.insert(at, stage)
                        at += 1
            for stage in stages:
                cells = []
                for r in results:
                    if isinstance(r, str):
                        cells += [r, ""]
                    elif stage in r:
                        cells += [f"{r[stage]:.1f}", f"{r[stage] / r[FLOOR]:.2f}"]
                    else:
                        cells += ["", ""]
                ratio = ""
                if len(results) > 1 and all(isinstance(r, dict) and stage in r for r in results):
                    before, after = results[0], results[-1]
                    assert isinstance(before, dict) and isinstance(after, dict)
                    ratio = f" {after[stage] / before[stage]:.2f} |"
                elif len(results) > 1:
                    ratio = "  |"
                print(f"| {stage} | " + " | ".join(cells) + " |" + ratio)


if __name__ == "__main__":
    main()
