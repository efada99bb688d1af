"""Batch: one output per photo of a folder tree, on every core of a machine or on a Ray cluster.

    plan.py        walk IN_DIR, mirror it under OUT_DIR, name outputs as the commands do
    manifest.py    what was made from which input and options (resume), temp-file clean-up
    report.py      the JSONL report and its summary line
    work.py        what every worker does: one Remover, one atomic output per job
    local.py       the local engine: worker processes, each with one Remover
    ray_engine.py  the Ray engine: Ray Data, an actor pool, one Remover per actor
    runner.py      `run_batch`: plan, skip what is done, run an engine, record, report

Example:
    >>> from mattekit.batch import run_batch
    >>> summary = run_batch("photos", "cutouts", {"subject": "person", "quality": "fast"})  # doctest: +SKIP
    >>> summary.ok, summary.skipped, summary.failed  # doctest: +SKIP
    (120, 0, 0)
"""

from mattekit.batch.manifest import MANIFEST_NAME, InputStamp, Manifest
from mattekit.batch.plan import DEFAULT_PATTERNS, Job, Plan, plan_batch
from mattekit.batch.report import STATUSES, ItemResult, Summary
from mattekit.batch.runner import ENGINES, REPORT_NAME, VERBS, default_workers, run_batch

__all__ = [
    "DEFAULT_PATTERNS",
    "ENGINES",
    "MANIFEST_NAME",
    "REPORT_NAME",
    "STATUSES",
    "VERBS",
    "InputStamp",
    "ItemResult",
    "Job",
    "Manifest",
    "Plan",
    "Summary",
    "default_workers",
    "plan_batch",
    "run_batch",
]
