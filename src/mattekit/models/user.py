"""The user-model store: ONNX models a user adds with `mattekit models add`.

Layout: ``<home>/user/<name>/model.onnx`` and ``<home>/user/<name>/card.json`` beside the
built-in cache (``<home>/models``). The card holds what `ModelSpec` needs (task, input
size, normalisation, layout) and the copied file's sha256, which is checked whenever the
model is loaded, as for built-in models. A model is added or replaced as a whole folder,
renamed into place, so readers see the old model or the new one, never a mix.

This module only stores models; `mattekit.custom.add_model` also checks that a model fits
its card before keeping it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mattekit.errors import ModelError, OptionError
from mattekit.models.fetch import cache_home
from mattekit.models.registry import MODELS, ModelSpec, UserSource

__all__ = [
    "CARD_FILE",
    "LAYOUTS",
    "MODEL_FILE",
    "TASKS",
    "UserSource",
    "add_command",
    "add_user_model",
    "check_name",
    "check_new_name",
    "is_user_model",
    "remove_user_model",
    "user_dir",
    "user_models",
    "user_names",
    "user_root",
    "user_spec",
]

log = logging.getLogger("mattekit")

MODEL_FILE = "model.onnx"
"""The stored model file's name inside a user model's folder."""

CARD_FILE = "card.json"
"""The card's name inside a user model's folder."""

TASKS = ("subject", "person")
"""Tasks a user model may have: both give one soft mask."""

LAYOUTS = ("NCHW", "NHWC")
"""Input layouts a user model may have."""

_CARD_FORMAT = 1
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MAX_NAME = 64
_CHUNK = 1 << 20


def user_root() -> Path:
    """The folder that holds every user model: ``<cache home>/user``."""
    return cache_home() / "user"


def user_dir(name: str) -> Path:
    """The folder of user model `name` (it may not exist)."""
    return user_root() / name


def _valid_name(name: str) -> bool:
    return len(name) <= _MAX_NAME and _NAME.fullmatch(name) is not None


def check_name(name: str) -> None:
    """Check that `name` may name a user model: kebab-case and not a built-in model.

    Raises:
        OptionError: the name is not kebab-case, or a built-in model has it.
    """
    if not _valid_name(name):
        raise OptionError(
            f"model name '{name}' is not kebab-case: use lower-case letters, digits and "
            f"single hyphens, at most {_MAX_NAME} characters, e.g. 'my-model'"
        )
    if name in MODELS:
        raise OptionError(f"model name '{name}' is taken by a built-in model; choose another name")


def check_new_name(name: str, replace: bool = False) -> None:
    """Check `name` for a model about to be added (see `check_name`).

    Raises:
        OptionError: the name is not allowed, or a user model has it and `replace` is False.
    """
    check_name(name)
    if not replace and (user_dir(name) / CARD_FILE).is_file():
        try:
            origin = f" (added from {_source_path(user_spec(name))})"
        except ModelError:
            origin = ""
        raise OptionError(
            f"user model '{name}' already exists{origin}; pass --replace (replace=True) "
            "to overwrite it, or choose another name"
        )


def _source_path(spec: ModelSpec | None) -> str:
    if spec is not None and isinstance(spec.source, UserSource):
        return spec.source.path
    return "?"


def is_user_model(spec: ModelSpec) -> bool:
    """True for a card read from the user-model store."""
    return isinstance(spec.source, UserSource)


def user_names() -> list[str]:
    """The names of the stored user models, sorted."""
    root = user_root()
    if not root.is_dir():
        return []
    return sorted(
        entry.name
        for entry in root.iterdir()
        if _valid_name(entry.name) and entry.name not in MODELS and (entry / CARD_FILE).is_file()
    )


def user_spec(name: str) -> ModelSpec | None:
    """The card of user model `name`, or None when there is no such user model.

    Raises:
        ModelError: the model's card file is damaged.
    """
    if not _valid_name(name) or name in MODELS:
        return None
    path = user_dir(name) / CARD_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _damaged(name, path, exc) from None
    try:
        return _spec_from_card(name, json.loads(text))
    except (ValueError, TypeError, KeyError) as exc:
        raise _damaged(name, path, exc) from None


def user_models() -> list[ModelSpec]:
    """The cards of every stored user model, by name; damaged cards are logged and skipped."""
    specs = []
    for name in user_names():
        try:
            spec = user_spec(name)
        except ModelError as exc:
            log.warning("%s", exc)
            continue
        if spec is not None:
            specs.append(spec)
    return specs


def _damaged(name: str, path: Path, exc: BaseException) -> ModelError:
    return ModelError(
        f"user model '{name}': damaged card {path} ({exc}); remove it with "
        f"`mattekit models remove {name}` and add the model again"
    )


def _triple(value: Any, what: str) -> tuple[float, float, float]:
    items = [float(v) for v in value]
    if len(items) != 3 or not all(math.isfinite(v) for v in items):
        raise ValueError(f"{what} must be 3 finite numbers, got {value!r}")
    return items[0], items[1], items[2]


def _spec_from_card(name: str, card: dict[str, Any]) -> ModelSpec:
    if card.get("format") != _CARD_FORMAT:
        raise ValueError(f"unknown card format {card.get('format')!r}")
    height, width = (int(v) for v in card["input_size"])
    spec = ModelSpec(
        name=name,
        task=str(card["task"]),
        description=str(card.get("description", "")),
        license=str(card.get("license", "unknown")),
        source=UserSource(str(card["source"])),
        filename=MODEL_FILE,
        sha256=str(card["sha256"]),
        size=int(card["size"]),
        input_size=(height, width),
        mean=_triple(card["mean"], "mean"),
        std=_triple(card["std"], "std"),
        layout=str(card["layout"]),
    )
    if spec.task not in TASKS or spec.layout not in LAYOUTS:
        raise ValueError(f"task {spec.task!r} or layout {spec.layout!r} is not allowed")
    return spec


def _card(spec: ModelSpec) -> dict[str, Any]:
    return {
        "format": _CARD_FORMAT,
        "name": spec.name,
        "task": spec.task,
        "description": spec.description,
        "license": spec.license,
        "source": _source_path(spec),
        "sha256": spec.sha256,
        "size": spec.size,
        "input_size": list(spec.input_size),
        "mean": list(spec.mean),
        "std": list(spec.std),
        "layout": spec.layout,
    }


def add_command(spec: ModelSpec) -> str:
    """The `mattekit models add` command that adds `spec`'s model again (for messages)."""
    height, width = spec.input_size
    triple = ",".join
    command = (
        f"mattekit models add {spec.name} {_source_path(spec)} --task {spec.task} "
        f"--size {width}x{height} --mean {triple(f'{v:g}' for v in spec.mean)} "
        f"--std {triple(f'{v:g}' for v in spec.std)} --layout {spec.layout}"
    )
    if spec.license != "unknown":
        command += f" --license {spec.license}"
    return command + " --replace"


