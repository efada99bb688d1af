"""The application: routes, limits, the inference pool and the Remover cache.

- ``GET /``: the web page (static files from the package; no CDN).
- ``GET /healthz``: liveness, answered while the process runs.
- ``GET /readyz``: readiness, 200 once the preloaded models are in memory.
- ``GET /v1/models``: model cards, the level table, VOC classes, rembg's model names.
- ``POST /v1/remove``, ``/v1/replace``, ``/v1/mask``, ``/v1/sticker``: an image in, an image out.
- ``POST /v1/classes``: the VOC classes in an image (JSON, as ``mattekit classes --json``).
- ``POST /api/remove``: rembg's API (see `mattekit.server.rembg`).
- ``POST /v1/video``, ``GET``/``DELETE /v1/jobs/ID``, ``GET /v1/jobs/ID/result``: video jobs
  (see `mattekit.server.jobs`).
- ``GET /docs``: the OpenAPI docs (served from the package too).
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from PIL import Image
from starlette.requests import ClientDisconnect
from starlette.responses import FileResponse, JSONResponse, Response

from mattekit.errors import MattekitError, OptionError
from mattekit.io.images import encode_image
from mattekit.models import all_specs
from mattekit.models.fetch import model_dir
from mattekit.segmenters.levels import LEVELS, QUALITIES
from mattekit.server import docs
from mattekit.server.faults import ModelsLoading, NotServed, error_response, one_line
from mattekit.server.forms import ImageRequest, image_request, merged_fields
from mattekit.server.jobs import JobBoard
from mattekit.server.logs import AccessLog, log
from mattekit.server.pool import InferencePool, Slot
from mattekit.server.rembg import REMBG_MODELS, RembgRequest, rembg_request
from mattekit.server.removers import RemoverCache
from mattekit.server.security import ApiKeyMiddleware
from mattekit.server.settings import ServerSettings
from mattekit.server.uploads import Upload, read_upload
from mattekit.server.video_routes import add_video_routes
from mattekit.stages.backgrounds import Picture
from mattekit.stages.classes import VOC_CLASSES, class_report

__all__ = ["Service", "create_app"]

STATIC = Path(str(resources.files("mattekit.server") / "static"))
_TAGS = {"remove": ".cutout", "replace": ".replaced", "mask": ".mask", "sticker": ".sticker"}
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_GONE = 499  # the client went away: nobody reads this status


class Service:
    """The server's state: settings, the pool, the Removers, and readiness."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.pool = InferencePool(settings.workers, settings.queue)
        self.removers = RemoverCache(settings.cache)
        self.ready = threading.Event()
        self.load_error: str | None = None
        self.jobs = JobBoard(settings.video_jobs, settings.max_video_seconds)

    # -- start and stop -------------------------------------------------------------------

    def preload(self) -> None:
        """Build the preloaded Removers (loading their models); then the server is ready."""
        try:
            for item in self.settings.preload:
                self.removers.get(self.settings.preload_options(item))
        except MattekitError as exc:
            self.load_error = one_line(exc)
            log.error("preloading failed: %s", self.load_error)
        else:
            self.ready.set()
            log.info("ready: %s", ", ".join(self.removers.loaded()) or "nothing preloaded")

    # -- the work (in a worker thread) ----------------------------------------------------

    def image_work(self, job: ImageRequest) -> tuple[bytes, dict[str, str]]:
        """Decode, process and encode one image as `job` says."""
        options = job.options
        if job.background is not None:
            picture = Picture.load(job.background, max_pixels=options.max_pixels)
            options = options.with_changes(background=picture)
        remover = self.removers.get(options)
        out = io.BytesIO()
        found = remover.process_file(job.image.data, out, fmt=job.fmt, name=job.name)
        headers = {"X-Mattekit-Segmenter": found.segmenter}
        if found.empty:
            headers["X-Mattekit-Empty"] = found.what_was_missing()
        return out.getvalue(), headers

    def classes_work(self, job: ImageRequest) -> list[dict[str, Any]]:
        """The VOC classes of one image, as `mattekit classes --json` prints them."""
        min_share = _share(job.extra.get("min_share", "0.001"))
        indices = self.removers.get(job.options).class_map(job.image.data, name=job.name)
        height, width = indices.shape
        found = class_report(indices, min_share)
        return [
            {"image": job.name, "width": width, "height": height, "classes": [c.to_dict() for c in found]}
        ]

    def rembg_work(self, image: bytes, job: RembgRequest) -> bytes:
        """rembg's answer: the RGBA cutout (over `bgc` when given) or the mask, as PNG."""
        pixels = self.removers.get(job.options).process(image, name="file")
        if job.background is not None:
            behind = Image.new("RGBA", (pixels.shape[1], pixels.shape[0]), job.background)
            pixels = np.asarray(Image.alpha_composite(behind, Image.fromarray(pixels, "RGBA")))
        return encode_image(pixels, "PNG")

    # -- requests -------------------------------------------------------------------------

    async def admitted(self, request: Request, handle: Callable[[Slot, Upload], Any]) -> Any:
        """Take a slot (503 when none is free), read the upload, and run `handle`."""
        slot = self.pool.admit()
        with slot:
            try:
                upload = await read_upload(
                    request, limit=self.settings.max_upload, timeout=self.settings.timeout
                )
            except ClientDisconnect:
                return Response(status_code=_GONE)
            return await handle(slot, upload)

    async def run(self, request: Request, slot: Slot, work: Callable[[], Any]) -> Any:
        """Run `work` in the pool; None when the client went away first."""
        return await self.pool.run(
            slot, work, timeout=self.settings.timeout, gone=lambda: _disconnected(request)
        )


