"""The video job endpoints (see `mattekit.server.jobs`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, JSONResponse

from mattekit.errors import OptionError
from mattekit.io.video import VIDEO_EXTENSIONS, video_format
from mattekit.server import docs
from mattekit.server.forms import image_request, merged_fields
from mattekit.server.jobs import input_suffix
from mattekit.server.pool import Slot
from mattekit.server.uploads import Upload

if TYPE_CHECKING:
    from mattekit.server.app import Service

__all__ = ["add_video_routes"]


def _output_format(given: str, transparent: bool) -> str:
    """The job's output format: the client's, or mp4 (webm for a transparent cutout)."""
    fmt = given or ("webm" if transparent else "mp4")
    if f".{fmt}" in VIDEO_EXTENSIONS:
        try:
            video_format(f"result.{fmt}", transparent=transparent)
        except OptionError as exc:
            detail = str(exc).removeprefix(f"result.{fmt}: ").replace(" with --bg", " with bg")
            raise OptionError(f"format: {detail}", "format") from None
    return fmt


def add_video_routes(app: FastAPI, service: Service) -> None:
    """POST /v1/video, GET and DELETE /v1/jobs/ID, GET /v1/jobs/ID/result."""
    settings = service.settings
    board = service.jobs

    @app.post(
        "/v1/video",
        tags=["video"],
        summary="Start a video job (202 with its id; poll /v1/jobs/ID, then download the result)",
        description=f"The first {settings.max_video_seconds:g} s of the video are processed "
        "(the server's --max-video-seconds). Sound is copied.",
        status_code=202,
        openapi_extra={"requestBody": docs.verb_body("video")},
    )
    async def start(request: Request) -> Any:
        async def handle(_: Slot, upload: Upload) -> Any:
            fields = merged_fields(request.query_params.multi_items(), upload)
            job_request = image_request("video", fields, upload, max_pixels=settings.max_pixels)
            options = job_request.options
            transparent = options.background.transparent and job_request.background is None
            fmt = _output_format(job_request.fmt, transparent)
            suffix = input_suffix(job_request.image.filename, job_request.image.content_type)
            job = await asyncio.to_thread(
                board.submit, job_request.image.data, suffix, options, fmt, job_request.background
            )
            return JSONResponse(job.to_dict(), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})

        return await service.admitted(request, handle)

    @app.get("/v1/jobs/{job_id}", tags=["video"], summary="A video job's state and progress")
    async def status(job_id: str) -> dict[str, Any]:
        return board.get(job_id).to_dict()

    @app.get(
        "/v1/jobs/{job_id}/result",
        tags=["video"],
        summary="Download a finished job's video (once: the job is forgotten afterwards)",
        response_class=FileResponse,
    )
    async def result(job_id: str) -> FileResponse:
        job, forget = board.hand_over(job_id)
        name = f"{Path(job.target).stem}{job.target.suffix}"
        return FileResponse(
            job.target, media_type=job.media_type, filename=name, background=BackgroundTask(forget)
        )

    @app.delete("/v1/jobs/{job_id}", tags=["video"], summary="Cancel a video job and forget it")
    async def cancel(job_id: str) -> dict[str, Any]:
        job = board.cancel(job_id)
        return {"id": job.id, "state": job.state}
