"""The image commands: remove, replace, mask, sticker and classes.

Each command turns its flags into `RemoveOptions` with the library's one string parser,
builds one Remover (checking every option and loading every model before any input is
read), and runs it over the inputs. The flags, their help and their choices come from
`mattekit.OPTION_TEXTS`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from mattekit import (
    OPTION_TEXTS,
    MattekitError,
    ModelError,
    OptionError,
    RemoveOptions,
    Remover,
    class_report,
)
from mattekit.cli.common import Settings, cli, fail_line, log, stop, usage_error
from mattekit.cli.video import remove_animation
from mattekit.io.names import OUTPUT_NAMES, OutputName
from mattekit.options import VERB_OPTIONS

__all__ = ["classes", "mask", "remove", "replace", "sticker"]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

# The library options each command takes, besides inputs, -o and -f: `VERB_OPTIONS`.
_DEFAULTS = {"subject": "auto", "quality": "balanced"}


def _flag(name: str, *, required: bool = False) -> Decorator:
    """The click option for library option `name`, from its `OPTION_TEXTS` entry."""
    text = OPTION_TEXTS[name]
    long = "--" + name.replace("_", "-")
    help_text = text.help + (f" [default: {_DEFAULTS[name]}]" if name in _DEFAULTS else "")
    if text.kind == "bool" and name == "estimate_foreground":
        return click.option(f"{long}/--no-{long[2:]}", name, default=None, help=help_text + " [default: on]")
    if text.kind == "bool":
        return click.option(long, name, is_flag=True, default=None, help=help_text)
    decls = [text.short, long] if text.short else [long]
    return click.option(*decls, name, default=None, required=required, metavar=text.metavar or None,
                        multiple=text.multiple, help=help_text)  # fmt: skip


def _options(*names: str, required: tuple[str, ...] = ()) -> Decorator:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for name in reversed(names):
            fn = _flag(name, required=name in required)(fn)
        fn = click.option("-o", "--output", "target", default=None,
                          help="Output file, folder, or - for stdout (default: beside each input).")(fn)  # fmt: skip
        return click.argument("inputs", nargs=-1, required=True)(fn)

    return decorate


def _format_flag(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-f", "--format", "fmt", default=None, metavar="png|webp|jpg",
                        help="Output format (default: from the output name).")(fn)  # fmt: skip


@cli.command()
@_options(*VERB_OPTIONS["remove"])
@_format_flag
@click.pass_obj
def remove(
    settings: Settings, /, inputs: tuple[str, ...], target: str | None, fmt: str | None, **values: Any
) -> None:
    """Cut the subject out: a transparent PNG (or WebP) per input.

    Examples: mattekit remove photo.jpg  (writes photo.cutout.png);
    mattekit remove paddock.jpg --keep horse --drop person
    """
    _run(settings, inputs, target, fmt, values, output="image", naming=OUTPUT_NAMES["remove"])


@cli.command()
@_options(*VERB_OPTIONS["replace"], required=("bg",))
@_format_flag
@click.pass_obj
def replace(
    settings: Settings, /, inputs: tuple[str, ...], target: str | None, fmt: str | None, **values: Any
) -> None:
    """Put the subject on a new background (image, colour, or the blurred original).

    Example: mattekit replace photo.jpg --bg blur:20  (writes photo.replaced.jpg)
    """
    _run(settings, inputs, target, fmt, values, output="image", naming=OUTPUT_NAMES["replace"])


@cli.command()
@_options(*VERB_OPTIONS["mask"])
@click.option("--classes", "class_map", is_flag=True,
              help="Write the VOC class index of every pixel instead (palette PNG, VOC colours).")  # fmt: skip
@click.pass_obj
def mask(
    settings: Settings, /, inputs: tuple[str, ...], target: str | None, class_map: bool, **values: Any
) -> None:
    """Write the 8-bit mask (255 = subject), as a greyscale PNG.

    Examples: mattekit mask photo.jpg  (writes photo.mask.png);
    mattekit mask photo.jpg --classes  (writes photo.classes.png)
    """
    if class_map:
        kept = {k: values[k] for k in ("quality", "device", "max_pixels")}
        _run(settings, inputs, target, "png", kept, output="class-map", naming=OUTPUT_NAMES["class-map"])
    else:
        _run(settings, inputs, target, None, values, output="mask", naming=OUTPUT_NAMES["mask"])


@cli.command()
@_options(*VERB_OPTIONS["sticker"])
@_format_flag
@click.pass_obj
def sticker(
    settings: Settings, /, inputs: tuple[str, ...], target: str | None, fmt: str | None, **values: Any
) -> None:
    """Make a sticker: the cutout cropped to the subject, optionally outlined and shadowed.

    Example: mattekit sticker cat.jpg --outline 8 --shadow  (writes cat.sticker.png)
    """
    _run(settings, inputs, target, fmt, values, output="sticker", naming=OUTPUT_NAMES["sticker"])


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@_flag("quality")
@click.option("--min-share", type=click.FloatRange(0, 1), default=0.001, show_default=True,
              help="Leave out classes covering less than this fraction of the picture.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per input, in a list).")
@_flag("device")
@_flag("max_pixels")
@click.pass_obj
def classes(
    settings: Settings, /, inputs: tuple[str, ...], min_share: float, as_json: bool, **values: Any
) -> None:
    """List the Pascal VOC classes in each photo, with their share of the pixels and box.

    Example: mattekit classes photo.jpg
    """
    remover = _remover(settings, values, "class-map")
    reports: list[dict[str, Any]] = []

    def work(source: str, _target: str) -> None:
        indices = remover.class_map(_read(source), name=_where(source))
        found = class_report(indices, min_share)
        height, width = indices.shape
        reports.append({"image": _where(source), "width": width, "height": height,
                        "classes": [c.to_dict() for c in found]})  # fmt: skip
        if not as_json:
            click.echo(f"{_where(source)} ({width}x{height}):" + ("" if found else " no VOC class found"))
            for c in found:
                x0, y0, x1, y1 = c.box
                objects = f"  {c.objects} objects" if c.objects > 1 else ""
                click.echo(f"  {c.name:<12} {100 * c.share:6.2f}%  box x {x0}-{x1}, y {y0}-{y1}{objects}")

    try:
        _each_input(settings, [(source, "") for source in inputs], work)
    finally:
        if as_json:
            click.echo(json.dumps(reports, indent=2))


# -- the per-input loop -------------------------------------------------------------------


def _remover(settings: Settings, values: dict[str, Any], output: str) -> Remover:
    """Options from the flags (one parser, the library's) and the Remover they make."""
    text = {k: _as_text(v) for k, v in values.items()}
    try:
        remover = Remover(RemoveOptions.from_strings({**text, "output": output}))
    except MattekitError as exc:
        stop(exc, settings)
    info = remover.info
    log.debug("segmenter %s on %s (%s)", info.name, remover.options.device, ", ".join(info.providers))
    return remover


def _as_text(value: Any) -> str | tuple[str, ...] | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value  # type: ignore[no-any-return]


def _run(settings: Settings, inputs: tuple[str, ...], target: str | None, fmt: str | None,
         values: dict[str, Any], *, output: str, naming: OutputName) -> None:  # fmt: skip
    ext = "." + fmt.lower().lstrip(".") if fmt else None
    default_ext = naming.ext
    jobs = list(_plan(inputs, target, naming, ext or default_ext, ext))
    remover = _remover(settings, values, output)
    stream_format = (ext or default_ext).lstrip(".").upper().replace("JPG", "JPEG")

    def work(source: str, out: str) -> None:
        if remove_animation(remover, source, out, renamed=target is None and fmt is None):
            return
        found = remover.process_file(
            _read(source),
            sys.stdout.buffer if out == "-" else out,
            fmt=stream_format if out == "-" else None,
            name=_where(source),
        )
        if found.empty and output != "class-map":
            log.warning(
                "warning: %s: %s found; the output is empty", _where(source), found.what_was_missing()
            )
        log.debug("%s -> %s (%s)", _where(source), out, found.segmenter)

    _each_input(settings, jobs, work)


def _where(source: str) -> str:
    return "<stdin>" if source == "-" else source


def _read(source: str) -> bytes | Path:
    return sys.stdin.buffer.read() if source == "-" else Path(source)


def _each_input(settings: Settings, jobs: list[tuple[str, str]], work: Callable[[str, str], None]) -> None:
    """Run `work(source, target)` for every job; report failures and go on (a model error stops)."""
    failed = 0
    for source, target in _progress(jobs):
        try:
            work(source, target)
        except ModelError as exc:
            stop(exc, settings, _where(source))
        except OptionError as exc:  # e.g. an output name whose format we cannot tell
            if len(jobs) == 1:
                raise usage_error(exc) from exc
            failed += 1
            fail_line(_where(source), exc, settings.debug)
        except (MattekitError, OSError) as exc:
            failed += 1
            fail_line(_where(source), exc, settings.debug)
    if failed:
        if len(jobs) > 1:
            click.echo(f"mattekit: {failed} of {len(jobs)} inputs failed", err=True)
        raise SystemExit(1)


def _plan(inputs: tuple[str, ...], output: str | None, naming: OutputName, ext: str,
          forced_ext: str | None) -> Iterator[tuple[str, str]]:  # fmt: skip
    """Pair each input with its output path ("-" = stdin / stdout)."""
    if inputs.count("-") > 1:
        raise click.UsageError("standard input ('-') can be given only once")
    several = len(inputs) > 1
    if output == "-" and several:
        raise click.UsageError("-o - (standard output) takes a single input")
    as_dir = (
        output is not None
        and output != "-"
        and (several or output.endswith(("/", "\\")) or Path(output).is_dir())
    )
    if as_dir and output is not None:
        Path(output).mkdir(parents=True, exist_ok=True)
    for source in inputs:
        stem = "stdin" if source == "-" else Path(source).stem
        if output == "-" or (output is None and source == "-"):
            yield source, "-"
        elif output is None:
            yield source, str(Path(source).with_name(naming.for_stem(stem, ext)))
        elif as_dir:
            yield source, str(Path(output) / naming.for_stem(stem, ext))
        else:
            target = Path(output)
            yield source, str(target.with_suffix(forced_ext) if forced_ext else target)


def _progress(jobs: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    if len(jobs) < 2:
        yield from jobs
        return
    from tqdm import tqdm

    yield from tqdm(jobs, unit="image", disable=None, file=sys.stderr, leave=False)
