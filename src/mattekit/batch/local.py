"""The local engine: worker processes on this machine, each holding one Remover.

Each worker is a fresh process (the "spawn" start method: no ONNX Runtime threads are forked)
that loads the models once and gives ONNX Runtime and OpenCV `threads` threads. Inside a
worker, `inflight` threads take jobs from that worker's own queue, so one photo is decoded or
encoded while another is in the model (the Remover's image mode is thread-safe). The driver
keeps each worker's queue short (in flight plus one), so the work spreads evenly and the
driver always knows which worker holds which job: when a worker dies (killed, out of memory)
the jobs it had started fail with that reason, the others go to the remaining workers, and a
new worker takes its place.

Workers die with the driver (Linux: PR_SET_PDEATHSIG; elsewhere they notice within a second),
so a killed run leaves nothing behind that could still write.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

from mattekit.batch.plan import Job
from mattekit.batch.report import ItemResult
from mattekit.batch.work import Task, process_one, set_threads
from mattekit.errors import MattekitError, ModelError

__all__ = ["run_local"]

_POLL_S = 0.5
_PARENT_CHECK_S = 1.0


@dataclass
class _Worker:
    wid: int
    process: BaseProcess
    tasks: Any  # multiprocessing.Queue
    assigned: dict[int, Job] = field(default_factory=dict)
    started: set[int] = field(default_factory=set)


def run_local(
    jobs: Sequence[Job],
    task: Task,
    on_result: Callable[[ItemResult], None],
    *,
    workers: int,
    threads: int,
    inflight: int = 2,
) -> None:
    """Run `jobs` on `workers` processes and call `on_result` in the driver for each, as done.

    Args:
        jobs: what to make (output folders exist).
        task: the options every worker builds its Remover from.
        on_result: called once per job, in the order they finish.
        workers: worker processes.
        threads: ONNX Runtime / OpenCV threads in each worker.
        inflight: jobs each worker works on at once (decode / model / encode overlap).

    Raises:
        MattekitError: a worker could not build its Remover (e.g. `ModelError`), a model
            failed to run, or workers kept dying.
    """
    if not jobs:
        return
    ctx = multiprocessing.get_context("spawn")
    results: Any = ctx.Queue()
    pending = deque(jobs)
    pool: dict[int, _Worker] = {}
    remaining = len(jobs)
    deaths = 0
    next_id = 0

    def start() -> None:
        nonlocal next_id
        tasks: Any = ctx.Queue()
        process = ctx.Process(
            target=_worker_main,
            args=(task, threads, inflight, tasks, results, next_id, os.getpid()),
            name=f"mattekit-batch-{next_id}",
            daemon=True,
        )
        process.start()
        pool[next_id] = _Worker(next_id, process, tasks)
        feed(pool[next_id])
        next_id += 1

    def feed(worker: _Worker) -> None:
        while pending and len(worker.assigned) < inflight + 1:
            job = pending.popleft()
            worker.assigned[job.index] = job
            worker.tasks.put((job.index, str(job.source), str(job.target), job.name))

    def buried(worker: _Worker) -> int:
        """Fail the jobs a dead worker had started, hand back the others; returns how many failed."""
        del pool[worker.wid]
        code = worker.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        failed = 0
        for index, job in worker.assigned.items():
            if index in worker.started:
                reason = f"{job.name}: the worker process died while making it ({how}; out of memory?)"
                on_result(ItemResult(index, "failed", reason, 0.0, f"pid {worker.process.pid}"))
                failed += 1
            else:
                pending.appendleft(job)
        return failed

    clean = False
    try:
        for _ in range(min(workers, len(jobs))):
            start()
        checked = time.monotonic()
        while remaining:
            try:
                message = results.get(timeout=_POLL_S)
            except queue.Empty:
                message = None
            if message is None or time.monotonic() - checked > _POLL_S:
                checked = time.monotonic()
                for worker in [w for w in pool.values() if not w.process.is_alive()]:
                    remaining -= buried(worker)
                    deaths += 1
                    if deaths > 2 * workers + 1:
                        raise MattekitError(f"worker processes keep dying ({deaths} so far); see the report")
                    if pending or not pool:
                        start()
            if message is None:
                continue
            kind, wid, payload = message
            worker_or_none = pool.get(wid)
            if kind == "fatal":
                raise payload if isinstance(payload, MattekitError) else MattekitError(str(payload))
            if worker_or_none is None or kind == "ready":
                continue
            if kind == "started":
                worker_or_none.started.add(payload)
            elif kind == "done":
                result: ItemResult = payload
                worker_or_none.assigned.pop(result.index, None)
                worker_or_none.started.discard(result.index)
                remaining -= 1
                on_result(result)
                if result.fatal:
                    raise ModelError(result.error or "a model failed to run")
                feed(worker_or_none)
        clean = True
    finally:
        _shut_down(list(pool.values()), inflight, clean)
        results.cancel_join_thread()


def _shut_down(workers: list[_Worker], inflight: int, clean: bool) -> None:
    """Stop the workers: politely when all work is done, at once otherwise."""
    for worker in workers:
        if clean:
            for _ in range(inflight):
                worker.tasks.put(None)
        else:
            worker.process.terminate()
    for worker in workers:
        worker.process.join(timeout=10 if clean else 2)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.tasks.cancel_join_thread()


def _worker_main(task: Task, threads: int, inflight: int, tasks: Any, results: Any, wid: int,
                 parent: int) -> None:  # fmt: skip
    """A worker process: build the Remover, then run `inflight` threads over the job queue."""
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides what Ctrl-C stops
    set_threads(threads)
    try:
        remover = task.build()
    except MattekitError as exc:
        results.put(("fatal", wid, exc))
        return
    except Exception as exc:  # report any start-up failure to the driver as one line
        results.put(("fatal", wid, MattekitError(f"a worker could not start: {type(exc).__name__}: {exc}")))
        return
    results.put(("ready", wid, None))
    who = f"pid {os.getpid()}"

    def loop() -> None:
        while True:
            try:
                item = tasks.get(timeout=_PARENT_CHECK_S)
            except queue.Empty:
                if os.getppid() != parent:
                    return
                continue
            if item is None:
                return
            index, source, target, name = item
            results.put(("started", wid, index))
            results.put(("done", wid, process_one(remover, index, source, target, name, who)))

    runners = [threading.Thread(target=loop, daemon=True) for _ in range(inflight)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when the driver dies (even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    if os.getppid() != parent:
        os._exit(1)
