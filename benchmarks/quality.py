"""Quality of every level on ../shared/eval, scored by ../shared/eval/score.py.

Usage:
    python benchmarks/quality.py [--sets people,objects,voc,video] [--levels person:fast,...]
                                 [--raw] [--limit N] [--video-step N]

For each (set, level) it writes the masks into a temporary folder, scores them with the
shared scorer (IoU at 0.5, MAE, boundary F at 3 px) and reports the median time per image.
`--raw` adds the raw models (output upscaled bilinearly, no refinement) as baselines.

The voc set gets two tables: class maps (mIoU and per-class IoU of DeepLab upscaled with
nearest neighbour, bilinearly, with guided upsampling, and with tiles), and the class levels
keeping each photo's own classes (IoU and MAE of the kept-class mask, void pixels ignored;
no boundary F, as VOC marks a 5-pixel void band along every object outline).
The video set is scored frame by frame like people/ (every --video-step-th frame of the
three DAVIS sequences: a swan, a dancer, a dog, so the "auto" levels); temporal stability is
the video command's benchmark, not this one's.
Prints markdown tables.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np
from _common import EVAL, load_scorer, machine
from PIL import Image

from mattekit import VOC_CLASSES, RemoveOptions, Remover
from mattekit.io.images import decode_image
from mattekit.segmenters import Segmenter
from mattekit.segmenters.deeplab import SemanticSegmenter
from mattekit.segmenters.isnet import ISNetSegmenter
from mattekit.segmenters.selfie import SelfieSegmenter

SETS = {"people": ["person:fast", "person:balanced", "person:accurate", "auto:balanced"],
        "objects": ["auto:fast", "auto:balanced", "auto:accurate"],
        "voc": ["classes:fast", "classes:balanced", "classes:accurate"],
        "video": ["auto:fast", "auto:balanced", "auto:accurate"]}  # fmt: skip
# Class-map variants: (tiles, upsampling). "nearest" is the issue's raw baseline.
VOC_MAPS = {"raw (nearest)": (False, "nearest"), "bilinear": (False, "bilinear"),
            "guided": (False, "guided"), "tiles + bilinear": (True, "bilinear"),
            "tiles + guided (balanced, accurate)": (True, "guided")}  # fmt: skip
RAW = {"people": ["raw:selfie", "raw:isnet-medium@1024"], "objects": ["raw:isnet-medium@1024"]}


def build(level: str) -> tuple[str, Callable[[np.ndarray], np.ndarray]]:
    """(name, mask function) of a level ("person:fast") or a raw model ("raw:selfie")."""
    kind, _, value = level.partition(":")
    if kind == "raw":
        segmenter: Segmenter
        if value == "selfie":
            segmenter = SelfieSegmenter(refine="bilinear")
        else:
            model, _, size = value.partition("@")
            segmenter = ISNetSegmenter(model, int(size), refine="bilinear")
        return segmenter.info.name, segmenter.segment
    remover = Remover(RemoveOptions(subject=kind, quality=value))
    return remover.info.name, lambda rgb: remover.segment(rgb).mask


def video_frames(step: int) -> list[tuple[str, Path, Path]]:
    """(name, frame, truth mask) for every `step`-th frame of each ../shared/eval/video sequence."""
    frames = []
    for sequence in sorted(p for p in (EVAL / "video").iterdir() if p.is_dir()):
        for frame in sorted((sequence / "frames").glob("*.jpg"))[::step]:
            frames.append((f"{sequence.name}-{frame.stem}", frame, sequence / "masks" / f"{frame.stem}.png"))
    return frames


def run(set_name: str, level: str, limit: int | None, scorer, video_step: int = 10) -> dict[str, float]:
    if set_name == "video":
        items = video_frames(video_step)[:limit]
    else:
        folder = "masks" if (EVAL / set_name / "masks").is_dir() else "reference_u2net"
        items = [(p.stem, p, EVAL / set_name / folder / f"{p.stem}.png")
                 for p in sorted((EVAL / set_name / "images").glob("*.jpg"))[:limit]]  # fmt: skip
    segmenter_name, segment = build(level)
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "masks").mkdir()
        (Path(tmp) / "pred").mkdir()
        for name, path, truth in items:  # score exactly the photos run (--limit, video frames)
            (Path(tmp) / "masks" / f"{name}.png").symlink_to(truth)
            rgb = decode_image(path).rgb
            start = time.perf_counter()
            mask = segment(rgb)
            times.append((time.perf_counter() - start) * 1000)
            Image.fromarray(np.round(mask * 255).astype(np.uint8)).save(Path(tmp) / "pred" / f"{name}.png")
        _rows, mean = scorer.score_binary(tmp, str(Path(tmp) / "pred"), 3)
    mean["ms"] = float(np.median(times))
    mean["name"] = segmenter_name
    return mean


def voc_class_maps(scorer, limit: int | None) -> None:
    """mIoU and per-class IoU of the class-map variants on ../shared/eval/voc."""
    images = sorted((EVAL / "voc" / "images").glob("*.jpg"))[:limit]
    rows = []
    for label, (tiles, upsampling) in VOC_MAPS.items():
        semantic = SemanticSegmenter(
            tiles=tiles, refine="bilinear" if upsampling == "nearest" else upsampling
        )
        times = []
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "labels").mkdir()
            for path in images:  # score only the photos run (--limit)
                name = f"{path.stem}.png"
                (Path(tmp) / "labels" / name).symlink_to(EVAL / "voc" / "labels" / name)
            for path in images:
                rgb = decode_image(path).rgb
                start = time.perf_counter()
                if upsampling == "nearest":
                    probs = semantic.probabilities(rgb)
                    classes = cv2.resize(probs.argmax(-1).astype(np.uint8), rgb.shape[1::-1],
                                         interpolation=cv2.INTER_NEAREST)  # fmt: skip
                else:
                    classes = semantic.class_map(rgb)
                times.append((time.perf_counter() - start) * 1000)
                Image.fromarray(classes).save(Path(tmp) / f"{path.stem}.png")
            _, mean = scorer.score_voc(tmp, tmp)
        rows.append((label, mean, float(np.median(times))))
    names = sorted({c for _, mean, _ in rows for c in mean["per_class"]}, key=VOC_CLASSES.index)
    print("| class map | mIoU | ms/image | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for label, mean, ms in rows:
        cells = " | ".join(f"{mean['per_class'].get(c, 0.0):.2f}" for c in names)
        print(f"| {label} | {mean['miou']:.3f} | {ms:.0f} | {cells} |", flush=True)
    print()


def run_voc_level(quality: str, limit: int | None) -> dict[str, float]:
    """IoU and MAE of a class level keeping each VOC photo's own classes (void ignored)."""
    images = sorted((EVAL / "voc" / "images").glob("*.jpg"))[:limit]
    ious, maes, times, name = [], [], [], ""
    for path in images:
        label = np.asarray(Image.open(EVAL / "voc" / "labels" / f"{path.stem}.png"))
        present = [VOC_CLASSES[c] for c in np.unique(label) if c not in (0, 255)]
        remover = Remover(RemoveOptions(subject=present, quality=quality))
        name = re.sub(r"\[.*?\]", "[kept]", remover.info.name)
        rgb = decode_image(path).rgb
        start = time.perf_counter()
        mask = remover.segment(rgb).mask
        times.append((time.perf_counter() - start) * 1000)
        valid = label != 255
        truth = np.isin(label, [VOC_CLASSES.index(c) for c in present])
        pred = mask >= 0.5
        ious.append(((truth & pred) & valid).sum() / ((truth | pred) & valid).sum())
        maes.append(float(np.abs(mask - truth)[valid].mean()))
    return {"iou": float(np.mean(ious)), "mae": float(np.mean(maes)), "boundary_f": float("nan"),
            "ms": float(np.median(times)), "name": name}  # fmt: skip


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="people,objects,voc,video")
    parser.add_argument("--video-step", type=int, default=10, help="score every N-th video frame")
    parser.add_argument("--levels", default=None, help="comma list like person:fast,auto:balanced")
    parser.add_argument("--raw", action="store_true", help="add raw-model baselines")
    parser.add_argument("--limit", type=int, default=None, help="first N images of each set")
    args = parser.parse_args(list(argv) if argv is not None else None)
    scorer = load_scorer()
    print(f"# quality on ../shared/eval — {machine()}\n")
    if "voc" in args.sets.split(","):
        voc_class_maps(scorer, args.limit)
    print("| set | level | segmenter | IoU | MAE | boundary F | ms/image (median) |")
    print("|---|---|---|---|---|---|---|")
    for set_name in args.sets.split(","):
        levels = args.levels.split(",") if args.levels else SETS[set_name]
        if args.raw:
            levels = RAW.get(set_name, []) + levels
        for level in levels:
            if set_name == "voc":
                m = run_voc_level(level.partition(":")[2], args.limit)
            else:
                m = run(set_name, level, args.limit, scorer, args.video_step)
            print(f"| {set_name} | {level} | {m['name']} | {m['iou']:.3f} | {m['mae']:.4f} | "
                  f"{'-' if math.isnan(m['boundary_f']) else format(m['boundary_f'], '.3f')} | {m['ms']:.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
