"""Writing encoded bytes to disk: atomically (`write_atomic`), never over an input (`ensure_not_input`)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from mattekit.errors import InputError, OptionError
from mattekit.io.atomic import atomic_writer

__all__ = ["ensure_not_input", "write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write bytes to a file so that readers see the old file or the whole new one, never a part.

    The data goes to a hidden temporary file in the same folder, is flushed to disk, then renamed over
    ``path``. On any failure the temporary file is removed and ``path`` is left as it was.

    Args:
        path: The file to create or replace.
        data: Its new contents.

    Raises:
        OptionError: The folder does not exist, or ``path`` is a folder.
        OSError: Any other failure to write (disk full, permission denied).
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise OptionError(f"{target}: the output folder {folder} does not exist")
    if target.is_dir():
        raise OptionError(f"{target}: is a folder; give a file name such as {target / 'out.png'}")
    with atomic_writer(target) as handle:
        handle.write(data)


def ensure_not_input(output: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]]) -> None:
    """Refuse an output path that is one of the inputs, however it is spelled.

    Relative and absolute spellings, ``..`` segments, symlinks and hard links to an input are all caught.

    Args:
        output: The path about to be written.
        inputs: The paths being read.

    Raises:
        InputError: ``output`` is the same file as an input.
    """
    out = Path(output)
    out_exists = out.exists()
    out_resolved = os.path.normcase(out.resolve())
    for item in inputs:
        src = Path(item)
        if out_exists and src.exists():
            same = os.path.samefile(out, src)
        else:
            same = out_resolved == os.path.normcase(src.resolve())
        if same:
            raise InputError(f"{out}: this output is the input {src}; choose another output path or folder")
