"""The group's public face: `announce` (the awareness email) and `check --gold-standard`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mailproc.cli.context import Context
from mailproc.errors import MailprocError, UsageError
from mailproc.intake import runner


def register(main: click.Group) -> None:
    main.add_command(announce)


@click.command()
@click.option(
    "--send", "send_now", is_flag=True, help="Queue and send it (default: show it and who gets it)."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.pass_obj
def announce(obj: Context, send_now: bool, yes: bool) -> None:
    """The awareness email, once to every address on the announcement lists and networks."""
    from mailproc.governance import announce as announcing

    app = obj.app()
    to = announcing.recipients(app)
    if not to:
        raise UsageError(
            f'no one to announce to: set [distribution] announcements or tag lists kind = "network" '
            f"in {obj.config_path}"
        )
    if not send_now:
        shown = announcing.preview(app)
        click.echo(f"Subject: {shown.subject}\n\n{shown.text.rstrip()}\n")
        click.echo(f"would go to {len(to)} address(es): {', '.join(to)}")
        click.echo("run `mailproc announce --send` to send it")
        return
    if not yes:
        _confirm(len(to))
    announced = announcing.queue_announcement(app)
    click.echo(announced.line())
    report = runner.deliver(app)
    click.echo(f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}")
    if report.failed:
        raise MailprocError(f"{report.failed} message(s) failed; see `mailproc outbox list --failed`")


def _confirm(count: int) -> None:
    if not sys.stdin.isatty():
        raise UsageError(
            "announce --send asks for confirmation on a terminal; add --yes to send without asking"
        )
    click.confirm(f"Send the awareness email to {count} address(es)?", abort=True)


def gold_standard(obj: Context, register_dir: Path | None, max_age_days: int, html: Path | None) -> None:
    """`check --gold-standard`: print each point; exit 1 when any is not met."""
    from mailproc.governance import gold_standard as gs

    app = obj.app()
    result = gs.self_check(app, register_dir, max_age_days)
    for line in result.lines():
        click.echo(line)
    if html is not None:
        gs.write_page(app, result, html)
        click.echo(f"self-check page: {html}")
    if not result.passed:
        raise click.exceptions.Exit(1)
