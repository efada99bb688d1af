"""Quality of every level on ../shared/eval, scored by ../shared/eval/score.py.

Usage:
    python benchmarks/quality.py [--sets people,objects] [--levels person:fast,auto:balanced,...]
                                 [--raw] [--limit N]

For each (set, level) it writes the masks into a temporary folder, scores them with the
shared scorer (IoU at 0.5, MAE, boundary F at 3 px) and reports the median time per image.
`--raw` adds the raw models (output upscaled bilinearly, no refinement) as baselines.
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from _common import EVAL, load_scorer, machine
from mattekit.imageio import decode_image
from mattekit.segmenters import Segmenter, load_segmenter
from mattekit.segmenters.person import SelfieSegmenter
from mattekit.segmenters.subject import ISNetSegmenter

SETS = {"people": ["person:fast", "person:balanced", "person:accurate", "auto:balanced"],
        "objects": ["auto:fast", "auto:balanced", "auto:accurate"]}  # fmt: skip
RAW = {"people": ["raw:selfie", "raw:isnet-medium@1024"], "objects": ["raw:isnet-medium@1024"]}


def build(level: str) -> Segmenter:
    kind, _, value = level.partition(":")
    if kind == "raw":
        if value == "selfie":
            return SelfieSegmenter(refine="bilinear")
        model, _, size = value.partition("@")
        return ISNetSegmenter(model, int(size), refine="bilinear")
    return load_segmenter(kind, value)


def run(set_name: str, level: str, limit: int | None, scorer) -> dict[str, float]:
    images = sorted((EVAL / set_name / "images").glob("*.jpg"))[:limit]
    segmenter = build(level)
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in images:
            rgb = decode_image(path).rgb
            start = time.perf_counter()
            mask = segmenter.segment(rgb)
            times.append((time.perf_counter() - start) * 1000)
            Image.fromarray(np.round(mask * 255).astype(np.uint8)).save(Path(tmp) / f"{path.stem}.png")
        rows, mean = scorer.score_binary(str(EVAL / set_name), tmp, 3)
        if limit:  # score only the images we ran
            stems = {p.stem for p in images}
            rows = [r for r in rows if r["image"] in stems]
            mean = {k: float(np.mean([r[k] for r in rows])) for k in ("iou", "mae", "boundary_f")}
    mean["ms"] = float(np.median(times))
    mean["name"] = getattr(segmenter, "name", level)
    return mean


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="people,objects")
    parser.add_argument("--levels", default=None, help="comma list like person:fast,auto:balanced")
    parser.add_argument("--raw", action="store_true", help="add raw-model baselines")
    parser.add_argument("--limit", type=int, default=None, help="first N images of each set")
    args = parser.parse_args(list(argv) if argv is not None else None)
    scorer = load_scorer()
    print(f"# quality on ../shared/eval — {machine()}\n")
    print("| set | level | segmenter | IoU | MAE | boundary F | ms/image (median) |")
    print("|---|---|---|---|---|---|---|")
    for set_name in args.sets.split(","):
        levels = args.levels.split(",") if args.levels else SETS[set_name]
        if args.raw:
            levels = RAW[set_name] + levels
        for level in levels:
            m = run(set_name, level, args.limit, scorer)
            print(f"| {set_name} | {level} | {m['name']} | {m['iou']:.3f} | {m['mae']:.4f} | "
                  f"{m['boundary_f']:.3f} | {m['ms']:.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
