"""The malloc tuning: a repeated 1080p cutout reuses its buffers instead of page-faulting them in."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only"
)

# Warm up, then count the minor page faults of three more cutouts of the same photo.
CHILD = """
import json, resource, sys
import numpy as np
from mattekit import allocator, Remover, RemoveOptions
rng = np.random.default_rng(0)
image = np.ascontiguousarray(np.repeat(np.repeat(rng.integers(0, 256, (270, 480, 3), np.uint8), 4, 0), 4, 1))
image[200:900, 700:1200] = (200, 150, 120)
remover = Remover(RemoveOptions(subject="person", quality="fast"))
for _ in range(3):
    remover.process(image)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    remover.process(image)
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 3
print(json.dumps({"tuned": allocator.keep_freed_buffers(), "faults": faults}))
"""


def _run(env_value: str | None) -> dict[str, float]:
    env = dict(os.environ)
    env.pop("MATTEKIT_MALLOC", None)
    if env_value is not None:
        env["MATTEKIT_MALLOC"] = env_value
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_tuned_process_reuses_frame_buffers() -> None:
    tuned, default = _run(None), _run("default")
    assert tuned["tuned"] is True and default["tuned"] is False
    # 1080p RGB, float masks and the RGBA result: thousands of 4 KiB pages per image untuned.
    assert default["faults"] > 2000, default
    assert tuned["faults"] < default["faults"] / 4, (tuned, default)
