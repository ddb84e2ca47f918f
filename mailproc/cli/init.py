"""`mailproc init [DIR]`: a newcomer's first step, a commented config.toml and the var/ folders."""

from __future__ import annotations

import mailbox
import shutil
from pathlib import Path

import click

import mailproc
from mailproc.errors import MailprocError, UsageError

EXAMPLE = "config.example.toml"
# The folders the example's defaults point at (database.url, intake.maildir, outbound.maildir).
INBOX = Path("var") / "inbox"
OUTBOX = Path("var") / "outbox"


def example_config() -> Path:
    """The commented example: inside the package in a wheel, else the repository's copy."""
    packaged = Path(mailproc.__file__).parent / EXAMPLE
    if packaged.is_file():
        return packaged
    return Path(mailproc.__file__).parent.parent / EXAMPLE


@click.command()
@click.argument("directory", type=click.Path(path_type=Path), default=Path("."))
def init(directory: Path) -> None:
    """Write a commented config.toml and the var/ folders into DIRECTORY (default: here)."""
    config = directory / "config.toml"
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is a file; name a folder for the new configuration")
    if config.exists():
        raise UsageError(f"{config} already exists; edit it, or run `mailproc init` in another folder")
    try:
        (directory / "var").mkdir(parents=True, exist_ok=True)
        with example_config().open("rb") as src, config.open("xb") as dst:
            shutil.copyfileobj(src, dst)
        for folder in (INBOX, OUTBOX):
            mailbox.Maildir(directory / folder, create=True)
    except FileExistsError:
        raise UsageError(f"{config} already exists; edit it") from None
    except OSError as exc:
        raise MailprocError(f"cannot write {exc.filename or directory}: {exc.strerror}") from None
    _next_steps(directory, config)


def _next_steps(directory: Path, config: Path) -> None:
    click.echo(
        f"wrote {config} and {directory / 'var'}/ (inbox and outbox Maildirs; the database goes there)"
    )
    cd = "" if directory == Path(".") else f"cd {directory} && "
    click.echo(
        "\nNext:\n"
        f"  1. Edit {config}: [group] name and address, [triage] admins, [[members]], [lists],\n"
        "     [distribution], [groups] and [escalation]; every key is explained beside it.\n"
        "  2. Set the secret for triage reply tokens (at least 16 characters), e.g.\n"
        "       export MAILPROC_SECRET=\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\"\n"
        f"  3. {cd}mailproc check     (validates the file; creates the database)\n"
        f'  4. {cd}mailproc poll      (reads {INBOX}/new; for a real mailbox set [intake] source = "imap"\n'
        "     and its password variable, then `mailproc check --connect`)"
    )
