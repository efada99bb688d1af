"""The JSONL report of a batch run: one line per input, then a summary line.

Each item line is ``{"input", "output", "status", "error", "seconds", "worker"}`` with status
"ok", "skipped" (made by an earlier run from the same input and options) or "failed"; an
"ok" line also says whether the output is ``empty`` (nothing found in the photo). The
last line is ``{"summary": {...}}`` with the counts. Lines are written as they happen (one
``write`` each), so the report of a killed run holds everything it finished.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["STATUSES", "ItemResult", "Report", "Summary"]

STATUSES = ("ok", "skipped", "failed")


@dataclass(frozen=True)
class ItemResult:
    """What happened to one input.

    Attributes:
        index: the job's index in the plan.
        status: "ok", "skipped" or "failed".
        error: the one-line reason, for "failed".
        seconds: time spent on it by a worker (0 when skipped).
        worker: which worker made it ("pid 123", "node 1a2b3c4d pid 123"), when one did.
        fatal: the error stops the whole run (a model that cannot load or run).
        empty: made, but nothing was found (a transparent cutout, an all-black mask).
    """

    index: int
    status: str
    error: str | None = None
    seconds: float = 0.0
    worker: str | None = None
    fatal: bool = False
    empty: bool = False


@dataclass
class Summary:
    """The counts of a run.

    Attributes:
        ok, skipped, failed: inputs by status.
        empty: of the "ok" ones, outputs in which nothing was found.
        seconds: wall time of the run.
        engine, workers, threads: how it ran.
        interrupted: the run was stopped (Ctrl-C) before every input was done.
    """

    ok: int = 0
    skipped: int = 0
    failed: int = 0
    empty: int = 0
    seconds: float = 0.0
    engine: str = "local"
    workers: int = 0
    threads: int = 0
    interrupted: bool = False
    report: str = ""

    @property
    def total(self) -> int:
        """Inputs seen."""
        return self.ok + self.skipped + self.failed

    def line(self) -> str:
        """The summary line for stderr."""
        rate = f", {self.ok / self.seconds:.2f} photos/s" if self.ok and self.seconds > 0 else ""
        how = f"{self.engine}, {_count(self.workers, 'worker')} x {_count(self.threads, 'thread')}"
        head = "interrupted: " if self.interrupted else ""
        empty = f" ({self.empty} with nothing found)" if self.empty else ""
        return (
            f"{head}{self.ok} done{empty}, {self.skipped} skipped, {self.failed} failed of {self.total} "
            f"in {self.seconds:.1f} s{rate} ({how}); report: {self.report}"
        )


class Report:
    """A report file, written line by line (truncated when opened).

    Args:
        path: where it goes; its folder must exist.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o666)

    def item(self, source: str, output: str, result: ItemResult) -> None:
        """Write one input's line."""
        entry = {
            "input": source,
            "output": output,
            "status": result.status,
            "error": result.error,
            "seconds": round(result.seconds, 4),
            "worker": result.worker,
        }
        if result.status == "ok":
            entry["empty"] = result.empty
        self._write(entry)

    def summary(self, summary: Summary) -> None:
        """Write the closing line and close the file."""
        self._write({"summary": asdict(summary)})
        os.close(self._fd)

    def _write(self, entry: dict[str, Any]) -> None:
        os.write(self._fd, (json.dumps(entry, separators=(",", ":")) + "\n").encode())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
