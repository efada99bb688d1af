"""Reading a request's upload into memory, within the byte limit and the timeout.

An image comes as a multipart form (its file in the field ``file``; text fields beside it)
or as the raw request body. Nothing is written to disk: the body is read in chunks, counted
against the limit as it arrives (413 as soon as it is over, or at once when Content-Length
says so), and multipart forms are parsed in memory with python-multipart's parser.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from mattekit.errors import InputError, InputTooLargeError, OptionError
from mattekit.server.faults import UploadTimeout

__all__ = ["FilePart", "Upload", "read_upload"]

_MAX_FILES = 4
_MAX_FIELDS = 64
_MAX_FIELD_BYTES = 8192


@dataclass
class FilePart:
    """One uploaded file: its bytes, and the name and type the client gave."""

    data: bytes
    filename: str = ""
    content_type: str = ""


@dataclass
class Upload:
    """A request's upload: files by field name, and text fields (each may repeat)."""

    files: dict[str, FilePart] = field(default_factory=dict)
    fields: dict[str, list[str]] = field(default_factory=dict)


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


async def read_upload(request: Request, *, limit: int, timeout: float) -> Upload:
    """The request's files and form fields; a raw (non-form) body is the file ``file``.

    Args:
        request: the request, its body not read yet.
        limit: the most bytes the body may have.
        timeout: seconds the whole body may take to arrive.

    Raises:
        InputTooLargeError: the body is over `limit` (413).
        InputError: an empty body or a malformed form (422).
        UploadTimeout: the body took longer than `timeout` (408).
        starlette.requests.ClientDisconnect: the client went away.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    try:
        body = await asyncio.wait_for(_read_body(request, limit), timeout)
    except asyncio.TimeoutError:
        raise UploadTimeout(f"the upload did not arrive within {timeout:g} s") from None
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    if kind == b"multipart/form-data":
        return _parse_multipart(body, params.get(b"boundary", b""))
    if kind == b"application/x-www-form-urlencoded":
        raise InputError("send the image as multipart/form-data (field 'file') or as the raw body")
    if not body:
        raise InputError("no image: send it as multipart field 'file' or as the request body")
    return Upload(files={"file": FilePart(body, "", kind.decode("latin-1"))})


def _too_large(size: int, limit: int) -> InputTooLargeError:
    return InputTooLargeError(
        f"upload: {_megabytes(size)} is over the server's limit of {_megabytes(limit)}"
        " (the server's --max-upload)"
    )


async def _read_body(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


class _FormReader:
    """Callbacks that gather one multipart body's parts in memory."""

    def __init__(self) -> None:
        self.upload = Upload()
        self._headers: dict[bytes, bytes] = {}
        self._name = b""
        self._value = b""
        self._data = bytearray()
        self._count = 0

    def on_part_begin(self) -> None:
        self._headers = {}
        self._data = bytearray()
        self._count += 1
        if self._count > _MAX_FILES + _MAX_FIELDS:
            raise InputError(f"form: more than {_MAX_FILES + _MAX_FIELDS} parts")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._name.lower()] = self._value
        self._name = self._value = b""

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._data += data[start:end]

    def on_part_end(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if not name:
            raise InputError("form: a part has no name (Content-Disposition: form-data; name=...)")
        if b"filename" in options:
            if len(self.upload.files) >= _MAX_FILES or name in self.upload.files:
                raise OptionError(f"{name}: one file per field, at most {_MAX_FILES} files", name)
            self.upload.files[name] = FilePart(
                bytes(self._data),
                options[b"filename"].decode("utf-8", "replace"),
                self._headers.get(b"content-type", b"").decode("latin-1"),
            )
            return
        if len(self._data) > _MAX_FIELD_BYTES:
            raise OptionError(f"{name}: the field is over {_MAX_FIELD_BYTES} bytes", name)
        self.upload.fields.setdefault(name, []).append(self._data.decode("utf-8", "replace"))


def _parse_multipart(body: bytes, boundary: bytes) -> Upload:
    if not boundary:
        raise InputError("form: multipart/form-data without a boundary")
    reader = _FormReader()
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": reader.on_part_begin,
            "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value,
            "on_header_end": reader.on_header_end,
            "on_part_data": reader.on_part_data,
            "on_part_end": reader.on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except (InputError, OptionError):
        raise
    except Exception as exc:  # python-multipart raises its own error types, and ValueError
        raise InputError(f"form: malformed multipart body ({exc})") from None
    return reader.upload
