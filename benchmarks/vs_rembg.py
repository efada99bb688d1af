"""Side by side with rembg: same ISNet file, same photos, same threads, runs alternating.

Usage:
    python benchmarks/vs_rembg.py [--levels auto:fast,auto:balanced,auto:accurate,person:balanced]
                                  [--limit 10] [--large 3] [--sizes 1080p,12mp] [--repeat 1]
                                  [--threads N] [--no-profile]

About 6 minutes with the defaults on an idle 2-core AVX2 machine (rembg ~5 s a photo).

rembg is not a dependency of mattekit: it is installed (pinned, CPU extra) into its own
virtual environment, .cache/bench-rembg-venv, the first time this runs. Its model downloads
are not used: its custom IS-Net session ("dis_custom": resize to 1024x1024 with LANCZOS,
scale by the image's max, mean 0.5, std 1.0, as IS-Net expects) is given mattekit's
isnet-medium ONNX file, linked into the rembg home inside that venv because rembg accepts
model paths only under its home.

Each side runs in a worker process that loads its models once, warms up on one photo, then
takes photo paths on stdin one at a time, so the runs alternate image by image (rembg,
mattekit levels; the next image in reverse order) on the same photos. End to end = read the
file's bytes -> decode -> segment -> compose the transparent cutout -> PNG bytes:
`rembg.remove(data, session=...)` on one side, `mattekit.api.process_file(data, buffer,
segmenter)` (its defaults, foreground estimation included) on the other. Both get the same
intra-op thread count (`--threads`, default: the CPUs this process may use).

Photos: the first --limit photos of ../shared/eval/people, and the --large largest of them
enlarged (aspect kept, LANCZOS, JPEG q90) to about 1080p and 12 MP. IoU and boundary F are
scored by ../shared/eval/score.py from each side's PNG cutout (its alpha) against the truth;
for the enlarged photos the cutout is scaled back down to the truth's size by the scorer.
Ten photos are a small sample for quality (one photo rembg gets badly wrong moves its mean IoU
by 0.02); judge IoU with --limit 51 (the whole set) before drawing conclusions from it.

The workers also time their stages (decode, resize, normalisation, inference, upsampling,
foreground, encode, ...) by wrapping the library functions that do them; the tables after
the main one give each stage's mean time per photo, exclusive of the stages inside it.
Prints markdown; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REMBG_VERSION = "2.0.86"
REMBG_SESSION = "dis_custom"
ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".cache" / "bench-rembg-venv"
REMBG_HOME = VENV / "rembg-home"
SIZES = {"1080p": 1920 * 1080, "12mp": 4000 * 3000}
LEVELS = "auto:fast,auto:balanced,auto:accurate,person:balanced"


# --------------------------------------------------------------------------- stage timers
# Runs in both workers (two virtual environments), so stdlib only.


class StageTimer:
    """Exclusive wall time per call path of wrapped functions ("segment/isnet/@768/inference")."""

    def __init__(self) -> None:
        self.stack: list[list[Any]] = []
        self.totals: dict[str, float] = {}

    def wrap(self, owner: object, attr: str, label: str | Callable[..., str]) -> None:
        """Replace owner.attr (a plain function or method) by a timed version; skip if absent."""
        fn = getattr(owner, attr, None)
        if fn is None or isinstance(vars(owner).get(attr), (staticmethod, classmethod)):
            return
        timer = self

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            name = label(*args) if callable(label) else label
            timer.stack.append([name, 0.0])
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                key = "/".join(frame[0] for frame in timer.stack)
                _, inner = timer.stack.pop()
                timer.totals[key] = timer.totals.get(key, 0.0) + (elapsed - inner) * 1000
                if timer.stack:
                    timer.stack[-1][1] += elapsed

        setattr(owner, attr, timed)

    def take(self) -> dict[str, float]:
        """The totals since the last take, then reset."""
        out, self.totals = self.totals, {}
        return out


# --------------------------------------------------------------------------- workers


def _rembg_worker(args: argparse.Namespace, timer: StageTimer) -> Callable[[bytes, str], bytes]:
    import onnxruntime as ort
    import PIL.Image
    import PIL.ImageFile
    import rembg
    import rembg.bg
    from rembg.sessions.base import BaseSession
    from rembg.sessions.dis_custom import DisCustomSession

    options = ort.SessionOptions()  # rembg's defaults, but the thread count pinned
    options.intra_op_num_threads = args.threads
    session = rembg.new_session(REMBG_SESSION, model_path=args.model, sess_opts=options)

    timer.wrap(PIL.Image, "open", "open header")
    timer.wrap(PIL.ImageFile.ImageFile, "load", "decode")
    timer.wrap(rembg.bg, "fix_image_orientation", "exif")
    timer.wrap(DisCustomSession, "predict", "predict")
    timer.wrap(BaseSession, "normalize", "normalise")
    timer.wrap(PIL.Image.Image, "convert", "convert")
    timer.wrap(PIL.Image.Image, "resize", "resize (LANCZOS)")
    timer.wrap(ort.InferenceSession, "run", "inference")
    timer.wrap(rembg.bg, "naive_cutout", "cutout")
    timer.wrap(PIL.Image.Image, "save", "encode PNG")

    def process(data: bytes, level: str) -> bytes:
        out = rembg.remove(data, session=session)
        if not isinstance(out, bytes):
            raise TypeError(f"rembg.remove returned {type(out).__name__}, expected bytes")
        return out

    return process


def _mattekit_worker(args: argparse.Namespace, timer: StageTimer) -> Callable[[bytes, str], bytes]:
    import onnxruntime as ort

    from mattekit import RemoveOptions, Remover, remover
    from mattekit.io import images as imageio
    from mattekit.segmenters import base, fusion, isnet, selfie
    from mattekit.stages import compose

    removers = {}
    for level in args.levels.split(","):
        kind, _, quality = level.partition(":")
        removers[level] = Remover(RemoveOptions(subject=kind, quality=quality))

    timer.wrap(remover, "decode_image", "decode")
    timer.wrap(remover.Remover, "_segment_decoded", "segment")
    timer.wrap(remover.Remover, "_compose", "render")
    timer.wrap(imageio, "encode_image", "encode PNG")
    timer.wrap(compose, "estimate_foreground", "foreground")
    timer.wrap(compose, "cutout", "cutout")
    timer.wrap(isnet.ISNetSegmenter, "predict", "isnet")
    timer.wrap(isnet.ISNetSegmenter, "_predict_at", lambda *a: f"@{a[2]}" if len(a) > 2 else "@size")
    timer.wrap(selfie.SelfieSegmenter, "predict", "selfie")
    timer.wrap(base, "resize_for_model", "resize")
    for module in (isnet, selfie, fusion):
        timer.wrap(module, "upsample_mask", "upsample (guided)")
    timer.wrap(ort.InferenceSession, "run", "inference")

    def process(data: bytes, level: str) -> bytes:
        buffer = io.BytesIO()
        removers[level].process_file(data, buffer)
        return buffer.getvalue()

    return process


def worker(args: argparse.Namespace) -> None:
    """Serve JSON requests {"image", "level", "out"} on stdin, one JSON reply line each."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever the libraries print goes to stderr, not into the protocol
    timer = StageTimer()
    start = time.perf_counter()
    make = _rembg_worker if args.worker == "rembg" else _mattekit_worker
    process = make(args, timer)
    levels = ["rembg"] if args.worker == "rembg" else args.levels.split(",")
    load_ms = (time.perf_counter() - start) * 1000
    for level in levels:  # the first run of a session allocates; keep it out of the times
        process(Path(args.warmup).read_bytes(), level)
    timer.take()
    proto.write(json.dumps({"ready": True, "load_ms": load_ms}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        start = time.perf_counter()
        data = Path(request["image"]).read_bytes()
        encoded = process(data, request["level"])
        ms = (time.perf_counter() - start) * 1000
        stages = timer.take()
        Path(request["out"]).write_bytes(encoded)
        proto.write(json.dumps({"ms": ms, "stages": stages}) + "\n")


class Worker:
    """A worker process and its line protocol."""

    def __init__(self, python: str, side: str, args: argparse.Namespace, env: dict[str, str]) -> None:
        command = [python, str(Path(__file__).resolve()), "--worker", side, "--levels", args.levels,
                   "--threads", str(args.threads), "--model", args.model, "--warmup", args.warmup]  # fmt: skip
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env, cwd=ROOT)  # fmt: skip
        self.side = side
        self.load_ms = float(self._read()["load_ms"])

    def _read(self) -> dict[str, Any]:
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise RuntimeError(f"the {self.side} worker exited (code {self.proc.wait()}); see stderr")
        return json.loads(line)  # type: ignore[no-any-return]

    def run(self, image: Path, level: str, out: Path) -> dict[str, Any]:
        request = {"image": str(image), "level": level, "out": str(out)}
        self.proc.stdin.write(json.dumps(request) + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        return self._read()

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=60)


# --------------------------------------------------------------------------- setup


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_rembg_venv() -> str:
    """Create .cache/bench-rembg-venv with the pinned rembg if it is missing; its python."""
    python = venv_python()
    # rembg's command line (its "cli" extra) too: benchmarks/startup.py runs `rembg i`.
    check = [str(python), "-c", "import importlib.metadata as m, click; print(m.version('rembg'))"]
    if python.exists():
        found = subprocess.run(check, capture_output=True, text=True, check=False).stdout.strip()
        if found == REMBG_VERSION:
            return str(python)
    print(f"installing rembg {REMBG_VERSION} into {VENV} ...", file=sys.stderr, flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"rembg[cpu,cli]=={REMBG_VERSION}"],
                   check=True)  # fmt: skip
    return str(python)