def _checked_card(
    task: str,
    input_size: tuple[int, int],
    mean: Sequence[float],
    std: Sequence[float],
    layout: str,
) -> tuple[str, tuple[int, int], tuple[float, float, float], tuple[float, float, float], str]:
    if task not in TASKS:
        raise OptionError(
            f"task: '{task}' cannot be a user model's task; choose one of: {', '.join(TASKS)}",
            option="task",
        )
    height, width = input_size
    if not (isinstance(height, int) and isinstance(width, int) and height > 0 and width > 0):
        raise OptionError(f"size: must be two positive whole numbers, got {input_size!r}", "size")
    try:
        m = _triple(mean, "mean")
    except (TypeError, ValueError):
        raise OptionError(f"mean: must be 3 finite numbers (R,G,B), got {mean!r}", "mean") from None
    try:
        s = _triple(std, "std")
    except (TypeError, ValueError):
        raise OptionError(f"std: must be 3 finite numbers (R,G,B), got {std!r}", "std") from None
    if any(v == 0 for v in s):
        raise OptionError(f"std: must not be 0, got {std!r}", option="std")
    upper = layout.upper()
    if upper not in LAYOUTS:
        raise OptionError(f"layout: must be one of {', '.join(LAYOUTS)}, got '{layout}'", "layout")
    return task, (height, width), m, s, upper


