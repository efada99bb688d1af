"""End-to-end speed and memory per quality level, on generated 1080p / 12 MP / 24 MP photos.

Usage:
    python benchmarks/images.py [--levels person:fast,auto:accurate,...] [--sizes 1080p,12mp]
                                [--repeat 5] [--rss-24mp]

End to end = decode a JPEG from disk -> segment -> compose a transparent cutout -> encode
PNG -> write atomically, exactly what `mattekit remove` does per file. "model" is the
model's own inference time (`predict`) on the same photo. Each (level, size) runs in a
fresh process so its peak RSS is its own. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from _common import ROOT, machine, median_ms

SIZES = {"1080p": (1920, 1080), "12mp": (4000, 3000), "24mp": (6000, 4000)}
LEVELS = ["person:fast", "person:balanced", "person:accurate", "auto:fast", "auto:balanced", "auto:accurate"]


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
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"end_to_end_ms": end_to_end, "model_ms": model, "peak_rss_mb": rss_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default=",".join(LEVELS))
    parser.add_argument("--sizes", default="1080p,12mp")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rss-24mp", action="store_true", help="also the 24 MP accurate run")
    parser.add_argument("--one", nargs=2, metavar=("LEVEL", "PHOTO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one[0], Path(args.one[1]), args.repeat)))
        return
    runs = [(lv, sz) for sz in args.sizes.split(",") for lv in args.levels.split(",")]
    if args.rss_24mp:
        runs.append(("person:accurate", "24mp"))
    print(f"# end to end, JPEG -> PNG cutout — {machine()}, {time.strftime('%Y-%m-%d')}\n")
    print("| level | photo | end to end ms (median) | model ms | peak RSS MB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        photos = {sz: make_photo(sz, Path(tmp)) for sz in {sz for _, sz in runs}}
        for level, size in runs:
            repeat = args.repeat if size == "1080p" or level.endswith("fast") else max(1, args.repeat // 2)
            out = subprocess.run(
                [sys.executable, __file__, "--one", level, str(photos[size]), "--repeat", str(repeat)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if out.returncode != 0:
                print(f"| {level} | {size} | failed: {out.stderr.strip().splitlines()[-1:]} | | |")
                continue
            m = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {level} | {size} | {m['end_to_end_ms']:.0f} | {m['model_ms']:.0f} | "
                  f"{m['peak_rss_mb']:.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
