"""The resume manifest: which outputs were made, from which input, with which options.

``OUT_DIR/.mattekit-batch.jsonl`` holds one JSON line per finished output, appended with a
single ``write`` and synced to disk before the item counts as done, so a run killed at any
moment loses at most the items in flight. An output is skipped on the next run when it
exists and its latest line names the same input (size and mtime, or its SHA-256 with
``checksum``) and the same options fingerprint. A line cut short by a kill is ignored.

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> manifest = Manifest(out)
    >>> stamp = InputStamp(size=10, mtime_ns=1)
    >>> manifest.record("a.cutout.png", "a.jpg", stamp, "opts", 0.5)
    >>> Manifest(out).made("a.cutout.png", "a.jpg", stamp, "opts")
    True
    >>> Manifest(out).made("a.cutout.png", "a.jpg", stamp, "other options")
    False
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LOCK_NAME", "MANIFEST_NAME", "InputStamp", "Manifest", "remove_litter"]

MANIFEST_NAME = ".mattekit-batch.jsonl"
LOCK_NAME = ".mattekit-batch.lock"

_CHUNK = 1 << 20


@dataclass(frozen=True)
class InputStamp:
    """What identifies an input's content: size and modification time, and optionally a hash.

    Attributes:
        size: bytes.
        mtime_ns: modification time in nanoseconds.
        sha256: hex digest of the content, when asked for (then size and hash decide and the
            time is ignored, for copies that did not keep it).
    """

    size: int
    mtime_ns: int
    sha256: str | None = None

    @classmethod
    def of(cls, path: Path, *, checksum: bool = False) -> InputStamp:
        """Stamp a file.

        Raises:
            OSError: it cannot be read.
        """
        info = path.stat()
        digest = None
        if checksum:
            hasher = hashlib.sha256()
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    hasher.update(chunk)
            digest = hasher.hexdigest()
        return cls(info.st_size, info.st_mtime_ns, digest)

    def same_as(self, record: dict[str, Any]) -> bool:
        """Whether a manifest record was made from this content."""
        if record.get("size") != self.size:
            return False
        if self.sha256 is not None:
            return bool(record.get("sha256") == self.sha256)
        return bool(record.get("mtime_ns") == self.mtime_ns)


class Manifest:
    """The manifest of one output folder: read once, then appended to.

    Only one process may append at a time; the runner holds ``LOCK_NAME`` for that.

    Args:
        out_dir: the output folder (must exist).
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / MANIFEST_NAME
        self._latest: dict[str, dict[str, Any]] = {}
        self._fd: int | None = None
        self._read()

    def made(self, output: str, name: str, stamp: InputStamp, options: str) -> bool:
        """Whether the latest record of `output` says it was made from this input and options.

        Whether the file itself is still there is the caller's to check.
        """
        record = self._latest.get(output)
        return (
            record is not None
            and record.get("input") == name
            and record.get("options") == options
            and stamp.same_as(record)
        )

    def record(self, output: str, name: str, stamp: InputStamp, options: str, seconds: float) -> None:
        """Append one finished output and sync it to disk."""
        entry: dict[str, Any] = {
            "output": output,
            "input": name,
            "size": stamp.size,
            "mtime_ns": stamp.mtime_ns,
            "options": options,
            "seconds": round(seconds, 4),
        }
        if stamp.sha256 is not None:
            entry["sha256"] = stamp.sha256
        line = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        fd = self._open()
        os.write(fd, line)
        os.fsync(fd)
        self._latest[output] = entry

    def close(self) -> None:
        """Close the file (appending opens it again)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _open(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            size = os.fstat(self._fd).st_size
            if size and not _ends_with_newline(self.path, size):
                os.write(self._fd, b"\n")  # after a line cut short by a kill
        return self._fd

    def _read(self) -> None:
        try:
            text = self.path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # cut short by a kill: that item is simply done again
            if isinstance(entry, dict) and isinstance(entry.get("output"), str):
                self._latest[entry["output"]] = entry


def _ends_with_newline(path: Path, size: int) -> bool:
    with path.open("rb") as handle:
        handle.seek(size - 1)
        return handle.read(1) == b"\n"


def remove_litter(targets: list[Path]) -> int:
    """Delete the temporary files an interrupted atomic write of these outputs left behind.

    `mattekit.io.atomic` writes ``.NAME.<8 hex>.part`` beside ``NAME``; only those of the
    given outputs are touched. Returns how many were deleted.
    """
    by_folder: dict[Path, set[str]] = {}
    for target in targets:
        by_folder.setdefault(target.parent, set()).add(target.name)
    removed = 0
    for folder, names in by_folder.items():
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            found = _PART.match(entry)
            if found and found.group(1) in names:
                (folder / entry).unlink(missing_ok=True)
                removed += 1
    return removed


_PART = re.compile(r"^\.(.+)\.[0-9a-f]{8}\.part$")
