"""`python -m mattekit` runs the command-line interface."""

from mattekit.cli import main

main()
