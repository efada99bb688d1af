"""Video jobs: a video in, a job id back at once, progress while it runs, the result once.

A video takes seconds to minutes, longer than a request should wait, so ``POST /v1/video``
answers 202 with a job id; ``GET /v1/jobs/ID`` says how far it is; ``GET /v1/jobs/ID/result``
hands the result over once, then forgets the job; ``DELETE /v1/jobs/ID`` cancels it.

Video decoding and encoding need files, so each job has a folder in the server's private
temporary folder (made with mode 0700, removed when the server stops); the folder goes as
soon as the result is downloaded, the job is cancelled or fails, or an hour after it is done.
Jobs run one at a time on their own thread, so images stay quick; at most `limit` jobs may
be unfinished (503 with Retry-After beyond), and at most the first `max_seconds` of a video
are processed.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mattekit.errors import MattekitError, UnsupportedInputError
from mattekit.options import RemoveOptions
from mattekit.server.faults import JobNotDone, NotFound, QueueFull, error_body, status_for
from mattekit.stages.backgrounds import Picture
from mattekit.video import process_video

__all__ = ["INPUT_SUFFIXES", "OUTPUT_FORMATS", "Job", "JobBoard", "input_suffix"]

INPUT_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".gif", ".webp", ".png")
"""Upload names a video may have; the name's suffix tells FFmpeg (or Pillow) what it is."""

_MEDIA_SUFFIXES = {
    "video/mp4": ".mp4", "video/quicktime": ".mov", "video/x-matroska": ".mkv", "video/webm": ".webm",
    "video/x-msvideo": ".avi", "image/gif": ".gif", "image/webp": ".webp", "image/png": ".png",
}  # fmt: skip

OUTPUT_FORMATS = {
    "mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime", "mkv": "video/x-matroska",
    "gif": "image/gif", "webp": "image/webp",
}  # fmt: skip
"""What a job may make, with the answer's Content-Type."""

_KEEP_DONE_S = 3600.0


class _Cancelled(Exception):
    """Raised from the progress callback to stop a job."""


@dataclass
class Job:
    """One video job and how far it is.

    Attributes:
        id: the job's id (random, 16 bytes).
        state: "queued", "running", "done", "failed" or "cancelled".
        done, total: frames written, and frames expected (None when unknown).
        error: the error's JSON body (as the other endpoints answer) when it failed.
        notices: what the output does differently from the input (audio re-encoded, ...).
    """

    id: str
    folder: Path
    source: Path
    target: Path
    media_type: str
    state: str = "queued"
    done: int = 0
    total: int | None = None
    error: dict[str, Any] | None = None
    notices: tuple[str, ...] = ()
    finished: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def to_dict(self) -> dict[str, Any]:
        """The job's state as ``GET /v1/jobs/ID`` answers it."""
        share = None if not self.total else min(1.0, self.done / self.total)
        body: dict[str, Any] = {"id": self.id, "state": self.state, "frames": self.done, "frames_total": self.total,
                                "progress": 1.0 if self.state == "done" else share,
                                "status_url": f"/v1/jobs/{self.id}"}  # fmt: skip
        if self.state == "done":
            body["result_url"] = f"/v1/jobs/{self.id}/result"
            body["notices"] = list(self.notices)
        if self.error is not None:
            body["error"] = self.error
        return body


