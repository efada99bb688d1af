"""From a request's fields to `RemoveOptions`, with the library's one string parser.

Each endpoint takes the options of its command-line verb (`VERB_OPTIONS`), by the same
names, from the query string or the form, and answers a bad one with 422 naming it, as
`RemoveOptions.from_strings` words it. Besides those:

- ``format``: png, webp or jpeg (the answer's type; remove, replace and sticker).
- ``bg`` (replace): a colour, ``blur[:R]`` or ``transparent`` as text, or a picture uploaded
  as the file field ``bg``. A text ``bg`` is never read as a path: the server opens no file
  a client names.
- ``max_pixels`` may lower the server's pixel limit, never raise it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mattekit.errors import InputError, OptionError
from mattekit.options import OPTION_TEXTS, VERB_OPTIONS, RemoveOptions
from mattekit.server.jobs import OUTPUT_FORMATS
from mattekit.server.uploads import FilePart, Upload
from mattekit.stages.compose import parse_color

__all__ = ["FORMATS", "VIDEO_FORMATS", "ImageRequest", "image_request", "merged_fields", "upload_name"]

FORMATS = {"png": "PNG", "webp": "WEBP", "jpeg": "JPEG", "jpg": "JPEG"}
"""Output formats by the names a client may give."""

MEDIA_TYPES = {"PNG": "image/png", "WEBP": "image/webp", "JPEG": "image/jpeg"}

_OUTPUTS = {
    "remove": "image",
    "replace": "image",
    "mask": "mask",
    "sticker": "sticker",
    "classes": "class-map",
    "video": "image",
}
VIDEO_FORMATS = tuple(OUTPUT_FORMATS)
"""What a video job may make ("" in a request: mp4, or webm for a transparent cutout)."""
_DEFAULT_FORMATS = {"replace": "JPEG"}
_EXTRA_FIELDS = {"classes": ("min_share",)}


@dataclass
class ImageRequest:
    """One image request, checked: what to do to which image.

    Attributes:
        image: the uploaded image.
        name: how error messages call it.
        options: the options (a picture background is added in the worker: see `background`).
        background: an uploaded background picture, decoded where the work runs.
        fmt: "PNG", "WEBP" or "JPEG"; for a video, one of `VIDEO_FORMATS` or "" (the default).
        extra: the fields that are not options (``min_share``).
    """

    image: FilePart
    name: str
    options: RemoveOptions
    background: bytes | None
    fmt: str
    extra: dict[str, str]

    @property
    def media_type(self) -> str:
        """The answer's Content-Type."""
        return MEDIA_TYPES[self.fmt]


def upload_name(part: FilePart) -> str:
    """A short, printable name for an upload in messages: the file's base name, or "upload"."""
    base = os.path.basename(part.filename.replace("\\", "/"))
    printable = "".join(ch for ch in base if ch.isprintable())[:80]
    return printable or "upload"


def merged_fields(query: Iterable[tuple[str, str]], upload: Upload) -> dict[str, list[str]]:
    """Query and form fields together, keyed by canonical option name ("max-pixels" ->
    "max_pixels"; "background" -> "bg")."""
    merged: dict[str, list[str]] = {}
    pairs = [*query, *((name, value) for name, values in upload.fields.items() for value in values)]
    for name, value in pairs:
        key = name.replace("-", "_").strip().lower()
        merged.setdefault("bg" if key == "background" else key, []).append(value)
    return merged


def image_request(
    verb: str, fields: Mapping[str, list[str]], upload: Upload, *, max_pixels: int
) -> ImageRequest:
    """Check a request's fields and files for `verb` ("remove", "replace", "mask",
    "sticker" or "classes").

    Raises:
        OptionError: an unknown, misplaced, repeated or bad option (422, naming it).
        InputError: no image was sent (422).
    """
    allowed = VERB_OPTIONS[verb]
    strings: dict[str, str | list[str]] = {}
    extra: dict[str, str] = {}
    for key, values in fields.items():
        if key in _EXTRA_FIELDS.get(verb, ("format",)):
            extra[key] = _single(key, values)
        elif key in OPTION_TEXTS and key not in allowed:
            raise OptionError(
                f"{key}: /v1/{verb} does not take this option; it takes {', '.join(allowed)}", key
            )
        elif key in OPTION_TEXTS and OPTION_TEXTS[key].multiple:
            strings[key] = list(values)
        else:
            strings[key] = _single(key, values)  # an unknown key is named by the parser below
    image = upload.files.get("file")
    if image is None:
        raise InputError("no image: send it as the multipart field 'file' or as the request body")
    unexpected = sorted(set(upload.files) - {"file", "bg"})
    if unexpected or ("bg" in upload.files and "bg" not in allowed):
        name = unexpected[0] if unexpected else "bg"
        raise OptionError(f"{name}: /v1/{verb} takes no file in this field (the image goes in 'file')", name)
    background = upload.files["bg"].data if "bg" in upload.files else None
    text_bg = str(strings.get("bg", "")).strip()
    if background is not None and text_bg:
        raise OptionError("bg: give a colour or blur as text, or a picture as a file, not both", "bg")
    if text_bg:
        _check_bg_text(text_bg)
    if verb == "replace" and background is None and not text_bg:
        raise OptionError("bg: required: a colour, blur[:RADIUS], or a picture in the file field 'bg'", "bg")
    strings["max_pixels"] = str(_pixel_limit(strings.get("max_pixels"), max_pixels))
    options = RemoveOptions.from_strings({**strings, "output": _OUTPUTS[verb]})
    return ImageRequest(image, upload_name(image), options, background, _format(verb, extra), extra)


def _single(key: str, values: list[str]) -> str:
    if len(set(values)) > 1:
        raise OptionError(f"{key}: given more than once ({', '.join(repr(v) for v in values)})", key)
    return values[0]


def _check_bg_text(text: str) -> None:
    """A background as text must be a colour, blur or transparent: never a server path."""
    lower = text.lower()
    if lower in ("none", "transparent", "blur") or lower.startswith("blur:"):
        return
    try:
        parse_color(text)
    except OptionError:
        raise OptionError(
            f"bg: '{text}' is not a colour (a name like 'white' or a code like '#00ff00'), 'blur', "
            "'blur:RADIUS' or 'transparent'; upload a background picture as the file field 'bg'",
            "bg",
        ) from None


def _pixel_limit(given: object, server_limit: int) -> int:
    if not given:
        return server_limit
    text = str(given).strip()
    if not text.isdigit() or int(text) < 1:
        raise OptionError(f"max_pixels: '{text}' is not a whole number >= 1", "max_pixels")
    if int(text) > server_limit:
        raise OptionError(f"max_pixels: at most the server's limit, {server_limit}", "max_pixels")
    return int(text)


def _format(verb: str, extra: dict[str, str]) -> str:
    given = extra.get("format", "").strip().lower().lstrip(".")
    if verb == "classes":
        return "PNG"  # answered as JSON
    if verb == "video":
        if given and given not in VIDEO_FORMATS:
            raise OptionError(f"format: '{given}' is not one of {', '.join(VIDEO_FORMATS)}", "format")
        return given
    if verb == "mask":
        if given and given != "png":
            raise OptionError(f"format: /v1/{verb} answers PNG only", "format")
        return "PNG"
    if not given:
        return _DEFAULT_FORMATS.get(verb, "PNG")
    if given not in FORMATS:
        raise OptionError(f"format: '{given}' is not one of png, webp, jpeg", "format")
    return FORMATS[given]