async def _disconnected(request: Request) -> None:
    """Finish when the client disconnects (the body has been read already)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


def _share(text: str) -> float:
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise OptionError(f"min_share: must be a number from 0 to 1, got '{text}'", "min_share")
    return share


def _content_disposition(name: str, verb: str, fmt: str) -> str:
    stem = Path(name).stem if name != "upload" else "image"
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)[:60] or "image"
    ext = {"PNG": "png", "WEBP": "webp", "JPEG": "jpg"}[fmt]
    return f'inline; filename="{safe}{_TAGS[verb]}.{ext}"'


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """The ASGI application for `settings` (binding is `run_server`'s job)."""
    settings = settings or ServerSettings()
    service = Service(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loader = threading.Thread(target=service.preload, name="mattekit-preload", daemon=True)
        loader.start()
        try:
            yield
        finally:
            service.pool.shutdown()
            await asyncio.to_thread(service.jobs.shutdown)

    from mattekit import __version__

    app = FastAPIOffline(
        title="mattekit",
        version=__version__,
        description="Remove and replace the backgrounds of photos, offline. Send the API key as "
        "'X-API-Key: KEY' when the server has one.",
        lifespan=lifespan,
        redoc_url=None,
        static_url="/docs-assets",
    )
    app.state.service = service

    @app.exception_handler(MattekitError)
    async def mattekit_error(_: Request, exc: MattekitError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error")
        body = {"error": "InternalError", "detail": f"internal error ({type(exc).__name__})", "option": None}
        return JSONResponse(body, status_code=500)

    _add_routes(app, service)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if settings.api_key:
        app.add_middleware(ApiKeyMiddleware, key=settings.api_key)
        _declare_api_key(app)
    if settings.cors:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors),
            allow_methods=["GET", "POST"],
            allow_headers=["X-API-Key", "Authorization", "Content-Type"],
            expose_headers=["Retry-After", "X-Mattekit-Segmenter", "X-Mattekit-Empty", "Content-Disposition"],
        )
    app.add_middleware(AccessLog)
    return app


def _declare_api_key(app: FastAPI) -> None:
    """Say in the OpenAPI schema that every call sends X-API-Key (the docs' Authorize button)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["apiKey"] = {"type": "apiKey", "in": "header", "name": "X-API-Key"}
        schema["security"] = [{"apiKey": []}]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_routes(app: FastAPI, service: Service) -> None:
    settings = service.settings

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)

    @app.get("/healthz", tags=["health"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Readiness: the preloaded models are in memory")
    async def readyz() -> JSONResponse:
        state = {
            "ready": service.ready.is_set(),
            "loaded": service.removers.loaded(),
            "workers": service.pool.workers,
            "capacity": service.pool.capacity,
            "in_use": service.pool.in_use,
        }
        if service.ready.is_set():
            return JSONResponse(state)
        fault = ModelsLoading(
            service.load_error or "loading models", retry_after=None if service.load_error else 1
        )
        retry = error_response(fault).headers.get("Retry-After")
        headers = {"Retry-After": retry} if retry else {}
        return JSONResponse({**state, "detail": str(fault)}, status_code=503, headers=headers)

    @app.get("/v1/models", tags=["info"], summary="Models, levels, VOC classes and rembg's model names")
    async def models() -> dict[str, Any]:
        cards = [
            {
                "name": spec.name,
                "task": spec.task,
                "license": spec.license,
                "size": spec.size,
                "description": spec.description,
                "cached": (model_dir(spec) / spec.filename).is_file(),
            }
            for spec in all_specs()
        ]
        levels = [
            {"subject": kind, "quality": quality, "family": level.family, "refine": level.refine}
            for (kind, quality), level in LEVELS.items()
        ]
        rembg = {name: {"subject": s, "quality": q} for name, (s, q) in REMBG_MODELS.items()}
        return {"models": cards, "levels": levels, "qualities": list(QUALITIES),
                "classes": list(VOC_CLASSES[1:]), "rembg_models": rembg}  # fmt: skip

    for verb in ("remove", "replace", "mask", "sticker"):
        _add_image_route(app, service, verb)
    add_video_routes(app, service)

    @app.post(
        "/v1/classes",
        tags=["images"],
        summary="The Pascal VOC classes in an image (as `mattekit classes --json`)",
        openapi_extra={"requestBody": docs.verb_body("classes")},
    )
    async def classes(request: Request) -> Any:
        async def handle(slot: Slot, upload: Upload) -> Any:
            fields = merged_fields(request.query_params.multi_items(), upload)
            job = image_request("classes", fields, upload, max_pixels=settings.max_pixels)
            result = await service.run(request, slot, lambda: service.classes_work(job))
            return Response(status_code=_GONE) if result is None else JSONResponse(result)

        return await service.admitted(request, handle)

    @app.post(
        "/api/remove",
        tags=["rembg"],
        summary="rembg-compatible background removal",
        description="The API of rembg 2.0.x's server: multipart 'file'; form fields model, a, af, ab, "
        "ae, om, ppm; query bgc and extras. rembg's model names map to mattekit's levels.",
        openapi_extra={
            "requestBody": docs.rembg_body(),
            "parameters": [
                {
                    "name": "bgc",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "Background R,G,B,A.",
                },
                {
                    "name": "extras",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "JSON options.",
                },
            ],
        },
        responses={200: {"content": {"image/png": {}}, "description": "RGBA PNG (or the mask)."}},
    )
    async def rembg_remove(request: Request) -> Any:
        async def handle(slot: Slot, upload: Upload) -> Any:
            fields = merged_fields(request.query_params.multi_items(), upload)
            image = upload.files.get("file")
            if image is None:
                raise OptionError("file: required: the image as the multipart field 'file'", "file")
            job = rembg_request(fields, max_pixels=settings.max_pixels)
            body = await service.run(request, slot, lambda: service.rembg_work(image.data, job))
            return Response(status_code=_GONE) if body is None else Response(body, media_type="image/png")

        return await service.admitted(request, handle)

    @app.get("/api/remove", include_in_schema=False)
    async def rembg_url() -> None:
        raise NotServed(
            "this server never fetches images from URLs; POST the image as the multipart field 'file'"
        )


def _add_image_route(app: FastAPI, service: Service, verb: str) -> None:
    settings = service.settings
    summaries = {
        "remove": "Cut the subject out (transparent PNG or WebP)",
        "replace": "Put the subject on a new background (colour, picture, or blur)",
        "mask": "The 8-bit mask (255 = subject), as a greyscale PNG",
        "sticker": "A sticker: the cutout cropped to the subject, outlined and shadowed",
    }

    async def endpoint(request: Request) -> Any:
        async def handle(slot: Slot, upload: Upload) -> Any:
            fields = merged_fields(request.query_params.multi_items(), upload)
            job = image_request(verb, fields, upload, max_pixels=settings.max_pixels)
            result = await service.run(request, slot, lambda: service.image_work(job))
            if result is None:
                return Response(status_code=_GONE)
            body, headers = result
            headers["Content-Disposition"] = _content_disposition(job.name, verb, job.fmt)
            return Response(body, media_type=job.media_type, headers=headers)

        return await service.admitted(request, handle)

    app.add_api_route(
        f"/v1/{verb}",
        endpoint,
        methods=["POST"],
        tags=["images"],
        summary=summaries[verb],
        name=verb,
        response_class=Response,
        responses=docs.IMAGE_RESPONSES,
        openapi_extra={"requestBody": docs.verb_body(verb)},
    )