def add_user_model(
    name: str,
    file: str | os.PathLike[str],
    *,
    task: str,
    input_size: tuple[int, int],
    mean: Sequence[float] = (0.0, 0.0, 0.0),
    std: Sequence[float] = (1.0, 1.0, 1.0),
    layout: str = "NCHW",
    license: str = "unknown",
    description: str = "",
    replace: bool = False,
    check: Callable[[ModelSpec], None] | None = None,
) -> ModelSpec:
    """Copy an ONNX file into the store with its card and sha256.

    Args:
        name: the new model's kebab-case name (not a built-in model's).
        file: the ONNX file; it is copied, so it may be moved or deleted afterwards.
        task: "subject" or "person".
        input_size: (height, width) the model takes.
        mean, std: per-channel normalisation on values scaled to 0..1 (see `ModelSpec`).
        layout: "NCHW" or "NHWC".
        license: the weights' license, "unknown" unless given.
        description: one line for `mattekit models list`; a default names the task and size.
        replace: overwrite a user model of the same name.
        check: called with the stored model's card once it is in place; if it raises, the
            new model is removed again (and a replaced one put back) before the error goes on.

    Returns:
        The stored model's card.

    Raises:
        OptionError: a bad name or card value, or the name is taken and `replace` is False.
        ModelError: the file is missing or cannot be read or stored.
    """
    check_new_name(name, replace)
    task, input_size, m, s, layout = _checked_card(task, input_size, mean, std, layout)
    source = Path(file)
    if not source.is_file():
        raise ModelError(f"{source}: no such file to add as model '{name}'")
    height, width = input_size
    root = user_root()
    root.mkdir(parents=True, exist_ok=True)
    stage = root / f".{name}.new-{secrets.token_hex(4)}"
    stage.mkdir()
    try:
        sha256, size = _copy(source, stage / MODEL_FILE)
        spec = ModelSpec(
            name=name,
            task=task,
            description=description or f"user {task} model, {width}x{height} {layout}",
            license=license or "unknown",
            source=UserSource(str(source.resolve())),
            filename=MODEL_FILE,
            sha256=sha256,
            size=size,
            input_size=input_size,
            mean=m,
            std=s,
            layout=layout,
        )
        text = json.dumps(_card(spec), indent=2) + "\n"
        (stage / CARD_FILE).write_text(text, encoding="utf-8")
        with _locked(name):
            check_new_name(name, replace)  # another process may have added it meanwhile
            with _swapped_in(stage, user_dir(name)):
                if check is not None:
                    check(spec)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return spec


def remove_user_model(name: str) -> Path:
    """Delete user model `name` (its file and card).

    Returns:
        The folder that was removed.

    Raises:
        OptionError: `name` is a built-in model, or no user model has it.
    """
    if name in MODELS:
        raise OptionError(f"'{name}' is a built-in model; only user models can be removed")
    target = user_dir(name)
    if not _valid_name(name) or not target.is_dir():
        names = ", ".join(user_names()) or "none"
        raise OptionError(f"no user model '{name}'; user models: {names}")
    with _locked(name):
        if target.is_dir():
            gone = target.with_name(f".{name}.gone-{secrets.token_hex(4)}")
            os.replace(target, gone)
            shutil.rmtree(gone, ignore_errors=True)
    return target


# -- file operations ----------------------------------------------------------------------


@contextmanager
def _locked(name: str) -> Iterator[None]:
    """The same lock file as `mattekit.models.fetch` takes for the model's folder."""
    root = user_root()
    root.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock  # only when the store is written

    with FileLock(str(root / f".{name}.lock")):
        yield


def _copy(source: Path, target: Path) -> tuple[str, int]:
    """Copy a file, returning its sha256 and size; the copy is synced to disk."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(source, "rb") as src, open(target, "wb") as out:
            while block := src.read(_CHUNK):
                digest.update(block)
                size += len(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise ModelError(f"{source}: cannot copy it into the model store ({exc})") from None
    return digest.hexdigest(), size


@contextmanager
def _swapped_in(stage: Path, target: Path) -> Iterator[None]:
    """Rename `stage` to `target` (setting an old `target` aside); undo it if the body fails."""
    old: Path | None = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
        os.replace(target, old)
    os.replace(stage, target)
    try:
        yield
    except BaseException:
        os.replace(target, stage)  # the caller deletes the stage
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
