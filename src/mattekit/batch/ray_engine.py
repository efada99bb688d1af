"""The Ray engine: Ray Data spreads the jobs over an actor pool, on one machine or a cluster.

The driver plans the jobs and decides what to skip (it owns the manifest and the report);
`ray.data.from_items` holds the jobs still to do, and `map_batches` runs them on a fixed pool
of actors (`ActorPoolStrategy`), each building one Remover in its constructor and reserving
`threads` CPUs, so Ray places ``node CPUs // threads`` actors per node. Each actor takes
`inflight` calls at once (Ray's multi-threaded actors), so decoding and encoding overlap the
model. Actors write outputs themselves, atomically, to the output paths (on a cluster: a
filesystem every node mounts at the same path); only the small per-item results travel back,
streamed to the driver as they finish.

Needs the ``ray`` extra: ``pip install 'mattekit[ray]'``.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

from mattekit.batch.plan import Job
from mattekit.batch.report import ItemResult
from mattekit.batch.work import Task, process_one, set_threads
from mattekit.errors import MattekitError, ModelError

__all__ = ["RAY_MISSING", "ray_available", "run_ray"]

RAY_MISSING = "the ray engine needs Ray Data: pip install 'mattekit[ray]'"

_MAX_BLOCKS = 20_000
_ACTORS_READY_S = 600
_LOCAL_OBJECT_STORE = 256 * 1024 * 1024
_FORWARDED_ENV = ("MATTEKIT_",)


def ray_available() -> bool:
    """Whether Ray Data can be imported."""
    try:
        import ray.data  # noqa: F401
    except ImportError:
        return False
    return True


class RemoverActor:
    """One Ray actor: its own Remover, built once; then one output per row.

    Args:
        task: the options.
        threads: ONNX Runtime / OpenCV threads of this actor.
    """

    def __init__(self, task: Task, threads: int) -> None:
        import ray

        set_threads(threads)
        context = ray.get_runtime_context()
        self.worker = f"node {context.get_node_id()[:8]} pid {os.getpid()}"
        self.error: MattekitError | None = None
        try:
            self.remover = task.build()
        except MattekitError as exc:  # reported with the first rows, as one line
            self.error = exc

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        """Process a batch of rows (index, source, target, name) into result columns."""
        out: dict[str, list[Any]] = {
            k: [] for k in ("index", "status", "error", "seconds", "worker", "fatal", "empty")
        }
        for index, source, target, name in zip(
            batch["index"], batch["source"], batch["target"], batch["name"], strict=True
        ):
            if self.error is not None:
                result = ItemResult(int(index), "failed", str(self.error), 0.0, self.worker, fatal=True)
            else:
                result = process_one(
                    self.remover, int(index), str(source), str(target), str(name), self.worker
                )
            for key in out:
                out[key].append(getattr(result, key))
        return out


def run_ray(
    jobs: Sequence[Job],
    task: Task,
    on_result: Callable[[ItemResult], None],
    *,
    workers: int | None,
    threads: int,
    inflight: int = 2,
    address: str | None = None,
    cores: int | None = None,
) -> int:
    """Run `jobs` through Ray Data and call `on_result` in the driver for each, as done.

    Args:
        jobs: what to make (output folders exist, on a filesystem every node sees).
        task: the options every actor builds its Remover from.
        on_result: called once per job, as results stream back.
        workers: actors; None for as many as the cluster's CPUs hold at `threads` each.
        threads: CPUs (ONNX Runtime threads) per actor.
        inflight: calls each actor takes at once.
        address: an existing cluster ("auto", "HOST:PORT", "ray://HOST:PORT"); None starts
            a local Ray for this run (and stops it after).
        cores: CPUs of the local Ray; None for this machine's.

    Returns:
        The number of actors used.

    Raises:
        MattekitError: Ray is not installed, an actor could not build its Remover, or a model
            failed to run.
    """
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise MattekitError(RAY_MISSING) from exc
    started = not ray.is_initialized()
    if started:
        env = {
            k: v for k, v in os.environ.items() if k.startswith(_FORWARDED_ENV) and k != "MATTEKIT_THREADS"
        }
        local: dict[str, Any] = {}
        if address is None:
            local = {"num_cpus": cores, "object_store_memory": _LOCAL_OBJECT_STORE}
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
            runtime_env={"env_vars": env},
            **local,
        )
    try:
        return _run(ray, jobs, task, on_result, workers=workers, threads=threads, inflight=inflight)
    finally:
        if started:
            ray.shutdown()


def _run(ray: Any, jobs: Sequence[Job], task: Task, on_result: Callable[[ItemResult], None], *,
         workers: int | None, threads: int, inflight: int) -> int:  # fmt: skip
    if workers is None:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        workers = max(1, cpus // threads)
    workers = max(1, min(workers, len(jobs)))
    if not jobs:
        return workers
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.enable_operator_progress_bars = False
    context.verbose_stats_logs = False
    # Start only when every actor has its models: work then spreads over all of them (and a
    # pool the cluster cannot hold fails after this long, instead of waiting for ever).
    context.wait_for_min_actors_s = _ACTORS_READY_S
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # its own progress and plan lines
    rows = [
        {"index": j.index, "source": str(j.source), "target": str(j.target), "name": j.name} for j in jobs
    ]
    # One row per block up to _MAX_BLOCKS: results stream back (and reach the manifest) one by one.
    blocks = min(len(rows), _MAX_BLOCKS)
    per_block = math.ceil(len(rows) / blocks)
    data = ray.data.from_items(rows, override_num_blocks=math.ceil(len(rows) / per_block))
    made = data.map_batches(
        RemoverActor,
        fn_constructor_kwargs={"task": task, "threads": threads},
        batch_size=1,
        num_cpus=threads,
        compute=ray.data.ActorPoolStrategy(
            size=workers,
            max_tasks_in_flight_per_actor=inflight,
            max_concurrent_calls_per_actor=inflight,
            enable_true_multi_threading=inflight > 1,
        ),
        udf_modifying_row_count=False,
    )
    for row in made.iter_rows():
        result = ItemResult(
            int(row["index"]), str(row["status"]), row["error"] or None, float(row["seconds"]),
            str(row["worker"]), bool(row["fatal"]), bool(row["empty"]),
        )  # fmt: skip
        on_result(result)
        if result.fatal:
            raise ModelError(result.error or "a model failed to run")
    return workers
