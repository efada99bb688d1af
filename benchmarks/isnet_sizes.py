"""IS-Net input sizes: quality and time per long side, on both halves of every eval set.

Usage:
    python benchmarks/isnet_sizes.py [--sets people,fullbody,objects,video] [--sides 512,...,1024]
                                     [--cache /tmp/mattekit-isnet-sizes] [--limit N]
                                     [--video-step 10] [--time-every 5] [--rescore]

Every photo is fed to IS-Net (isnet-medium) as a square ("S1024": 1024x1024, what rembg
does) and at its own aspect ratio ("L768": long side 768 px, short side scaled and rounded
to a multiple of 32). The old levels were S512, S768 and S768+S1024 (auto), S512 and
S768+S1024 (person detail). The raw model maps are cached under --cache, so a rerun only
times the models and scores; scores are cached too (--rescore recomputes them).

Each set is split by sorted index: even = the tune half, odd = the confirm half. Scores are
those of ../shared/eval/score.py (IoU and boundary F at 3 px of 8-bit masks thresholded at
0.5; objects/ is scored against U-2-Net's output, so it measures agreement).

Variants scored:
- "raw S1024": the rembg baseline (square 1024, bilinear upscale); every other variant uses
  the guided upsampling of the levels.
- "S<side>", "L<side>": square or aspect-preserving input; "S<a>+S<b>", "L<a>+L<b>": the
  mean of two (multi-scale).
- on people/ and fullbody/: "selfie" (the person fast level), "selfie + <variant>": the
  person levels' fusion of the selfie model with that IS-Net map as detail, and
  "filter + <variant>": that auto mask with only the parts the selfie model calls a person
  (keep_prior_parts; the fusion where IS-Net missed the person), as the person levels do.

"input MP" is the mean model input size in megapixels (the models' work; the same on any
machine). ms/image is the median over every --time-every-th photo of one run of the
variant's models, timed in this run with all models interleaved photo by photo, plus the
fusion and guided upsampling (timed when the variant was first scored). The last table
sets the old levels beside today's `LEVELS` rows. Prints markdown tables with the date and
machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np
from _common import EVAL, load_scorer, machine
from PIL import Image

from mattekit.io.images import decode_image
from mattekit.segmenters.fusion import fuse
from mattekit.segmenters.isnet import ISNetSegmenter
from mattekit.segmenters.levels import LEVELS
from mattekit.segmenters.selfie import SelfieSegmenter
from mattekit.stages.refine import upsample_mask

SIDES = (512, 640, 768, 832, 896, 1024)
PERSON_SETS = ("people", "fullbody")
# The levels before this sweep (all square inputs); the new ones are read from LEVELS.
OLD = {("auto", "fast"): "S512", ("auto", "balanced"): "S768", ("auto", "accurate"): "S768+S1024",
       ("person", "balanced"): "selfie + S512", ("person", "accurate"): "selfie + S768+S1024"}  # fmt: skip

Item = tuple[str, Path, Path]  # (name, photo, truth mask)


def items(set_name: str, video_step: int) -> list[Item]:
    """(name, photo, truth) of a set, sorted; video/ is every `video_step`-th frame."""
    if set_name == "video":
        found = []
        for seq in sorted(p for p in (EVAL / "video").iterdir() if p.is_dir()):
            for frame in sorted((seq / "frames").glob("*.jpg"))[::video_step]:
                found.append((f"{seq.name}-{frame.stem}", frame, seq / "masks" / f"{frame.stem}.png"))
        return found
    folder = "masks" if (EVAL / set_name / "masks").is_dir() else "reference_u2net"
    return [(p.stem, p, EVAL / set_name / folder / f"{p.stem}.png")
            for p in sorted((EVAL / set_name / "images").glob("*.jpg"))]  # fmt: skip


class RawCache:
    """Raw model maps (float16 .npy), computed once per photo, and timed runs of the models."""

    def __init__(self, root: Path, sides: Iterable[int]) -> None:
        self.root = root
        self.isnet: dict[str, ISNetSegmenter] = {}
        for side in sides:
            self.isnet[f"S{side}"] = ISNetSegmenter("isnet-medium", side)
            self.isnet[f"L{side}"] = ISNetSegmenter("isnet-medium", side, keep_aspect=True)
        self._makers: dict[str, Callable[[np.ndarray], np.ndarray]] = {"selfie": SelfieSegmenter().predict}
        self._makers.update({key: segmenter.predict for key, segmenter in self.isnet.items()})

    def load(self, set_name: str, name: str, rgb: np.ndarray) -> dict[str, np.ndarray]:
        """Every model's map of one photo, computing the missing ones."""
        folder = self.root / "raw" / set_name / name
        folder.mkdir(parents=True, exist_ok=True)
        maps = {}
        for key, make in self._makers.items():
            path = folder / f"{key}.npy"
            if not path.is_file():
                np.save(path, make(rgb).astype(np.float16))
            maps[key] = np.load(path).astype(np.float32)
        return maps

    def time(self, rgb: np.ndarray, turn: int) -> dict[str, float]:
        """ms of one run of every model on a photo, interleaved (starting at a different
        model each turn, so a busy spell of the machine slows none of them alone)."""
        keys = list(self._makers)
        keys = keys[turn % len(keys) :] + keys[: turn % len(keys)]
        times = {}
        for key in keys:
            start = time.perf_counter()
            self._makers[key](rgb)
            times[key] = (time.perf_counter() - start) * 1000
        return times

    def megapixels(self, key: str, rgb: np.ndarray) -> float:
        """The model input's size in megapixels."""
        h, w = self.isnet[key].input_shape(rgb.shape[0], rgb.shape[1], int(key[1:]))
        return h * w / 1e6


