"""Mail-moving commands: check, poll, watch, send, outbox."""

from __future__ import annotations

from pathlib import Path

import click

from mailproc.cli import commands_public
from mailproc.cli.context import Context
from mailproc.errors import ConfigError, MailprocError, UsageError
from mailproc.intake import runner
from mailproc.intake.flow import PassOptions
from mailproc.outbound import outbox
from mailproc.outbound.transports.smtp import SmtpTransport
from mailproc.store.db import transaction
from mailproc.timefmt import local


def register(main: click.Group) -> None:
    main.add_command(check)
    main.add_command(poll)
    main.add_command(watch)
    main.add_command(send)
    main.add_command(outbox_group)


@click.command()
@click.option("--connect", is_flag=True, help="Also log in to the mailbox (and the SMTP server).")
@click.option(
    "--gold-standard",
    "gold",
    is_flag=True,
    help="Also check the group against the national gold-standard model; exit 1 when a point is not met.",
)
@click.option(
    "--register",
    "register_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --gold-standard: the published register, to check it is built and recent.",
)
@click.option("--max-age-days", default=31, show_default=True, help="With --register: how old it may be.")
@click.option(
    "--html", type=click.Path(dir_okay=False, path_type=Path),
    help="With --gold-standard: also write the self-check as a page (for the group, not the register).",
)  # fmt: skip
@click.pass_obj
def check(
    obj: Context, connect: bool, gold: bool, register_dir: Path | None, max_age_days: int, html: Path | None
) -> None:
    """Validate the configuration, database schema and templates (and the gold standard)."""
    if not gold and (register_dir or html):
        raise UsageError("--register and --html go with --gold-standard")
    app = obj.app()
    problems = app.renderer.check()
    for problem in problems:
        click.echo(f"template problem: {problem}", err=True)
    if problems:
        where = str(obj.config_path)
        raise ConfigError(where, "group.templates_dir", f"{len(problems)} template problem(s)")
    if connect:
        runner.connect(app).close()
        click.echo("mailbox: connected")
        if app.settings.outbound.smtp is not None and app.settings.outbound.transport == "smtp":
            click.echo(SmtpTransport(app.settings.outbound.smtp).probe())
    names = ", ".join(app.renderer.names())
    click.echo(f"ok: configuration {obj.config_path}, schema current, templates {names}")
    if gold:
        commands_public.gold_standard(obj, register_dir, max_age_days, html)


@click.command()
@click.option(
    "--backlog", is_flag=True,
    help="Import an existing mailbox: log every message, send no acknowledgements or triage requests.",
)  # fmt: skip
@click.option(
    "--no-send", "no_send", is_flag=True,
    help="Ingest only: queue outgoing mail but send nothing (the next send, poll or watch does).",
)  # fmt: skip
@click.pass_obj
def poll(obj: Context, backlog: bool, no_send: bool) -> None:
    """Process the mailbox once, then send what is due."""
    app = obj.app()
    with obj.progress("Processing mail") as on_progress:
        summary, report = runner.poll_once(app, PassOptions(backlog=backlog), on_progress, send=not no_send)
    sent = f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}"
    click.echo(f"{summary.line()}; {'nothing sent (--no-send)' if no_send else sent}")
    _fail_on(summary.failed, report.failed)


@click.command()
@click.pass_obj
def watch(obj: Context) -> None:
    """Process mail as it arrives (IMAP IDLE where offered) until SIGTERM or Ctrl-C.

    Upgrades an older database schema when it starts (under a lock): a restarted service
    after a mailproc upgrade carries on without a separate step.
    """
    runner.watch(obj.app(upgrade_schema=True))


@click.command()
@click.pass_obj
def send(obj: Context) -> None:
    """Send every outbox message that is due."""
    report = runner.deliver(obj.app())
    click.echo(f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}")
    _fail_on(0, report.failed)


@click.group("outbox")
def outbox_group() -> None:
    """Outgoing mail."""


@outbox_group.command("list")
@click.option("--failed", is_flag=True, help="Only messages that failed.")
@click.pass_obj
def outbox_list(obj: Context, failed: bool) -> None:
    """List outgoing messages and their delivery state."""
    app = obj.app()
    tz = app.settings.group.timezone
    with app.factory() as session:
        rows = outbox.list_messages(session, failed_only=failed)
        for row in rows:
            to = ", ".join(f"{r.address}({r.state})" for r in row.recipients)
            click.echo(f"{row.id:>5} {row.state:<8} {local(row.created_at, tz)} {row.template:<22} {to}")
            if row.last_error:
                click.echo(f"      last error: {row.last_error}")
        if not rows:
            click.echo("no failed messages" if failed else "outbox is empty")


@outbox_group.command("retry")
@click.argument("outbox_id", type=int)
@click.pass_obj
def outbox_retry(obj: Context, outbox_id: int) -> None:
    """Queue a failed message again (only the recipients that failed)."""
    app = obj.app()
    with transaction(app.factory) as session:
        row = outbox.retry(session, outbox_id, now=app.clock())
        click.echo(f"message {row.id} queued again")


def _fail_on(unprocessed: int, undelivered: int) -> None:
    """Exit 1 when part of the work failed (after the summary line has been printed)."""
    problems = []
    if unprocessed:
        problems.append(f"{unprocessed} message(s) could not be processed and stay in the mailbox for retry")
    if undelivered:
        problems.append(f"{undelivered} outgoing message(s) failed; see `mailproc outbox list --failed`")
    if problems:
        raise MailprocError("; ".join(problems))
