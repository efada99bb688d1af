"""What a batch worker does, whatever engine runs it: build one Remover, then process files.

`Task` travels to every worker (it pickles: the options are the strings the one parser
reads), builds the worker's Remover once, and `process_one` turns one job into an
`ItemResult`, writing the output atomically (`Remover.process_file`). A bad input is a failed
item; a model that cannot load or run is fatal, as in the single-file commands.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mattekit.batch.report import ItemResult
from mattekit.errors import MattekitError, ModelError
from mattekit.options import RemoveOptions
from mattekit.remover import Remover
from mattekit.stages.backgrounds import Picture

__all__ = ["Task", "process_one", "set_threads"]

OptionValue = str | tuple[str, ...]


@dataclass(frozen=True)
class Task:
    """The work every item gets: the options, as the one string parser reads them.

    Attributes:
        options: option name -> text (or texts, for keep / drop), as for
            `RemoveOptions.from_strings`; "output" says what to make.
    """

    options: tuple[tuple[str, OptionValue], ...]

    @classmethod
    def from_strings(cls, values: Mapping[str, str | Sequence[str] | None]) -> Task:
        """A task from option texts; None and empty values are dropped."""
        kept: list[tuple[str, OptionValue]] = []
        for key, value in sorted(values.items()):
            if value is None or (not isinstance(value, str) and not list(value)):
                continue
            kept.append((key, value if isinstance(value, str) else tuple(value)))
        return cls(tuple(kept))

    def remove_options(self) -> RemoveOptions:
        """The checked options.

        Raises:
            OptionError: a bad option. InputError: a background picture that cannot be read.
        """
        return RemoveOptions.from_strings(dict(self.options))

    def fingerprint(self, options: RemoveOptions | None = None) -> str:
        """A short digest of what the options make, to tell a changed option on resume.

        It is taken from the checked options (so `-Q fast` and `--quality fast` agree), plus
        the pixels of a background picture.
        """
        options = options or self.remove_options()
        parts = {"options": repr(options)}
        if isinstance(options.background, Picture):
            parts["picture"] = hashlib.sha256(options.background.image.tobytes()).hexdigest()
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]

    def build(self) -> Remover:
        """The worker's Remover (its models load here, once per worker).

        Raises:
            MattekitError: bad options, or a model that is missing or cannot load.
        """
        return Remover(self.remove_options())


def process_one(remover: Remover, index: int, source: str, target: str, name: str, worker: str) -> ItemResult:
    """Make one output; never raises for a bad input (the result says what went wrong).

    Args:
        remover: the worker's Remover.
        index: the job's index (returned in the result).
        source, target: input and output paths; the output's folder exists.
        name: how to call the input in messages (its path under IN_DIR).
        worker: who ran it, for the report.
    """
    start = time.perf_counter()
    try:
        found = remover.process_file(Path(source), target, name=name)
    except ModelError as exc:
        return ItemResult(index, "failed", _one_line(name, exc), _since(start), worker, fatal=True)
    except (MattekitError, OSError) as exc:
        return ItemResult(index, "failed", _one_line(name, exc), _since(start), worker)
    except Exception as exc:  # a bug or a library's untyped error: this file fails, the rest go on
        detail = f"unexpected {type(exc).__name__}: {exc}"
        return ItemResult(index, "failed", _one_line(name, detail), _since(start), worker)
    empty = found.empty and remover.options.output != "class-map"
    return ItemResult(index, "ok", None, _since(start), worker, empty=empty)


def set_threads(threads: int) -> None:
    """Give this worker process `threads` threads: ONNX Runtime (through MATTEKIT_THREADS, read
    when a Remover loads its models) and OpenCV."""
    os.environ["MATTEKIT_THREADS"] = str(threads)
    import cv2

    cv2.setNumThreads(threads)


def _since(start: float) -> float:
    return time.perf_counter() - start


def _one_line(name: str, error: object) -> str:
    message = " ".join(str(error).split())
    return message if message.startswith(name) else f"{name}: {message}"
