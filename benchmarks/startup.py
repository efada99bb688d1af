"""Whole-process time of one photo on the command line, and import time, next to rembg's.

Usage:
    python benchmarks/startup.py [--repeat 5] [--levels person:fast,auto:balanced]

Most command-line users run one process per photo, so start-up counts: interpreter, imports,
loading the model, then the photo. Each run is a fresh process: `mattekit remove PHOTO -s
SUBJECT -Q QUALITY -o OUT` against `rembg i -m dis_custom -x '{"model_path": ...}' PHOTO OUT`
(rembg 2.0.86 in its own venv, given mattekit's isnet-medium file, as benchmarks/vs_rembg.py
sets it up), alternating, on the bundled photo enlarged to 1080p. Import time is `python -c
"import mattekit.cli"` against `python -c "import rembg"` (each also a fresh process). Prints
markdown with medians and the ratio rembg / mattekit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine
from images import make_photo
from vs_rembg import REMBG_HOME, REMBG_SESSION, REMBG_VERSION, ensure_rembg_venv, isnet_model


def wall(command: list[str], env: dict[str, str]) -> float:
    """Seconds one process takes, start to exit; fails loudly if it fails."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--levels", default="person:fast,auto:balanced")
    args = parser.parse_args()
    rembg_python = ensure_rembg_venv()
    rembg_cli = str(Path(rembg_python).with_name("rembg"))
    model = str(isnet_model())
    env = {**os.environ, "U2NET_HOME": str(REMBG_HOME), "MATTEKIT_OFFLINE": "1"}
    mattekit_cli = str(Path(sys.executable).with_name("mattekit"))
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        photo = make_photo("1080p", Path(tmp))
        jobs = {
            "import mattekit.cli": [sys.executable, "-c", "import mattekit.cli"],
            f"import rembg {REMBG_VERSION}": [rembg_python, "-c", "import rembg"],
            f"rembg i ({REMBG_SESSION}, isnet-medium)": [
                rembg_cli, "i", "-m", REMBG_SESSION, "-x", json.dumps({"model_path": model}),
                str(photo), f"{tmp}/rembg.png",
            ],
        }  # fmt: skip
        for level in args.levels.split(","):
            subject, _, quality = level.partition(":")
            jobs[f"mattekit remove -s {subject} -Q {quality}"] = [
                mattekit_cli, "remove", str(photo), "-s", subject, "-Q", quality, "-o", f"{tmp}/m.png"
            ]  # fmt: skip
        for command in jobs.values():  # warm the file cache once
            wall(command, env)
        for _ in range(args.repeat):
            for name, command in jobs.items():
                rows.setdefault(name, []).append(wall(command, env))
    print(f"# whole process, one 1080p photo — {machine()}, {time.strftime('%Y-%m-%d')}\n")
    print(f"Medians of {args.repeat} fresh processes each, alternating.\n")
    print("| command | seconds (median) |")
    print("|---|---|")
    for name, times in rows.items():
        print(f"| {name} | {statistics.median(times):.2f} |")
    rembg = statistics.median(rows[f"rembg i ({REMBG_SESSION}, isnet-medium)"])
    print()
    for name, times in rows.items():
        if name.startswith("mattekit remove"):
            print(f"- {name}: rembg i takes {rembg / statistics.median(times):.2f}x as long")
    imports = statistics.median(rows[f"import rembg {REMBG_VERSION}"]) / statistics.median(
        rows["import mattekit.cli"]
    )
    print(f"- import: rembg takes {imports:.2f}x as long as mattekit.cli")


if __name__ == "__main__":
    main()
