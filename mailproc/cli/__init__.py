"""The `mailproc` command: thin click commands that parse options and call the parts."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from mailproc.app import upgrade_schema
from mailproc.cli import (
    commands_actions,
    commands_mail,
    commands_meetings,
    commands_public,
    commands_records,
    init,
)
from mailproc.cli.boundary import ErrorBoundary
from mailproc.cli.context import Context
from mailproc.config import default_config_path
from mailproc.privacy import logfilter


@click.group(cls=ErrorBoundary, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default=None,
    help="Configuration file [default: $MAILPROC_CONFIG or ./config.toml].",
)  # fmt: skip
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug); tracebacks.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.version_option(package_name="mailproc")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, verbose: int, quiet: bool) -> None:
    """Mailbox processor for a Primary-Secondary Care Interface Group."""
    _logging(ctx.invoked_subcommand, verbose, quiet)
    origin = "--config" if config_path else ("$MAILPROC_CONFIG" if "MAILPROC_CONFIG" in os.environ else "")
    path = config_path or default_config_path()
    ctx.obj = Context(path, config_origin=origin or "the default ./config.toml", quiet=quiet)


# Third-party loggers that write protocol traffic or SQL parameters, i.e. message content
# (bodies, subjects, addresses, patient identifiers), at DEBUG or INFO: imapclient logs every
# FETCH response, SQLAlchemy's engine each statement with its parameters, aiosmtpd ("mail.log")
# each DATA. They stay at WARNING whatever -v/-vv says; mailproc's own loggers never log content.
PINNED_LEVEL = logging.WARNING
CONTENT_LOGGERS = ("imapclient", "imaplib", "smtplib", "mail.log", "aiosmtpd", "sqlalchemy", "mailparser")


def _logging(command: str | None, verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    if not verbose and not quiet and sys.stderr.isatty():
        level = logging.WARNING  # the terminal gets progress bars and summaries instead
    if command in ("demo", "init") and not verbose:
        level = logging.WARNING  # these narrate; log lines would drown them
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logfilter.install()  # no log line prints a patient identifier, whoever wrote it
    # Alembic's per-connection lines only with -vv. mail-parser never below ERROR: its
    # debug lines carry attachment names, which may hold patient identifiers.
    logging.getLogger("alembic").setLevel(level if verbose > 1 else max(level, logging.ERROR))
    for name in CONTENT_LOGGERS:
        logging.getLogger(name).setLevel(PINNED_LEVEL)
    logging.getLogger("mailparser").setLevel(logging.ERROR)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Context) -> None:
    """Create or upgrade the database schema (safe while another process does the same)."""
    before, after = upgrade_schema(obj.settings())
    click.echo(
        f"schema: {before or 'empty'} -> {after}" if before != after else f"schema up to date ({after})"
    )


main.add_command(init.init)
commands_mail.register(main)
commands_records.register(main)
commands_actions.register(main)
commands_meetings.register(main)
commands_public.register(main)

__all__ = ["main"]
