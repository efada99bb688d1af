"""The image commands: remove, replace, mask, sticker and classes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mattekit.cli.common import Settings, cli, fail_line, log
from mattekit.errors import MattekitError, ModelError, OptionError

if TYPE_CHECKING:
    from mattekit.pipeline import StickerStyle
    from mattekit.segmenters import Segmenter

QUALITY = click.Choice(["fast", "balanced", "accurate"])
FORMATS = {"png": ".png", "webp": ".webp", "jpg": ".jpg", "jpeg": ".jpg"}
FORMAT_NAMES = {".png": "PNG", ".webp": "WEBP", ".jpg": "JPEG"}


# -- shared options -----------------------------------------------------------------------


def _segment_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--device", default=None, help="ONNX Runtime device: cpu, cuda, coreml, directml, openvino (default $MATTEKIT_DEVICE or cpu).")(fn)
    fn = click.option("-Q", "--quality", type=QUALITY, default="balanced", show_default=True, help="Speed/quality level.")(fn)
    fn = click.option("--instance", default=None, metavar="largest|N", help="Keep one object only: the largest, or the N-th largest.")(fn)
    fn = click.option("--drop", multiple=True, metavar="CLASS[,CLASS]", help="VOC classes to drop; alone, every other object class stays.")(fn)
    fn = click.option("--keep", multiple=True, metavar="CLASS[,CLASS]", help="VOC classes to keep (see `mattekit classes`).")(fn)
    fn = click.option("-s", "--subject", default="auto", show_default=True, metavar="auto|person|CLASS[,CLASS]", help="What to keep: any salient subject, people, or Pascal VOC classes (dog,cat).")(fn)
    fn = click.option("--max-pixels", type=click.IntRange(min=1), default=None, help="Refuse inputs with more pixels (default 100 MP or $MATTEKIT_MAX_PIXELS).")(fn)
    fn = click.option("-o", "--output", default=None, help="Output file, folder, or - for stdout (default: beside each input).")(fn)
    fn = click.argument("inputs", nargs=-1, required=True)(fn)
    return fn  # noqa: RET504


def _mask_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--feather", type=click.FloatRange(0, 1000), default=0.0, metavar="PX", help="Soften the mask's edge (Gaussian sigma in pixels).")(fn)
    fn = click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=None, metavar="T", help="Hard mask: subject where the mask >= T (0-1).")(fn)
    fn = click.option("--dilate", type=click.IntRange(0, 1000), default=0, metavar="PX", help="Grow the mask by PX pixels.")(fn)
    fn = click.option("--erode", type=click.IntRange(0, 1000), default=0, metavar="PX", help="Shrink the mask by PX pixels.")(fn)
    fn = click.option("--refine", type=click.Choice(["none", "guided", "matting"]), default=None, help="Edges: none (bilinear), guided (edge-aware), matting (alpha matting of the edge band). Default: the level's.")(fn)
    return fn  # noqa: RET504


def _output_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--estimate-foreground/--no-estimate-foreground", default=True, show_default=True, help="Recover the subject's colours at soft edges (no halo).")(fn)
    fn = click.option("-f", "--format", "fmt", type=click.Choice(sorted(FORMATS)), default=None, help="Output format (default: from the output name).")(fn)
    return fn  # noqa: RET504


# -- commands -----------------------------------------------------------------------------
# The image commands take their options as one dict (`opts`), read by `_run_images`.


@cli.command()
@_segment_options
@_mask_options
@_output_options
@click.option("--crop", default=None, metavar="MARGIN", help="Crop to the subject plus MARGIN: pixels, 16px, or 5%.")
@click.pass_obj
def remove(settings: Settings, inputs: tuple[str, ...], **opts: Any) -> None:
    """Cut the subject out: a transparent PNG (or WebP) per input.

    Examples: mattekit remove photo.jpg  (writes photo.cutout.png);
    mattekit remove paddock.jpg --keep horse --drop person
    """
    _run_images(settings, inputs, opts, tag=".cutout", default_ext=".png")


@cli.command()
@_segment_options
@_mask_options
@_output_options
@click.option("--bg", "background", required=True, help="New background: an image file, a colour (white, '#00ff00'), or blur[:RADIUS].")
@click.pass_obj
def replace(settings: Settings, inputs: tuple[str, ...], **opts: Any) -> None:
    """Put the subject on a new background (image, colour, or the blurred original).

    Example: mattekit replace photo.jpg --bg blur:20  (writes photo.replaced.jpg)
    """
    _run_images(settings, inputs, opts, tag=".replaced", default_ext=".jpg")


@cli.command()
@_segment_options
@_mask_options
@click.option("--classes", "class_map", is_flag=True, help="Write the VOC class index of every pixel instead (palette PNG, VOC colours).")
@click.pass_obj
def mask(settings: Settings, inputs: tuple[str, ...], class_map: bool, **opts: Any) -> None:
    """Write the 8-bit mask (255 = subject), as a greyscale PNG.

    Examples: mattekit mask photo.jpg  (writes photo.mask.png);
    mattekit mask photo.jpg --classes  (writes photo.classes.png)
    """
    if class_map:
        _run_class_maps(settings, inputs, opts["output"], opts["quality"], opts["device"], opts["max_pixels"])
        return
    _run_images(settings, inputs, {**opts, "fmt": None, "estimate_foreground": False},
                tag=".mask", default_ext=".png", mask_only=True)  # fmt: skip


@cli.command()
@_segment_options
@_mask_options
@_output_options
@click.option("--margin", default="5%", show_default=True, help="Space around the sticker: pixels, 16px, or a percentage of the subject.")
@click.option("--outline", type=click.FloatRange(0, 1024), default=0, metavar="PX", help="Outline width in pixels (0: none).")
@click.option("--outline-color", default="white", show_default=True, help="Outline colour: a name or #hex.")
@click.option("--shadow", is_flag=True, help="Add a soft drop shadow.")
@click.pass_obj
def sticker(settings: Settings, inputs: tuple[str, ...], margin: str, outline: float,
            outline_color: str, shadow: bool, **opts: Any) -> None:  # fmt: skip
    """Make a sticker: the cutout cropped to the subject, optionally outlined and shadowed.

    Example: mattekit sticker cat.jpg --outline 8 --shadow  (writes cat.sticker.png)
    """
    from mattekit.pipeline import StickerStyle

    style = StickerStyle(_margin(margin), outline, outline_color, shadow)
    _run_images(settings, inputs, opts, tag=".sticker", default_ext=".png", sticker=style)


def _margin(text: str) -> int | float | str:
    """A margin from the command line: a number of pixels, or text the sticker module reads."""
    try:
        return float(text)
    except ValueError:
        return text


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-Q", "--quality", type=QUALITY, default="balanced", show_default=True, help="fast: one model run; balanced/accurate: also overlapping tiles (finds smaller objects).")
@click.option("--min-share", type=click.FloatRange(0, 1), default=0.001, show_default=True, help="Leave out classes covering less than this fraction of the picture.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per input, in a list).")
@click.option("--device", default=None, help="ONNX Runtime device (default $MATTEKIT_DEVICE or cpu).")
@click.option("--max-pixels", type=click.IntRange(min=1), default=None, help="Refuse inputs with more pixels.")
@click.pass_obj
def classes(settings: Settings, inputs: tuple[str, ...], quality: str, min_share: float,
            as_json: bool, device: str | None, max_pixels: int | None) -> None:  # fmt: skip
    """List the Pascal VOC classes in each photo, with their share of the pixels and box.

    Example: mattekit classes photo.jpg
    """
    import json

    from mattekit.stages.classes import class_report
    from mattekit.io.images import decode_image
    from mattekit.segmenters import load_semantic

    semantic = load_semantic(quality, device)
    reports: list[dict[str, Any]] = []

    def work(source: str, _target: str) -> None:
        decoded = decode_image(_read(source), name=_where(source), max_pixels=max_pixels)
        found = class_report(semantic.class_map(decoded.rgb), min_share)
        height, width = decoded.rgb.shape[:2]
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


def _segmenter(opts: dict[str, Any]) -> Segmenter:
    from mattekit.segmenters import load_segmenter

    try:
        return load_segmenter(
            opts["subject"], opts["quality"], opts["device"], keep=list(opts["keep"]) or None,
            drop=list(opts["drop"]) or None, instance=opts["instance"], refine=opts["refine"],
        )  # fmt: skip
    except OptionError as exc:
        raise click.UsageError(str(exc)) from exc


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
            fail_line(_where(source), exc, settings.debug)
            raise SystemExit(1) from None
        except (MattekitError, OSError) as exc:
            failed += 1
            fail_line(_where(source), exc, settings.debug)
    if failed:
        if len(jobs) > 1:
            click.echo(f"mattekit: {failed} of {len(jobs)} inputs failed", err=True)
        raise SystemExit(1)


def _run_images(settings: Settings, inputs: tuple[str, ...], opts: dict[str, Any], *, tag: str,
                default_ext: str, mask_only: bool = False,
                sticker: StickerStyle | None = None) -> None:  # fmt: skip
    from mattekit.api import process_file
    from mattekit.models.runtime import DEVICES, resolve_device
    import numpy as np

    from mattekit.pipeline import MaskEdits, parse_background, trim

    fmt = opts.get("fmt")
    ext = FORMATS[fmt] if fmt else None
    segmenter = _segmenter(opts)
    crop = _margin(opts["crop"]) if opts.get("crop") is not None else None
    try:
        bg = parse_background(opts.get("background"))
        edits = MaskEdits(opts["erode"], opts["dilate"], opts["threshold"], opts["feather"])
        chosen = resolve_device(opts["device"])
        trim(np.zeros((1, 1, 4), np.uint8), crop=crop, sticker=sticker)  # checks their options
    except OptionError as exc:
        raise click.UsageError(str(exc)) from exc
    jobs = list(_plan(inputs, opts["output"], tag, ext or default_ext, ext))
    log.debug("segmenter %s on %s (%s)", getattr(segmenter, "name", "?"), chosen, DEVICES[chosen])

    def work(source: str, target: str) -> None:
        alpha = process_file(
            _read(source),
            sys.stdout.buffer if target == "-" else target,
            segmenter,
            background=bg,
            mask_only=mask_only,
            estimate_foreground=opts.get("estimate_foreground", True),
            fmt=FORMAT_NAMES[(ext or default_ext)] if target == "-" else None,
            name=_where(source),
            max_pixels=opts["max_pixels"],
            edits=edits,
            crop=crop,
            sticker=sticker,
        )
        if not (alpha >= 0.5).any():
            log.warning("warning: %s: %s found; the output is empty", _where(source), _nothing(segmenter))
        log.debug("%s -> %s (%s)", _where(source), target, getattr(segmenter, "name", ""))

    _each_input(settings, jobs, work)


def _nothing(segmenter: Segmenter) -> str:
    """What was not found, for the empty-output warning."""
    from mattekit.stages.classes import VOC_CLASSES

    kept = getattr(segmenter, "classes", None)
    names = ", ".join(VOC_CLASSES[i] for i in sorted(kept)) if kept else ""
    rank = getattr(segmenter, "rank", None)
    if rank:
        return f"no object #{rank} by size of " + (f"the kept classes ({names})" if kept else "the subject")
    return f"none of the kept classes ({names})" if kept else "no subject"


def _run_class_maps(settings: Settings, inputs: tuple[str, ...], output: str | None, quality: str,
                    device: str | None, max_pixels: int | None) -> None:  # fmt: skip
    from mattekit.api import process_class_map
    from mattekit.segmenters import load_semantic

    semantic = load_semantic(quality, device)

    def work(source: str, target: str) -> None:
        out = sys.stdout.buffer if target == "-" else target
        process_class_map(_read(source), out, semantic, name=_where(source), max_pixels=max_pixels)

    _each_input(settings, list(_plan(inputs, output, ".classes", ".png", ".png")), work)


def _plan(inputs: tuple[str, ...], output: str | None, tag: str, ext: str,
          forced_ext: str | None) -> Iterator[tuple[str, str]]:  # fmt: skip
    """Pair each input with its output path ("-" = stdin / stdout)."""
    if inputs.count("-") > 1:
        raise click.UsageError("standard input ('-') can be given only once")
    several = len(inputs) > 1
    if output == "-" and several:
        raise click.UsageError("-o - (standard output) takes a single input")
    as_dir = output is not None and output != "-" and (
        several or output.endswith(("/", "\\")) or Path(output).is_dir()
    )
    if as_dir and output is not None:
        Path(output).mkdir(parents=True, exist_ok=True)
    for source in inputs:
        stem = "stdin" if source == "-" else Path(source).stem
        if output == "-" or (output is None and source == "-"):
            yield source, "-"
        elif output is None:
            yield source, str(Path(source).with_name(f"{stem}{tag}{ext}"))
        elif as_dir:
            yield source, str(Path(output) / f"{stem}{tag}{ext}")
        else:
            target = Path(output)
            yield source, str(target.with_suffix(forced_ext) if forced_ext else target)


def _progress(jobs: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    if len(jobs) < 2:
        yield from jobs
        return
    from tqdm import tqdm

    yield from tqdm(jobs, unit="image", disable=None, file=sys.stderr, leave=False)