def mean_map(maps: list[np.ndarray]) -> np.ndarray:
    """The multi-scale mean, as ISNetSegmenter.predict: every map at the largest one's shape."""
    largest = max(maps, key=lambda m: m.size)
    size = largest.shape[1], largest.shape[0]
    resized = [
        m if m.shape == largest.shape else cv2.resize(m, size, interpolation=cv2.INTER_LINEAR) for m in maps
    ]
    return np.mean(resized, axis=0, dtype=np.float32)


def variant_mask(variant: str, maps: dict[str, np.ndarray], rgb: np.ndarray) -> np.ndarray:
    """The full-size mask of a variant ("raw S1024", "L768+L1024", "selfie + S512", ...)."""
    if variant.startswith("raw "):
        return upsample_mask(maps[variant[4:]], rgb, method="bilinear")
    kind, _, sizes = variant.rpartition(" + ")
    detail = mean_map([maps[k] for k in sizes.split("+")])
    if not kind:
        return upsample_mask(detail, rgb, method="guided")
    prior = maps["selfie"]
    if not prior.any():  # as DetailSegmenter: no person, no IS-Net
        return np.zeros(rgb.shape[:2], np.float32)
    prior = cv2.resize(prior, (detail.shape[1], detail.shape[0]))
    fused = fuse(prior, detail, "filter" if kind == "filter" else "mean")
    return upsample_mask(fused, rgb, method="guided")


def isnet_keys(variant: str) -> list[str]:
    """The IS-Net inputs a variant runs ("S640+S1024" -> ["S640", "S1024"])."""
    return variant.removeprefix("raw ").rpartition(" + ")[2].split("+")


def variant_ms(variant: str, times: dict[str, float]) -> float:
    """The models' time of a variant."""
    selfie = times["selfie"] if " + " in variant else 0.0
    return sum(times[k] for k in isnet_keys(variant)) + selfie


def score(scorer: object, mask: np.ndarray, truth_path: Path) -> tuple[float, float]:
    """IoU and boundary F (3 px) exactly as score.py: 8-bit mask, resized to the truth, >= 0.5."""
    truth_img = Image.open(truth_path).convert("L")
    pred = Image.fromarray(np.round(np.clip(mask, 0, 1) * 255).astype(np.uint8))
    if pred.size != truth_img.size:
        pred = pred.resize(truth_img.size, Image.BILINEAR)
    p = np.asarray(pred, np.float32) / 255.0 >= 0.5
    t = np.asarray(truth_img, np.float32) / 255.0 >= 0.5
    union = (p | t).sum()
    iou = 1.0 if union == 0 else float((p & t).sum() / union)
    return iou, float(scorer.boundary_f(p, t, 3))  # type: ignore[attr-defined]


def variants(set_name: str, sides: tuple[int, ...]) -> list[str]:
    """Every variant scored on a set."""
    isnet = [f"{f}{s}" for f in "SL" for s in sides]
    isnet += [f"{f}{a}+{f}{b}" for f in "SL" for a, b in itertools.combinations(sides, 2)]
    found = ["raw S1024", *isnet]
    if set_name in PERSON_SETS:  # one size, or a pair with the largest
        found += ["selfie", *(f"selfie + {f}{s}" for f in "SL" for s in sides)]
        found += [f"selfie + {f}{s}+{f}{sides[-1]}" for f in "SL" for s in sides[:-1]]
        found += [f"filter + {f}{s}" for f in "SL" for s in sides]  # the person-only filter
        found += [f"filter + {f}{s}+{f}{sides[-1]}" for f in "SL" for s in sides[:-1]]
    return found


Row = tuple[float, float, float, float | None]  # IoU, boundary F, input MP, ms (if timed)


