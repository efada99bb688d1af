"""What every command shares: the `mattekit` group, its settings, and the one-line errors."""

from __future__ import annotations

import logging
import sys
import traceback
from dataclasses import dataclass
from typing import NoReturn

import click

from mattekit import MattekitError, OptionError, exit_code

__all__ = ["Settings", "cli", "fail_line", "log", "stop", "usage_error"]

log = logging.getLogger("mattekit")


@dataclass
class Settings:
    """Options every command shares."""

    debug: bool = False


def fail_line(where: str, exc: BaseException, debug: bool) -> None:
    """Print one error line naming the input (once: library messages may already name it)."""
    if debug:
        traceback.print_exception(exc)
    message = str(exc)
    if not message.startswith(where):
        message = f"{where}: {message}"
    click.echo(f"mattekit: error: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mattekit")
@click.option("--debug", is_flag=True, help="Show tracebacks and the runtime provider in use.")
@click.option("-q", "--quiet", is_flag=True, help="Only print errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Remove and replace the backgrounds of photos, offline."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("mattekit: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO)
    log.propagate = False
    ctx.obj = Settings(debug=debug)


def usage_error(exc: OptionError) -> click.UsageError:
    """An option error as the command line shows it: the option named as its flag."""
    message = str(exc)
    if exc.option and message.startswith(f"{exc.option}:"):
        message = f"--{exc.option.replace('_', '-')}{message[len(exc.option) :]}"
    return click.UsageError(message)


def stop(exc: MattekitError, settings: Settings, where: str = "") -> NoReturn:
    """End the command for an error that is not about one input: a usage error (exit 2) for
    options, else one error line and the exit code of `EXIT_CODES`."""
    if isinstance(exc, OptionError):
        raise usage_error(exc) from exc
    if where:
        fail_line(where, exc, settings.debug)
    else:
        if settings.debug:
            traceback.print_exception(exc)
        click.echo(f"mattekit: error: {exc}", err=True)
    raise SystemExit(exit_code(exc))