class JobBoard:
    """The server's video jobs: submitted, run one at a time, handed over once.

    Args:
        limit: the most unfinished jobs (queued or running).
        max_seconds: the most seconds of a video that are processed.
    """

    def __init__(self, limit: int, max_seconds: float) -> None:
        self.limit = limit
        self.max_seconds = max_seconds
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="mattekit-video")
        self._root: Path | None = None

    def submit(
        self, data: bytes, suffix: str, options: RemoveOptions, fmt: str, background: bytes | None
    ) -> Job:
        """Store the upload and queue its job.

        Raises:
            QueueFull: `limit` jobs are unfinished already.
        """
        self._expire()
        with self._lock:
            waiting = sum(job.state in ("queued", "running") for job in self._jobs.values())
            if waiting >= self.limit:
                raise QueueFull(f"{waiting} video jobs are unfinished; try again later", retry_after=30)
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="mattekit-jobs-"))
            job_id = secrets.token_urlsafe(16)
            folder = self._root / job_id
            folder.mkdir(mode=0o700)
            job = Job(
                job_id, folder, folder / f"input{suffix}", folder / f"result.{fmt}", OUTPUT_FORMATS[fmt]
            )
            self._jobs[job_id] = job
        job.source.write_bytes(data)
        self._executor.submit(self._run, job, options, background)
        return job

    def get(self, job_id: str) -> Job:
        """The job with this id.

        Raises:
            NotFound: no such job (never made, downloaded, cancelled, or expired).
        """
        self._expire()
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(
                f"no video job '{job_id[:40]}' (unknown, already downloaded, cancelled, or expired)"
            )
        return job

    def hand_over(self, job_id: str) -> tuple[Job, Callable[[], None]]:
        """The finished job whose result is downloaded now, and what forgets it afterwards.

        Raises:
            NotFound: no such job. JobNotDone: it is not done (its state says why).
        """
        job = self.get(job_id)
        if job.state != "done":
            raise JobNotDone(f"the video job is {job.state}, not done; see {job.to_dict()['status_url']}")
        with self._lock:
            self._jobs.pop(job_id, None)  # a result is handed over once
        return job, lambda: shutil.rmtree(job.folder, ignore_errors=True)

    def cancel(self, job_id: str) -> Job:
        """Stop a job (at its next frame) and forget it."""
        job = self.get(job_id)
        job.cancel.set()
        with self._lock:
            self._jobs.pop(job_id, None)
        if job.state != "running":  # a running job cleans up when it stops
            shutil.rmtree(job.folder, ignore_errors=True)
        job.state = "cancelled"
        return job

    def shutdown(self) -> None:
        """Cancel every job and remove the private folder."""
        with self._lock:
            jobs = list(self._jobs.values())
            self._jobs.clear()
        for job in jobs:
            job.cancel.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)

    def _run(self, job: Job, options: RemoveOptions, background: bytes | None) -> None:
        if job.cancel.is_set():
            return
        job.state = "running"

        def progress(done: int, total: int | None) -> None:
            job.done, job.total = done, total
            if job.cancel.is_set():
                raise _Cancelled

        try:
            if background is not None:
                picture = Picture.load(background, max_pixels=options.max_pixels)
                options = options.with_changes(background=picture)
            result = process_video(
                job.source, job.target, options, duration=self.max_seconds, progress=progress
            )
        except _Cancelled:
            shutil.rmtree(job.folder, ignore_errors=True)
            return
        except MattekitError as exc:
            job.error = {**error_body(exc), "status": status_for(exc)}
            job.state = "failed"
        except Exception as exc:  # a job must end in a state, whatever went wrong
            job.error = {"error": "InternalError", "detail": f"internal error ({type(exc).__name__})",
                         "status": 500, "option": None}  # fmt: skip
            job.state = "failed"
        else:
            job.notices = result.notices
            job.done = result.frames
            job.state = "done"
        finally:
            job.finished = time.monotonic()
            job.source.unlink(missing_ok=True)
        if job.state == "failed":
            shutil.rmtree(job.folder, ignore_errors=True)

    def _expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            old = [
                j for j in self._jobs.values() if j.finished is not None and now - j.finished > _KEEP_DONE_S
            ]
            for job in old:
                del self._jobs[job.id]
        for job in old:
            shutil.rmtree(job.folder, ignore_errors=True)


def input_suffix(filename: str, content_type: str) -> str:
    """The suffix an uploaded video is stored under, from its name or its type.

    Raises:
        UnsupportedInputError: neither says it is a video or animation we read.
    """
    suffix = Path(filename).suffix.lower()
    if suffix in INPUT_SUFFIXES:
        return suffix
    by_type = _MEDIA_SUFFIXES.get(content_type.split(";")[0].strip().lower())
    if by_type:
        return by_type
    raise UnsupportedInputError(
        f"video: name the upload with its extension ({', '.join(INPUT_SUFFIXES)}) or send its Content-Type"
    )