def isnet_model() -> Path:
    """mattekit's isnet-medium file, linked into the rembg home (rembg refuses paths outside it)."""
    from mattekit.models import ensure_model

    source = Path(ensure_model("isnet-medium")).resolve()
    REMBG_HOME.mkdir(parents=True, exist_ok=True)
    link = REMBG_HOME / source.name
    if not (link.is_symlink() and link.resolve() == source):
        link.unlink(missing_ok=True)
        link.symlink_to(source)
    return link


def enlarge(image: Path, pixels: int, folder: Path) -> Path:
    """The photo scaled (aspect kept, LANCZOS) to about `pixels` pixels, as JPEG q90."""
    from PIL import Image

    with Image.open(image) as im:
        rgb = im.convert("RGB")
    scale = (pixels / (rgb.width * rgb.height)) ** 0.5
    big = rgb.resize((round(rgb.width * scale), round(rgb.height * scale)), Image.LANCZOS)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / image.name
    big.save(path, quality=90)
    return path


# --------------------------------------------------------------------------- main


def score(scorer: Any, set_dir: Path, pred_dir: Path, stems: set[str]) -> dict[str, dict[str, float]]:
    rows, _ = scorer.score_binary(str(set_dir), str(pred_dir), 3)
    return {r["image"]: r for r in rows if r["image"] in stems}


