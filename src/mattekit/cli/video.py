"""The `video` command: a video or animated image in, the same with its background removed or
replaced out, sound kept.

Its flags for the library's options come from `mattekit.OPTION_TEXTS`, as the image
commands' do; the output's kind follows its name (see `mattekit.process_video`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mattekit import OPTION_TEXTS, MattekitError, RemoveOptions, Remover
from mattekit.cli.common import Settings, cli, fail_line, log, stop
from mattekit.io.animated import ANIMATION_EXTENSIONS, is_animation
from mattekit.options import VERB_OPTIONS
from mattekit.video import process_video

__all__ = ["remove_animation", "video"]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

_DEFAULTS = {"subject": "auto", "quality": "balanced", "bg": "transparent"}
_INTERRUPTED = 130


def _flag(name: str) -> Decorator:
    """The click option for library option `name`, from its `OPTION_TEXTS` entry."""
    text = OPTION_TEXTS[name]
    long = "--" + name.replace("_", "-")
    help_text = text.help + (f" [default: {_DEFAULTS[name]}]" if name in _DEFAULTS else "")
    if text.kind == "bool":
        return click.option(f"{long}/--no-{long[2:]}", name, default=None, help=help_text + " [default: on]")
    decls = [text.short, long] if text.short else [long]
    return click.option(*decls, name, default=None, metavar=text.metavar or None, multiple=text.multiple,
                        help=help_text)  # fmt: skip


def _seconds(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """A time option: seconds (12.5) or [[H:]M:]S (1:02.5, 00:01:02)."""
    if value is None:
        return None
    text = value.strip()
    if not re.fullmatch(r"(\d+:){0,2}\d+(\.\d*)?", text):
        raise click.BadParameter(f"'{value}' is not a time: give seconds (12.5) or [H:]M:S (1:02.5)")
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def _video_flags(fn: Callable[..., Any]) -> Callable[..., Any]:
    for name in reversed(VERB_OPTIONS["video"]):
        fn = _flag(name)(fn)
    return fn


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "target", type=click.Path(path_type=Path), default=None,
              help="Output: .mp4 .mkv .mov .webm, .gif .webp, or a folder (PNG sequence). "
                   "[default: beside the input, .webm for a cutout, .mp4 otherwise]")  # fmt: skip
@_video_flags
@click.option("--mask", "as_mask", is_flag=True, help="Write the 8-bit mask as the video instead.")
@click.option(
    "--start", default=None, metavar="TIME", callback=_seconds, help="Skip this much first (seconds or M:S)."
)
@click.option(
    "--duration", default=None, metavar="TIME", callback=_seconds, help="Process this much (seconds or M:S)."
)
@click.option("--crf", type=click.IntRange(0, 63), default=None,
              help="Encoder quality, lower is better: x264 0-51 [default: 20], VP9 0-63 [default: 32].")  # fmt: skip
@click.option("--preset", default=None, metavar="ultrafast|superfast|veryfast|faster|fast|medium|slow|...",
              help="x264 speed preset (VP9: its speed) [default: superfast].")  # fmt: skip
@click.pass_obj
def video(
    settings: Settings,
    /,
    source: Path,
    target: Path | None,
    as_mask: bool,
    start: float | None,
    duration: float | None,
    crf: int | None,
    preset: str | None,
    **values: Any,
) -> None:
    """Remove or replace the background of a video or animated GIF/WebP; the sound is kept.

    Examples: mattekit video talk.mp4 -o talk-blur.mp4 --bg blur -s person -Q fast;
    mattekit video clip.mov -o cutout.webm  (transparent VP9);
    mattekit video anim.gif -o anim.webp
    """
    if target is not None and str(target) == "-":
        raise click.UsageError("a video is written to a file or a folder, not to standard output")
    text = {k: _as_text(v) for k, v in values.items()}
    try:
        options = RemoveOptions.from_strings({**text, "output": "mask" if as_mask else "image"})
    except MattekitError as exc:
        stop(exc, settings)
    target = target or _default_target(source, options)
    where = str(source)
    try:
        remover = Remover(options, mode="video")
    except MattekitError as exc:
        stop(exc, settings)
    log.debug("segmenter %s on %s (%s)", remover.info.name, options.device, ", ".join(remover.info.providers))
    bar = _ProgressBar(enabled=log.getEffectiveLevel() <= 20)
    try:
        result = process_video(source, target, remover=remover, start=start, duration=duration,
                               crf=crf, preset=preset, progress=bar.update)  # fmt: skip
    except KeyboardInterrupt:
        bar.close()
        click.echo(f"mattekit: interrupted; nothing was written to {target}", err=True)
        raise SystemExit(_INTERRUPTED) from None
    except MattekitError as exc:
        bar.close()
        stop(exc, settings, str(target) if str(exc).startswith(f"{target}:") else where)
    except OSError as exc:
        bar.close()
        fail_line(where, exc, settings.debug)
        raise SystemExit(1) from None
    finally:
        remover.close()
    bar.close()
    for notice in result.notices:
        log.info("note: %s: %s", where, notice)
    log.info(
        "%s -> %s: %d frames in %.1f s (%.1f fps)", where, target, result.frames, result.seconds, result.fps
    )


def remove_animation(remover: Remover, source: str, out: str, *, renamed: bool) -> bool:
    """For the image commands: run an animated GIF / WebP / PNG through the video path (all
    its frames, durations and loop count kept) and return True; False for anything else.

    Args:
        remover: the command's Remover (its options are used in video mode).
        source, out: the input and output paths ("-" is never an animation).
        renamed: the output name was made by the command, not given: an extension that
            cannot animate (.jpg) becomes .webp.
    """
    if "-" in (source, out) or remover.options.output not in ("image", "mask") or not is_animation(source):
        return False
    target = Path(out)
    if renamed and target.suffix.lower() not in ANIMATION_EXTENSIONS:
        target = target.with_suffix(".webp")
    with Remover(remover.options, mode="video") as streaming:
        result = process_video(source, target, remover=streaming)
    for notice in result.notices:
        log.info("note: %s: %s", source, notice)
    log.debug("%s -> %s: %d frames (%s)", source, target, result.frames, result.segmenter)
    return True


def _as_text(value: Any) -> str | tuple[str, ...] | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value  # type: ignore[no-any-return]


def _default_target(source: Path, options: RemoveOptions) -> Path:
    if options.output == "mask":
        return source.with_name(f"{source.stem}.mask.mp4")
    if is_animation(source):
        return source.with_name(f"{source.stem}.cutout.webp")
    if options.background.transparent:
        return source.with_name(f"{source.stem}.cutout.webm")
    return source.with_name(f"{source.stem}.replaced.mp4")


class _ProgressBar:
    """tqdm on stderr, with frames per second and the time left; off when not a terminal or -q."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: Any = None

    def update(self, done: int, total: int | None) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="frame", disable=None, file=sys.stderr, leave=False,
                             dynamic_ncols=True)  # fmt: skip
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
