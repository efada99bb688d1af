"""The batch command: every photo of a folder tree, resumable, on every core or on Ray.

Its option flags are the image commands' own (the same click options, taken from the
registered `remove`, `replace`, `mask` and `sticker` commands), so a flag means the same
thing everywhere; `--as VERB` says which command's output to make, and a flag that command
does not take is a usage error.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import click

from mattekit import MattekitError
from mattekit.batch import ENGINES, VERBS, run_batch
from mattekit.cli import images
from mattekit.cli.common import Settings, cli, log, stop

__all__ = ["batch"]

_REGISTERED = (images,)  # the image commands must be on `cli` before their flags are read

_OWN = ("inputs", "target")  # the single-file commands' inputs and -o, which batch replaces
_CLASS_MAP_OPTIONS = ("quality", "device", "max_pixels")  # what `mask --classes` keeps, as there


def _verb_command(verb: str) -> click.Command:
    return cli.commands[verb]


def _flag(param: click.Parameter) -> str:
    opts = [o for o in param.opts if o.startswith("--")]
    return opts[0] if opts else param.opts[0]


def _verb_params() -> list[click.Parameter]:
    """Every option flag of the image commands, once, not required, its help naming the verbs
    that take it when not all do."""
    owners: dict[str, list[str]] = {}
    found: dict[str, click.Parameter] = {}
    for verb in VERBS:
        for param in _verb_command(verb).params:
            if param.name is None or param.name in _OWN:
                continue
            owners.setdefault(param.name, []).append(verb)
            found.setdefault(param.name, param)
    params = []
    for name, param in found.items():
        clone = copy.copy(param)
        clone.required = False
        if len(owners[name]) < len(VERBS) and isinstance(clone, click.Option):
            clone.help = f"{clone.help or ''} [--as {'|'.join(owners[name])}]".strip()
        params.append(clone)
    return params


@cli.command()
@click.argument("in_dir", metavar="IN_DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    metavar="OUT_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the outputs; the input tree is mirrored in it.",
)
@click.option(
    "--as",
    "verb",
    type=click.Choice(list(VERBS)),
    default="remove",
    show_default=True,
    help="What to make, named as that command names it (photo.cutout.png, "
    "photo.replaced.jpg, photo.mask.png, photo.sticker.png); it takes that command's flags.",
)
@click.option("-r", "--recursive", is_flag=True, help="Include sub-folders.")
@click.option(
    "--pattern",
    "patterns",
    multiple=True,
    metavar="GLOB",
    help="File names to take, any letter case (repeatable; default: the image formats).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (local) or Ray actors, each with its own models "
    "[default: one per core, as memory allows; ray: the cluster's CPUs].",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="ONNX Runtime threads per worker [default: $MATTEKIT_THREADS, else cores / workers].",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=None,
    help="local: processes on this machine; ray: Ray Data, here or on a cluster "
    "(pip install 'mattekit[ray]') [default: local, ray with --ray-address].",
)
@click.option(
    "--ray-address",
    metavar="ADDR",
    help="An existing Ray cluster (auto, HOST:PORT, ray://HOST:PORT); else Ray starts here.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSONL report: one line per input, then the counts [default: OUT_DIR/mattekit-report.jsonl].",
)
@click.option(
    "--checksum",
    is_flag=True,
    help="Tell changed inputs by their SHA-256 instead of size and modification time.",
)
@click.pass_obj
def batch(settings: Settings, /, in_dir: Path, out_dir: Path, verb: str, recursive: bool,
          patterns: tuple[str, ...], workers: int | None, threads: int | None, engine: str | None,
          ray_address: str | None, report: Path | None, checksum: bool, **values: Any) -> None:  # fmt: skip
    """Process every photo in IN_DIR into OUT_DIR: resumable, on every core, or on Ray.

    Outputs mirror the input folders. Run it again after a stop (or a kill) and only what is
    missing is made; a changed input or option makes it again. A bad photo is reported and
    skipped (exit 1 at the end).

    Examples: mattekit batch photos/ -o cutouts/ -r -s person -Q fast;
    mattekit batch shop/ -o white/ --as replace --bg white --workers 4;
    mattekit batch photos/ -o out/ --engine ray --ray-address auto
    """
    engine = engine or ("ray" if ray_address else "local")
    if ray_address and engine != "ray":
        raise click.UsageError("--ray-address needs --engine ray")
    options, fmt = _verb_options(verb, values)
    try:
        summary = run_batch(
            in_dir, out_dir, options, verb=verb, fmt=fmt, recursive=recursive, patterns=patterns,
            engine=engine, workers=workers, threads=threads, ray_address=ray_address, report=report,
            checksum=checksum, on_failure=lambda message: click.echo(f"mattekit: error: {message}", err=True),
        )  # fmt: skip
    except MattekitError as exc:
        stop(exc, settings)
    except KeyboardInterrupt:
        click.echo("mattekit: interrupted; run the same command again to finish the rest", err=True)
        raise SystemExit(130) from None
    log.info("%s", summary.line())
    if summary.failed:
        raise SystemExit(1)


def _verb_options(verb: str, values: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The option texts for `run_batch`, after checking each given flag belongs to the verb."""
    params = {p.name: p for p in _verb_command(verb).params if p.name not in _OWN}
    given = [name for name, value in values.items() if value not in (None, (), False)]
    for name in given:
        if name not in params:
            owners = [v for v in VERBS if any(p.name == name for p in _verb_command(v).params)]
            flag = next(_flag(p) for p in batch.params if p.name == name)
            raise click.UsageError(
                f"{flag} is not an option of `mattekit {verb}`; it goes with --as {' or --as '.join(owners)}"
            )
    for name, param in params.items():
        if param.required and values.get(name) is None:
            raise click.UsageError(f"--as {verb} needs {_flag(param)}")
    fmt = values.pop("fmt", None)
    if values.pop("class_map", False):
        values = {k: values[k] for k in _CLASS_MAP_OPTIONS} | {"output": "class-map"}
    return {k: _as_text(v) for k, v in values.items()}, fmt


def _as_text(value: Any) -> str | tuple[str, ...] | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value  # type: ignore[no-any-return]


batch.params.extend(_verb_params())
