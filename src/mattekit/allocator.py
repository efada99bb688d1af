"""Keep freed frame-sized buffers in the process instead of handing them back to the kernel.

Every image or frame allocates a few arrays of 1-32 MB (decoded pixels, float masks, the RGBA
result) and frees them again. glibc's malloc serves blocks that large with fresh `mmap`s and
gives heap memory back once a few MB lie free, so each frame page-faults its buffers in again:
about 5,000 faults and a third of person `fast`'s time at 1080p on the machines we measured
(benchmarks/images.py). Fixing the mmap threshold at its ceiling (32 MB) and keeping up to
64 MB of freed heap makes those buffers reusable; peak RSS did not grow.

IS-Net is the other way round: its activations (hundreds of MB) dwarf a frame's buffers, so
`release_freed_buffers` hands the kept memory back before each run (malloc_trim): 24 MP at
`accurate` peaked at 793 MB with it, 991 MB with glibc's defaults and 1031 MB without it.

This changes two settings of the whole process, once, when the first Remover is built; it does
nothing outside glibc, and ``MATTEKIT_MALLOC=default`` in the environment leaves malloc alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import threading

__all__ = ["ENV_VAR", "keep_freed_buffers", "release_freed_buffers"]

ENV_VAR = "MATTEKIT_MALLOC"
"""Set to "default" to leave the C allocator's settings as they are."""

# mallopt parameters (malloc.h) and their values here.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's ceiling on 64-bit systems
_TRIM_THRESHOLD = 64 * 1024 * 1024

_lock = threading.Lock()
_done: bool | None = None
_libc: ctypes.CDLL | None = None


def keep_freed_buffers() -> bool:
    """Tune glibc's malloc for frame-sized buffers, once per process.

    Returns:
        True when the settings are in place (now or from an earlier call); False on other C
        libraries, when mallopt refuses, or when ``MATTEKIT_MALLOC=default`` is set.
    """
    global _done
    with _lock:
        if _done is None:
            _done = _apply()
        return _done


def release_freed_buffers() -> None:
    """Hand the freed memory kept by `keep_freed_buffers` back to the kernel (malloc_trim).

    Worth it before a model whose own buffers dwarf a frame's (IS-Net holds several hundred
    MB of activations for seconds): the kept buffers would only add to that peak.
    """
    if _libc is not None:
        _libc.malloc_trim(0)


def _apply() -> bool:
    global _libc
    if os.environ.get(ENV_VAR, "").strip().lower() == "default":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = ((_M_MMAP_THRESHOLD, _MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    if not all(mallopt(param, value) == 1 for param, value in settings):
        return False
    _libc = libc
    return True