def run_set(set_name: str, args: argparse.Namespace, cache: RawCache, scorer: object) -> dict[str, list[Row]]:
    """Per variant, per photo in sorted order: its scores, input size and (every
    --time-every-th photo) its time."""
    scores_file = cache.root / "scores" / f"{set_name}.json"
    scores_file.parent.mkdir(parents=True, exist_ok=True)
    stored = {} if args.rescore or not scores_file.is_file() else json.loads(scores_file.read_text())
    names = variants(set_name, args.sides)
    rows: dict[str, list[Row]] = {v: [] for v in names}
    for i, (name, photo, truth) in enumerate(items(set_name, args.video_step)[: args.limit]):
        rgb = decode_image(photo).rgb
        maps = cache.load(set_name, name, rgb)
        times = cache.time(rgb, i // args.time_every) if i % args.time_every == 0 else None
        for variant in names:
            key = f"{name}|{variant}"
            if key not in stored:
                start = time.perf_counter()
                mask = variant_mask(variant, maps, rgb)
                post_ms = (time.perf_counter() - start) * 1000
                stored[key] = [*score(scorer, mask, truth), post_ms]
            iou, bf, post_ms = stored[key]
            mp = sum(cache.megapixels(k, rgb) for k in isnet_keys(variant) if k in cache.isnet)
            rows[variant].append(
                (iou, bf, mp, None if times is None else variant_ms(variant, times) + post_ms)
            )
        if i % 10 == 9:
            scores_file.write_text(json.dumps(stored))
            print(f"  {set_name}: {i + 1} photos", file=sys.stderr, flush=True)
    scores_file.write_text(json.dumps(stored))
    return rows


HALVES = {"tune": slice(0, None, 2), "confirm": slice(1, None, 2), "all": slice(None)}


def cells(scores: list[Row]) -> list[str]:
    """Mean IoU and boundary F of each half and of all photos."""
    found = []
    for part in (scores[s] for s in HALVES.values()):
        found += [f"{np.mean([r[0] for r in part]):.3f}", f"{np.mean([r[1] for r in part]):.3f}"]
    return found


def ms(scores: list[Row]) -> float:
    """Median ms over the timed photos."""
    return float(np.median([r[3] for r in scores if r[3] is not None]))


def print_set(set_name: str, rows: dict[str, list[Row]]) -> None:
    """One markdown table: both halves and all photos, IoU against the rembg baseline."""
    n = len(rows["raw S1024"])
    base = {h: np.mean([r[0] for r in rows["raw S1024"][s]]) for h, s in HALVES.items()}
    print(f"\n## {set_name} ({n} photos: tune {len(range(n)[::2])}, confirm {len(range(n)[1::2])})\n")
    print("| variant | tune IoU | tune bF | confirm IoU | confirm bF | all IoU | all bF "
          "| IoU / raw S1024: tune, confirm | input MP | ms/image |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for variant, scores in rows.items():
        ratio = [np.mean([r[0] for r in scores[HALVES[h]]]) / base[h] for h in ("tune", "confirm")]
        mp = np.mean([r[2] for r in scores])
        print(f"| {variant} | {' | '.join(cells(scores))} | {ratio[0]:.3f}, {ratio[1]:.3f} "
              f"| {mp:.2f} | {ms(scores):.0f} |", flush=True)  # fmt: skip


def level_variants() -> dict[str, tuple[str, str]]:
    """Level -> (old variant, the variant of today's LEVELS row)."""
    found = {}
    for (kind, quality), old in OLD.items():
        level = LEVELS[(kind, quality)]
        sizes = level.sizes if kind == "auto" else level.detail
        new = "+".join(f"S{s}" for s in sizes)
        fusion = "selfie" if level.fusion == "mean" else "filter"
        found[f"{kind} {quality}"] = (old, new if kind == "auto" else f"{fusion} + {new}")
    return found


def print_levels(results: dict[str, dict[str, list[Row]]]) -> None:
    """Old and new level rows side by side, on every set measured."""
    print("\n## levels: old and new (IoU / boundary F; ms/image)\n")
    print("| set | level | old | tune | confirm | all | ms | new | tune | confirm | all | ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for set_name, rows in results.items():
        for level, (old, new) in level_variants().items():
            if old not in rows or new not in rows:
                continue
            line = [set_name, level]
            for variant in (old, new):
                c = cells(rows[variant])
                line += [
                    variant,
                    f"{c[0]} / {c[1]}",
                    f"{c[2]} / {c[3]}",
                    f"{c[4]} / {c[5]}",
                    f"{ms(rows[variant]):.0f}",
                ]
            print(f"| {' | '.join(line)} |")


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))  # fmt: skip
    parser.add_argument("--sets", default="people,fullbody,objects,video")
    parser.add_argument("--sides", default=",".join(map(str, SIDES)), help="long sides to try")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/mattekit-isnet-sizes"))
    parser.add_argument("--limit", type=int, default=None, help="first N photos of each set")
    parser.add_argument("--video-step", type=int, default=10, help="every N-th video frame")
    parser.add_argument("--rescore", action="store_true", help="recompute cached scores")
    parser.add_argument("--time-every", type=int, default=5, help="time the models on every N-th photo")
    args = parser.parse_args(list(argv) if argv is not None else None)
    args.sides = tuple(int(s) for s in args.sides.split(","))
    scorer = load_scorer()
    cache = RawCache(args.cache, args.sides)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# IS-Net input sizes on ../shared/eval — {time.strftime('%Y-%m-%d')}, {machine()}, "
          f"load average {load:.1f} at start; raw maps cached in {args.cache}")  # fmt: skip
    results = {}
    for set_name in args.sets.split(","):
        results[set_name] = run_set(set_name, args, cache, scorer)
        print_set(set_name, results[set_name])
    print_levels(results)
    end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nload average {end:.1f} at the end")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
