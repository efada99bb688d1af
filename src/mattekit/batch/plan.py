"""Which files a batch reads and where each output goes.

The output tree mirrors the input tree: ``IN/a/b/photo.jpg`` becomes ``OUT/a/b/photo.cutout.png``
(the name the single-file command would choose, `mattekit.io.names`). Hidden files and folders
(names starting with ".") are never inputs; neither is anything inside OUT_DIR when OUT_DIR is
inside IN_DIR. An output that would land inside IN_DIR (while OUT_DIR is not inside it), or that
two inputs would share, is a failed item with a message, never a write.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mattekit.errors import InputError, OptionError
from mattekit.io.names import OutputName

__all__ = ["DEFAULT_PATTERNS", "Job", "Plan", "plan_batch"]

DEFAULT_PATTERNS = ("*.jpg", "*.jpeg", "*.png", "*.webp", "*.bmp", "*.tif", "*.tiff", "*.gif")
"""Inputs when no --pattern is given: the image formats mattekit decodes (any letter case)."""


@dataclass(frozen=True)
class Job:
    """One input and its output.

    Attributes:
        index: its place in the plan (sorted by input path).
        source, target: the input file and the output file (absolute).
        name: the input relative to IN_DIR, POSIX style (for the report and manifest).
        output: the output relative to OUT_DIR, POSIX style (the manifest's key).
    """

    index: int
    source: Path
    target: Path
    name: str
    output: str


@dataclass
class Plan:
    """What a batch will do: jobs to consider, and inputs refused before any work.

    Attributes:
        jobs: every input with a usable output, in input order.
        refused: inputs with no usable output, each with the reason (reported as failed).
    """

    jobs: list[Job] = field(default_factory=list)
    refused: list[tuple[Job, str]] = field(default_factory=list)


def plan_batch(
    in_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    naming: OutputName,
    *,
    ext: str | None = None,
    recursive: bool = False,
    patterns: Sequence[str] = (),
) -> Plan:
    """Walk IN_DIR and pair each matching file with its output under OUT_DIR.

    Args:
        in_dir: the folder to read.
        out_dir: the folder to write (created later, by the runner).
        naming: how outputs are named (`OUTPUT_NAMES[verb]`).
        ext: the output extension with its dot, overriding the naming's default.
        recursive: walk sub-folders too.
        patterns: shell patterns matched against file names, any letter case
            (`DEFAULT_PATTERNS` when empty).

    Raises:
        InputError: IN_DIR is not a folder.
        OptionError: OUT_DIR is IN_DIR.

    Example:
        >>> import tempfile, pathlib
        >>> from mattekit.io.names import OUTPUT_NAMES
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> (root / "in" / "a").mkdir(parents=True)
        >>> (root / "in" / "a" / "x.jpg").write_bytes(b"")
        0
        >>> plan = plan_batch(root / "in", root / "out", OUTPUT_NAMES["remove"], recursive=True)
        >>> [(job.name, job.output) for job in plan.jobs]
        [('a/x.jpg', 'a/x.cutout.png')]
    """
    source_root = Path(in_dir).resolve()
    target_root = Path(out_dir).resolve()
    if not source_root.is_dir():
        raise InputError(f"{in_dir}: not a folder")
    if target_root == source_root:
        raise OptionError(
            "output: the output folder is the input folder; choose another (outputs would be read "
            "as inputs next time)",
            "output",
        )
    out_inside_in = source_root in target_root.parents
    wanted = [p.lower() for p in (patterns or DEFAULT_PATTERNS)]
    plan = Plan()
    claimed: dict[Path, str] = {}
    for index, source in enumerate(_walk(source_root, target_root, recursive, wanted)):
        relative = source.relative_to(source_root)
        target = target_root / relative.parent / naming.for_stem(source.stem, ext)
        job = Job(index, source, target, relative.as_posix(), target.relative_to(target_root).as_posix())
        if not out_inside_in and source_root in target.parents:
            plan.refused.append((job, f"its output {target} would be inside the input folder"))
        elif target in claimed:
            plan.refused.append((job, f"{claimed[target]} already writes {job.output}; rename one of them"))
        else:
            claimed[target] = job.name
            plan.jobs.append(job)
    return plan


def _walk(root: Path, skip: Path, recursive: bool, patterns: list[str]) -> Iterator[Path]:
    """Matching files under `root`, sorted, never inside `skip` or hidden folders."""
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d for d in dirs if recursive and not d.startswith(".") and (here / d).resolve() != skip
        )
        for name in sorted(files):
            lower = name.lower()
            if not name.startswith(".") and any(fnmatch.fnmatchcase(lower, p) for p in patterns):
                yield here / name
