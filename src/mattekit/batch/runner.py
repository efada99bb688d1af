"""A batch run from start to end: plan, skip what is done, run an engine, record, report.

The driver (this module) is the only writer of the manifest and the report; engines only
make outputs and hand back results. For each finished output the manifest line is synced
first and the report line written after it, so whatever a killed run's report calls "ok" is
skipped by the next run.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mattekit.batch.manifest import LOCK_NAME, InputStamp, Manifest, remove_litter
from mattekit.batch.plan import Job, plan_batch
from mattekit.batch.report import ItemResult, Report, Summary
from mattekit.batch.work import Task
from mattekit.errors import MattekitError, OptionError
from mattekit.io.images import format_for_path
from mattekit.io.names import OUTPUT_NAMES
from mattekit.models.runtime import thread_count, usable_cpus

__all__ = ["ENGINES", "REPORT_NAME", "VERBS", "default_workers", "run_batch"]

ENGINES = ("local", "ray")
REPORT_NAME = "mattekit-report.jsonl"
VERBS: dict[str, str] = {"remove": "image", "replace": "image", "mask": "mask", "sticker": "sticker"}
"""What each command makes, as a Remover `output` (`mask` with classes makes "class-map")."""

# Peak memory of one worker, for the default worker count (README, "Speed and memory").
_WORKER_BYTES = {"fast": 400 << 20, "balanced": 1100 << 20, "accurate": 1600 << 20}


@dataclass(frozen=True)
class _Settings:
    workers: int
    threads: int
    inflight: int


def default_workers(quality: str, *, cores: int | None = None, threads: int | None = None) -> tuple[int, int]:
    """The (workers, threads per worker) a batch uses when not told.

    One single-threaded worker per core (with two photos in flight each), the fastest local
    setting for person fast and level with the others for auto balanced on 2 cores
    (`benchmarks/batch.py`), and no more workers than the free memory holds.
    """
    cores = cores or usable_cpus()
    threads = threads or 1
    workers = max(1, cores // threads)
    free = _free_memory()
    if free is not None:
        workers = max(1, min(workers, free // _WORKER_BYTES.get(quality, _WORKER_BYTES["accurate"])))
    return workers, threads


def run_batch(
    in_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    options: Mapping[str, str | Sequence[str] | None] | None = None,
    *,
    verb: str = "remove",
    fmt: str | None = None,
    recursive: bool = False,
    patterns: Sequence[str] = (),
    engine: str = "local",
    workers: int | None = None,
    threads: int | None = None,
    inflight: int = 2,
    ray_address: str | None = None,
    report: str | os.PathLike[str] | None = None,
    checksum: bool = False,
    progress: bool | None = None,
    on_failure: Callable[[str], None] | None = None,
) -> Summary:
    """Make one output per image under IN_DIR, mirrored under OUT_DIR; resume where a run stopped.

    Args:
        in_dir, out_dir: the folders (OUT_DIR is made; it must not be IN_DIR).
        options: option texts as `RemoveOptions.from_strings` reads them ("quality": "fast");
            "output" is set from `verb`.
        verb: "remove", "replace", "mask" or "sticker": what to make and how outputs are
            named, as that command does; options {"output": "class-map"} with "mask" make
            class maps.
        fmt: output format ("png", "webp", "jpg"); None for the command's default.
        recursive, patterns: which files are inputs (see `plan_batch`).
        engine: "local" (worker processes) or "ray".
        workers, threads: worker count and ONNX Runtime threads per worker; None for
            `default_workers` (local) or the cluster's CPUs (ray).
        inflight: jobs each worker works on at once.
        ray_address: an existing Ray cluster; None starts a local Ray for the run.
        report: the JSONL report's path (default OUT_DIR/mattekit-report.jsonl).
        checksum: identify inputs by size and SHA-256 instead of size and mtime.
        progress: show a progress bar on stderr; None for only when stderr is a terminal.
        on_failure: called with a one-line message for each failed input.

    Returns:
        The counts; the report's last line holds them too.

    Raises:
        OptionError: bad options, engine or verb. InputError: IN_DIR is not a folder.
        MattekitError: a model cannot load or run, another batch holds OUT_DIR, or the
            engine failed; the report then ends with the counts so far.
        KeyboardInterrupt: after the report was closed; run again to finish.

    Example:
        >>> run_batch("photos", "cutouts", {"subject": "person", "quality": "fast"})  # doctest: +SKIP
        Summary(ok=120, skipped=0, failed=1, ...)
    """
    if verb not in VERBS:
        raise OptionError(f"verb: '{verb}' is not one of {', '.join(VERBS)}", "verb")
    if engine not in ENGINES:
        raise OptionError(f"engine: '{engine}' is not one of {', '.join(ENGINES)}", "engine")
    texts = dict(options or {})
    kind = "class-map" if verb == "mask" and texts.get("output") == "class-map" else VERBS[verb]
    task = Task.from_strings({**texts, "output": kind})
    checked = task.remove_options()  # a bad option fails here, before any file is touched
    fingerprint = task.fingerprint(checked)
    naming = OUTPUT_NAMES["class-map" if kind == "class-map" else verb]
    ext = "." + fmt.lower().lstrip(".") if fmt and kind != "class-map" else None
    if ext:
        try:
            format_for_path("x" + ext)
        except OptionError:
            raise OptionError(
                f"format: '{fmt}' is not a format mattekit writes; use png, webp or jpg", "format"
            ) from None
    plan = plan_batch(in_dir, out_dir, naming, ext=ext, recursive=recursive, patterns=patterns)
    out_root = Path(out_dir)
    out_root.mkdir(parents=True, exist_ok=True)
    report_path = Path(report) if report is not None else out_root / REPORT_NAME
    cores = usable_cpus()
    if threads is None and os.environ.get("MATTEKIT_THREADS", "").strip():
        threads = thread_count()  # the user's threads per worker
    if engine == "local":
        if workers is None:
            workers, threads = default_workers(checked.quality, cores=cores, threads=threads)
        threads = threads or max(1, cores // workers)
    else:
        threads = threads or 1
    settings = _Settings(workers or 0, threads, max(1, inflight))
    from filelock import FileLock, Timeout

    try:
        with FileLock(out_root / LOCK_NAME, timeout=0):
            return _run(plan.jobs, plan.refused, out_root, report_path, task, fingerprint, settings,
                        engine=engine, ray_address=ray_address, checksum=checksum, progress=progress,
                        on_failure=on_failure, cores=cores)  # fmt: skip
    except Timeout:
        raise MattekitError(f"{out_dir}: another mattekit batch is writing to this folder") from None


def _run(jobs: list[Job], refused: list[tuple[Job, str]], out_root: Path, report_path: Path, task: Task,
         fingerprint: str, settings: _Settings, *, engine: str, ray_address: str | None, checksum: bool,
         progress: bool | None, on_failure: Callable[[str], None] | None, cores: int) -> Summary:  # fmt: skip
    start = time.perf_counter()
    manifest = Manifest(out_root)
    report_file = Report(report_path)
    summary = Summary(
        engine=engine, workers=settings.workers, threads=settings.threads, report=str(report_path)
    )
    stamps: dict[int, InputStamp] = {}
    by_index = {job.index: job for job in jobs}
    bar: Any = None

    def done(job: Job, result: ItemResult) -> None:
        if result.status == "ok":
            manifest.record(job.output, job.name, stamps[job.index], fingerprint, result.seconds)
            summary.ok += 1
            summary.empty += result.empty
        elif result.status == "skipped":
            summary.skipped += 1
        else:
            summary.failed += 1
            if on_failure is not None:
                message = result.error or f"{job.name}: failed"
                if bar is not None:
                    bar.clear()
                on_failure(message)
        report_file.item(job.name, job.output, result)

    try:
        for job, reason in refused:
            done(job, ItemResult(job.index, "failed", f"{job.name}: {reason}"))
        todo: list[Job] = []
        for job in jobs:
            try:
                stamps[job.index] = InputStamp.of(job.source, checksum=checksum)
            except OSError as exc:
                done(
                    job, ItemResult(job.index, "failed", f"{job.name}: cannot read it: {exc.strerror or exc}")
                )
                continue
            if manifest.made(job.output, job.name, stamps[job.index], fingerprint) and job.target.is_file():
                done(job, ItemResult(job.index, "skipped"))
            else:
                todo.append(job)
        remove_litter([job.target for job in todo])
        for folder in {job.target.parent for job in todo}:
            folder.mkdir(parents=True, exist_ok=True)
        bar = _progress_bar(len(todo), summary.skipped, progress)

        def on_result(result: ItemResult) -> None:
            done(by_index[result.index], result)
            if bar is not None:
                bar.update(1)

        if todo and engine == "local":
            from mattekit.batch.local import run_local

            run_local(todo, task, on_result, workers=settings.workers, threads=settings.threads,
                      inflight=settings.inflight)  # fmt: skip
        elif todo:
            from mattekit.batch.ray_engine import run_ray

            summary.workers = run_ray(
                todo, task, on_result, workers=settings.workers or None, threads=settings.threads,
                inflight=settings.inflight, address=ray_address, cores=cores,
            )  # fmt: skip
    except KeyboardInterrupt:
        summary.interrupted = True
        raise
    finally:
        if bar is not None:
            bar.close()
        manifest.close()
        summary.seconds = time.perf_counter() - start
        report_file.summary(summary)
    return summary


def _progress_bar(total: int, skipped: int, show: bool | None) -> Any:
    if total == 0 or show is False:
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="photo", file=sys.stderr, disable=None if show is None else False,
               dynamic_ncols=True, smoothing=0.1)  # fmt: skip
    if skipped:
        bar.set_postfix_str(f"{skipped} skipped (done before)", refresh=False)
    return bar


def _free_memory() -> int | None:
    """Bytes of memory available for new work, where the system tells (Linux)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
