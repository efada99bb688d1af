"""The OpenAPI description of the endpoints whose bodies the server reads itself.

The image endpoints read their upload in memory (see `mattekit.server.uploads`), so FastAPI
cannot see their fields; these schemas describe them for /docs, built from the same
`OPTION_TEXTS` and `VERB_OPTIONS` as the command line's flags.
"""

from __future__ import annotations

from typing import Any

from mattekit.options import OPTION_TEXTS, VERB_OPTIONS
from mattekit.server.rembg import REMBG_MODELS

__all__ = ["IMAGE_RESPONSES", "rembg_body", "verb_body"]

_BINARY = {"type": "string", "format": "binary"}

IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}, "image/webp": {}, "image/jpeg": {}}, "description": "The image."},
    401: {"description": "No API key, or the wrong one."},
    413: {"description": "The upload or the image's pixel count is over the server's limit."},
    415: {"description": "Not an image format mattekit decodes."},
    422: {"description": "A corrupt image, or a bad option (the body names it)."},
    503: {"description": "Busy (Retry-After says when to come back), or a model is missing."},
    504: {"description": "The work took longer than the server's timeout."},
}


def _option_schema(name: str) -> dict[str, Any]:
    text = OPTION_TEXTS[name]
    kind = {"int": "integer", "float": "number", "bool": "boolean"}.get(text.kind, "string")
    schema: dict[str, Any] = {"type": kind, "description": text.help}
    if text.choices:
        schema["enum"] = list(text.choices)
    if text.multiple:
        return {"type": "array", "items": schema, "description": text.help}
    return schema


def verb_body(verb: str) -> dict[str, Any]:
    """The request body of ``POST /v1/<verb>``: a multipart form, or the image itself."""
    properties: dict[str, Any] = {"file": {**_BINARY, "description": "The image."}}
    for name in VERB_OPTIONS[verb]:
        properties[name] = _option_schema(name)
    if verb in ("replace", "video"):
        properties["bg"] = {
            "description": "A colour ('white', '#00ff00'), blur[:RADIUS], or a picture uploaded as a file.",
            "oneOf": [{"type": "string"}, _BINARY],
        }
    if verb in ("remove", "replace", "sticker"):
        properties["format"] = {
            "type": "string",
            "enum": ["png", "webp", "jpeg"],
            "description": "Answer type.",
        }
    if verb == "video":
        properties["format"] = {
            "type": "string",
            "enum": ["mp4", "webm", "mov", "mkv", "gif", "webp"],
            "description": "Output (default: mp4, or webm with alpha for a cutout).",
        }
    if verb == "classes":
        properties["min_share"] = {"type": "number", "description": "Leave out classes under this share."}
    return {
        "description": "The image as the multipart field 'file' with options beside it, or the raw "
        "image as the body with options in the query string. Every option also works as a query "
        "parameter.",
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": properties}
            },
            "image/*": {"schema": _BINARY},
        },
    }


def rembg_body() -> dict[str, Any]:
    """The request body of rembg's ``POST /api/remove``."""
    flag = {"type": "boolean", "default": False}
    properties = {
        "file": {**_BINARY, "description": "The image."},
        "model": {"type": "string", "enum": list(REMBG_MODELS), "default": "u2net"},
        "a": {**flag, "description": "Alpha matting (refine=matting)."},
        "af": {"type": "integer", "minimum": 0, "maximum": 255, "default": 240},
        "ab": {"type": "integer", "minimum": 0, "maximum": 255, "default": 10},
        "ae": {"type": "integer", "minimum": 0, "default": 10},
        "om": {**flag, "description": "Only the mask."},
        "ppm": {**flag, "description": "Post-process the mask (a hard mask)."},
    }
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": properties}
            }
        },
    }
