"""`python -m mailproc` runs the CLI."""

from mailproc.cli import main

main()