def profile_table(title: str, runs: list[dict[str, Any]]) -> list[str]:
    """Mean exclusive ms per stage over the runs, largest first, with "other" the remainder."""
    keys = sorted({k for run in runs for k in run["stages"]})
    n = len(runs)
    total = sum(run["ms"] for run in runs) / n
    means = {k: sum(run["stages"].get(k, 0.0) for run in runs) / n for k in keys}
    means["(other: Python glue, file read, untimed code)"] = total - sum(means.values())
    lines = [f"\n{title}: {n} photos, mean {total:.0f} ms end to end\n",
             "| stage (call path) | mean ms | share |", "|---|---|---|"]  # fmt: skip
    for key, ms in sorted(means.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {key} | {ms:.1f} | {100 * ms / total:.0f}% |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default=LEVELS, help=f"mattekit levels (default {LEVELS})")
    parser.add_argument("--limit", type=int, default=10, help="first N people photos (default 10)")
    parser.add_argument("--large", type=int, default=3, help="enlarge the N largest of them (default 3)")
    parser.add_argument("--sizes", default="1080p,12mp", help="enlarged sizes: 1080p, 12mp")
    parser.add_argument("--repeat", type=int, default=1, help="runs per photo and side (median)")
    parser.add_argument(
        "--threads",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="intra-op threads for both sides (default: the CPUs this process may use)",
    )
    parser.add_argument("--no-profile", action="store_true", help="leave out the stage tables")
    parser.add_argument("--worker", choices=["rembg", "mattekit"], help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    sys.path.insert(0, str(Path(__file__).parent))
    from _common import EVAL, load_scorer, machine

    rembg_python = ensure_rembg_venv()
    args.model = str(isnet_model())
    levels = args.levels.split(",")
    people = EVAL / "people"
    photos = sorted((people / "images").glob("*.jpg"))[: args.limit]
    if not photos:
        raise SystemExit(f"no photos in {people / 'images'}")
    args.warmup = str(photos[0])

    from PIL import Image

    def pixels(p: Path) -> int:
        with Image.open(p) as im:
            return im.width * im.height

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        kinds: dict[str, list[Path]] = {"original": photos}
        largest = sorted(photos, key=pixels, reverse=True)[: args.large]
        for size in args.sizes.split(",") if args.large else []:
            kinds[size] = [enlarge(p, SIZES[size], tmp / "in" / size) for p in sorted(largest)]

        env = dict(os.environ, MATTEKIT_THREADS=str(args.threads))
        rembg_env = dict(env, REMBG_HOME=str(REMBG_HOME))
        print("starting workers ...", file=sys.stderr, flush=True)
        workers = {"rembg": Worker(rembg_python, "rembg", args, rembg_env),
                   "mattekit": Worker(sys.executable, "mattekit", args, env)}  # fmt: skip
        sides = ["rembg", *levels]
        results: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        step = 0
        for kind, images in kinds.items():
            for image in images:
                for _ in range(args.repeat):
                    order = sides if step % 2 == 0 else sides[::-1]
                    step += 1
                    for side in order:
                        out_dir = tmp / "out" / kind / side.replace(":", "-")
                        out_dir.mkdir(parents=True, exist_ok=True)
                        w = workers["rembg" if side == "rembg" else "mattekit"]
                        reply = w.run(image, side, out_dir / f"{image.stem}.png")
                        results.setdefault((kind, side, image.stem), []).append(reply)
                        print(
                            f"{kind} {image.stem} {side}: {reply['ms']:.0f} ms", file=sys.stderr, flush=True
                        )
        load_ms = {side: w.load_ms for side, w in workers.items()}
        for w in workers.values():
            w.close()

        scorer = load_scorer()
        quality = {(kind, side): score(scorer, people, tmp / "out" / kind / side.replace(":", "-"),
                                       {p.stem for p in images})
                   for kind, images in kinds.items() for side in sides}  # fmt: skip

    def ms(kind: str, side: str, stem: str) -> float:
        return statistics.median(r["ms"] for r in results[(kind, side, stem)])

    print(f"# rembg {REMBG_VERSION} vs mattekit, JPEG file -> PNG cutout bytes — {machine()}, "
          f"{time.strftime('%Y-%m-%d')}\n")  # fmt: skip
    print(f"rembg: `new_session('{REMBG_SESSION}', model_path=isnet-medium.onnx)` (1024 px, mean 0.5, "
          f"std 1.0) and `remove(bytes)`; mattekit: `process_file` with its defaults. Both "
          f"{args.threads} intra-op threads; load average {load_before[0]:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after. Model load + import: "
          + ", ".join(f"{s} {v / 1000:.1f} s" for s, v in load_ms.items())
          + f". {args.repeat} run(s) per photo and side, alternating.\n")  # fmt: skip
    print("| photos | n | side | median ms | rembg / side (median of per-photo ratios) | IoU | "
          "boundary F | >= 2x at IoU >= rembg's |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for kind, images in kinds.items():
        rembg_iou = statistics.mean(r["iou"] for r in quality[(kind, "rembg")].values())
        for side in sides:
            times = [ms(kind, side, p.stem) for p in images]
            ratio = statistics.median(ms(kind, "rembg", p.stem) / ms(kind, side, p.stem) for p in images)
            q = quality[(kind, side)]
            iou = statistics.mean(r["iou"] for r in q.values())
            bf = statistics.mean(r["boundary_f"] for r in q.values())
            name, ratio_cell, goal_cell = "rembg", "1", ""
            if side != "rembg":
                name, ratio_cell = f"mattekit {side}", f"{ratio:.2f}x"
                goal_cell = "yes" if ratio >= 2 and round(iou, 3) >= round(rembg_iou, 3) else "no"
            print(f"| {kind} | {len(images)} | {name} | {statistics.median(times):.0f} | {ratio_cell} | "
                  f"{iou:.3f} | {bf:.3f} | {goal_cell} |")  # fmt: skip

    print(
        "\nIoU and boundary F: means over each row's n photos against the people set's truth (51 "
        "photos in all); run --limit 51 to score the whole set."
    )
    print("\nPer photo (ms, and the ratio rembg / mattekit level):\n")
    print("| photos | photo | rembg ms | " + " | ".join(f"{lv} ms | ratio" for lv in levels) + " |")
    print("|---|---|---|" + "---|---|" * len(levels))
    for kind, images in kinds.items():
        for p in images:
            base = ms(kind, "rembg", p.stem)
            cells = " | ".join(
                f"{ms(kind, lv, p.stem):.0f} | {base / ms(kind, lv, p.stem):.2f}x" for lv in levels
            )
            print(f"| {kind} | {p.stem} | {base:.0f} | {cells} |")

    if not args.no_profile:
        print("\n## Where the time goes (exclusive ms per call path)")
        for kind in kinds:
            for side in sides:
                runs = [r for (k, s, _), rs in results.items() if k == kind and s == side for r in rs]
                name = "rembg" if side == "rembg" else f"mattekit {side}"
                print("\n".join(profile_table(f"### {kind}, {name}", runs)))


if __name__ == "__main__":
    main()
