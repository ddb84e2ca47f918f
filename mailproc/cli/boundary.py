"""The one error boundary: every command's exceptions become a message and an exit code here."""

from __future__ import annotations

import errno
import traceback
from typing import Any, NoReturn

import click
from sqlalchemy.exc import DBAPIError

from mailproc.errors import MailprocError
from mailproc.privacy.detector import redact


class ErrorBoundary(click.Group):
    """A click group that maps the project's errors to their exit codes once, for every command.

    MailprocError and its kinds: the message on stderr, exit 1 (work) or 2 (usage, config,
    schema). A database failure (read-only, corrupt) is the same kind of line, exit 1.
    Anything else is a bug or an environment problem: one line and exit 1, with
    the traceback only under `-v`, so an operator's terminal or a timer's log stays readable.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MailprocError as exc:
            # An error may quote what a user typed or a stored text: never a patient identifier.
            click.echo(f"mailproc: error: {redact(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own usage errors and exits already carry their codes
        except DBAPIError as exc:
            # A database that opened but then failed: read-only, corrupt, full, gone away.
            # The statement and its parameters stay out of the message (they carry mail).
            first = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
            click.echo(f"mailproc: error: the database failed: {first} (database.url)", err=True)
            ctx.exit(1)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # `mailproc issues list | head`: click ends quietly
            _unexpected(ctx, exc)
        except Exception as exc:
            _unexpected(ctx, exc)


def _unexpected(ctx: click.Context, exc: Exception) -> NoReturn:
    verbose = int(ctx.params.get("verbose") or 0)
    if verbose:
        click.echo(redact(traceback.format_exc().rstrip()), err=True)
    first = redact((str(exc).strip().splitlines() or [""])[0])
    hint = "" if verbose else " (run with -v for the traceback)"
    click.echo(f"mailproc: unexpected error: {type(exc).__name__}: {first}{hint}", err=True)
    ctx.exit(1)
