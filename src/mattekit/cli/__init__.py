"""The command-line interface: `mattekit` and `python -m mattekit`.

Exit codes: 0 all inputs done, 1 some inputs failed (the others are still done), 2 usage
error. Errors are one line, ``mattekit: error: <file>: <what is wrong>``; ``--debug`` adds
the traceback.
"""

from __future__ import annotations

from mattekit.cli import batch as _batch  # noqa: F401  (registers `mattekit batch`)
from mattekit.cli import images, models, serve
from mattekit.cli import video as _video  # noqa: F401  (registers `mattekit video`)
from mattekit.cli.common import cli

__all__ = ["cli", "main"]

_COMMANDS = (images, models, serve)  # imported for their commands, which register on `cli`


def main() -> None:
    """Entry point: run the CLI and keep tracebacks away from users."""
    cli(prog_name="mattekit")
