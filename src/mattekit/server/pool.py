"""The bounded inference pool: a few worker threads and a bounded number of waiting requests.

A request takes a *slot* when it arrives, before its body is read, so the memory of the
uploads held at once is bounded too (slots x upload limit). With every slot taken, `admit`
raises `QueueFull` (503 with Retry-After) at once instead of queueing without end.

A slot is freed when both the request is over (answered, timed out, or its client gone) and
its work has stopped: work already running in a thread cannot be interrupted, so a request
that times out keeps its slot until the thread is done, and the pool never runs more than
its workers. Work that has not started when its request ends is cancelled.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

from mattekit.server.faults import QueueFull, WorkTimeout

__all__ = ["InferencePool", "Slot"]

T = TypeVar("T")

# Weight of the newest job in the running mean of job times (for Retry-After).
_SMOOTHING = 0.2


class Slot:
    """One admitted request's place in the pool; a context manager that gives it back."""

    def __init__(self, pool: InferencePool) -> None:
        self._pool = pool
        self._holds = 1

    def hold(self) -> None:
        """Keep the slot taken until a matching `release` (while work runs)."""
        with self._pool._lock:
            self._holds += 1

    def release(self) -> None:
        """Let go of one hold; the slot is free once nothing holds it."""
        with self._pool._lock:
            self._holds -= 1
            if self._holds == 0:
                self._pool._used -= 1

    def __enter__(self) -> Slot:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class InferencePool:
    """Worker threads for the CPU-heavy work, with admission bounded by workers + queue.

    Args:
        workers: threads that run work at once (>= 1).
        queue: requests that may wait for a worker besides those running (>= 0).
    """

    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="mattekit-work")
        self._lock = threading.Lock()
        self._used = 0
        self._mean_seconds = 1.0

    @property
    def in_use(self) -> int:
        """Slots taken now (requests admitted whose slot is not yet free)."""
        with self._lock:
            return self._used

    def retry_after(self) -> float:
        """Seconds after which a slot is likely free: the running mean job time, times the
        slots ahead, shared by the workers."""
        with self._lock:
            return max(1.0, self._mean_seconds * self.capacity / self.workers)

    def admit(self) -> Slot:
        """Take a slot for a new request.

        Raises:
            QueueFull: every slot is taken; its `retry_after` says when to come back.
        """
        with self._lock:
            if self._used >= self.capacity:
                full = True
            else:
                full = False
                self._used += 1
        if full:
            raise QueueFull(
                f"the server is busy ({self.workers} working, {self.capacity - self.workers} waiting); "
                "try again later",
                retry_after=self.retry_after(),
            )
        return Slot(self)

    async def run(
        self,
        slot: Slot,
        work: Callable[[], T],
        *,
        timeout: float,
        gone: Callable[[], Awaitable[None]] | None = None,
    ) -> T | None:
        """Run `work` in a worker thread while `slot` is held, off the event loop.

        Args:
            slot: the request's slot; held until the work has stopped.
            work: the job.
            timeout: seconds to wait for it (queue time included).
            gone: an awaitable that finishes when the client disconnects; then the work is
                cancelled if not started, and None is returned.

        Raises:
            WorkTimeout: it did not finish in time (it is cancelled if not started).
        """
        slot.hold()
        future: Future[T] = self._executor.submit(self._timed, work)
        future.add_done_callback(lambda _: slot.release())
        job = asyncio.wrap_future(future)
        watcher = asyncio.ensure_future(gone()) if gone is not None else None
        try:
            waiting: set[asyncio.Future[Any]] = {job}
            if watcher is not None:
                waiting.add(watcher)
            done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if job in done:
                return job.result()
            future.cancel()  # a no-op once started: the slot then stays held until it ends
            if watcher is not None and watcher in done:
                return None
            raise WorkTimeout(f"the work took longer than the server's timeout ({timeout:g} s)")
        finally:
            if watcher is not None:
                watcher.cancel()
            if not job.done():
                job.cancel()

    def _timed(self, work: Callable[[], T]) -> T:
        start = time.perf_counter()
        try:
            return work()
        finally:
            spent = time.perf_counter() - start
            with self._lock:
                self._mean_seconds += _SMOOTHING * (spent - self._mean_seconds)

    def shutdown(self) -> None:
        """Stop taking work; cancel what has not started."""
        self._executor.shutdown(wait=False, cancel_futures=True)
