"""Record-keeping commands: issues, triage, quarantine, purge, demo."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import click
from sqlalchemy import select

from mailproc.app import App
from mailproc.cli.context import Context
from mailproc.errors import MailprocError, UsageError
from mailproc.governance import reminders
from mailproc.intake import requeue, runner
from mailproc.privacy import detector, retention
from mailproc.store import queries
from mailproc.store.db import transaction
from mailproc.store.issues import add_event
from mailproc.store.models import Quarantined
from mailproc.timefmt import local
from mailproc.triage import apply as triage_apply
from mailproc.triage.commands import vocabulary
from mailproc.triage.grammar import CommandError, parse_cli
from mailproc.vocabulary import IssueStatus, QuarantineState


def register(main: click.Group) -> None:
    main.add_command(issues)
    main.add_command(triage)
    main.add_command(quarantine)
    main.add_command(purge)
    main.add_command(remind)
    main.add_command(register_site)
    main.add_command(report)
    from mailproc.cli.demo import demo

    main.add_command(demo)


@click.group()
def issues() -> None:
    """Issues: list, show, hold."""


@issues.command("list")
@click.option(
    "--status", type=click.Choice([s.value for s in IssueStatus]), help="Only issues with this status."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def issues_list(obj: Context, status: str | None, as_json: bool) -> None:
    """List issues (oldest first)."""
    app = obj.app()
    tz = app.settings.group.timezone
    scrub = _scrubber(app)
    with app.factory() as session:
        rows = queries.list_issues(session, status)
        if as_json:
            click.echo(json.dumps(scrub([queries.issue_summary(i, tz) for i in rows]), indent=2))
            return
        for i in rows:
            flags = ("!" if i.pid_detected else " ") + ("H" if i.on_hold else " ")
            area = i.area or (f"~{i.suggested_area}" if i.suggested_area else "-")
            when = local(i.created_at, tz)
            title = str(scrub(i.title or i.subject))[:60]  # redacted whole, then cut: never half a number
            click.echo(f"{i.reference}  {when}  {i.status:<16}{flags} {area:<18} {title}")
        if not rows:
            click.echo("no issues" + (f" with status {status}" if status else ""))


@issues.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def issues_show(obj: Context, reference: str, as_json: bool) -> None:
    """Show one issue with its messages and audit trail."""
    app = obj.app()
    with app.factory() as session:
        detail = queries.issue_detail(queries.get_issue(session, reference), app.settings.group.timezone)
    detail = cast(dict[str, Any], _scrubber(app)(detail))
    if as_json:
        click.echo(json.dumps(detail, indent=2))
        return
    for key, value in detail.items():
        if key not in ("messages", "events") and value not in (None, ""):
            click.echo(f"{key:>15}: {value}")
    for m in detail["messages"]:
        click.echo(f"\n--- {m['kind']} from {m['from']} at {m['received']} ({m['message_id']})")
        click.echo(m["visible_text"].rstrip() or "(no text)")
    click.echo("\nevents:")
    for e in detail["events"]:
        click.echo(f"  {e['at']}  {e['action']:<16} {e['actor']}  {json.dumps(e['detail'])}")


@issues.command("hold")
@click.argument("reference")
@click.option("--release", is_flag=True, help="Take the hold off again.")
@click.pass_obj
def issues_hold(obj: Context, reference: str, release: bool) -> None:
    """Exclude an issue's mail from purging (or --release it)."""
    app = obj.app()
    with transaction(app.factory) as session:
        issue = queries.get_issue(session, reference)
        issue.on_hold = not release
        add_event(session, issue, _cli_user(), "cli", "released" if release else "held", app.clock())
    click.echo(f"{issue.reference} {'released' if release else 'on hold'}")


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("reference")
@click.argument("words", nargs=-1, required=True)
@click.pass_obj
def triage(obj: Context, reference: str, words: tuple[str, ...]) -> None:
    """Apply a triage command, e.g. `mailproc triage IFG-2026-0042 ACCEPT prescribing`."""
    app = obj.app()
    today = app.today()
    try:
        command = parse_cli(words, vocabulary(app), today)
    except CommandError as exc:
        raise UsageError(f"triage {reference}: {exc}") from None
    actor = triage_apply.Actor(address=_cli_user(), via=f"cli:{app.clock().isoformat()}")
    with transaction(app.factory) as session:
        issue = queries.get_issue(session, reference)
        applied = triage_apply.apply_commands(app, session, issue, [command], actor)
        status = issue.status
    for item in applied:
        click.echo(f"{issue.reference}: {item.summary} (status {status})")
        if item.sent_text:
            click.echo(
                "  the text as it goes out:\n"
                + "\n".join(f"  | {line}".rstrip() for line in item.sent_text.splitlines())
            )
        for line in item.outgoing:
            click.echo(f"  email: {line}")


def _scrubber(app: App) -> Callable[[object], object]:
    """Redaction of what `issues list/show` print while `privacy.redact_for_admins` is on
    (the default); with it off, administrators see the stored text as it is."""
    privacy = app.settings.privacy
    if not privacy.redact_for_admins:
        return lambda value: value
    return lambda value: detector.redact_strings(value, privacy.patterns)


def _cli_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@click.group()
def quarantine() -> None:
    """Messages that could not be processed."""


@quarantine.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include messages already retried.")
@click.pass_obj
def quarantine_list(obj: Context, show_all: bool) -> None:
    """List quarantined messages with their reasons."""
    app = obj.app()
    tz = app.settings.group.timezone
    with app.factory() as session:
        stmt = select(Quarantined).order_by(Quarantined.id)
        if not show_all:
            stmt = stmt.where(Quarantined.status == QuarantineState.HELD)
        rows = list(session.scalars(stmt))
    for q in rows:
        click.echo(f"{q.id:>5} {local(q.created_at, tz)} {q.status:<8} {q.raw_size:>9} B  {q.reason}")
    if not rows:
        click.echo("quarantine is empty")


@quarantine.command("retry")
@click.argument("quarantine_id", type=int)
@click.pass_obj
def quarantine_retry(obj: Context, quarantine_id: int) -> None:
    """Run a quarantined message through the flow again."""
    outcome = requeue.retry(obj.app(), quarantine_id)
    ref = f" {outcome.reference}" if outcome.reference else ""
    click.echo(f"{outcome.result}{ref}" + (f": {outcome.reason}" if outcome.reason else ""))
    if outcome.fate == "quarantine":
        raise MailprocError("the message was quarantined again")


@click.command()
@click.option("--dry-run", is_flag=True, help="Only report what would be purged.")
@click.pass_obj
def purge(obj: Context, dry_run: bool) -> None:
    """Remove raw mail and attachments older than privacy.retention_days (not issues on hold)."""
    click.echo(retention.purge(obj.app(), dry_run=dry_run).line())


@click.command()
@click.pass_obj
def remind(obj: Context) -> None:
    """Chase overdue delegations; send administrators a digest of issues waiting for triage."""
    app = obj.app()
    click.echo(reminders.remind(app).line())
    report = runner.deliver(app)
    click.echo(f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}")


@click.group("register")
def register_site() -> None:
    """The published register: a static HTML site for the intranet."""


@register_site.command("build")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--report",
    "--with-report",
    "report",
    is_flag=True,
    help="Also write the governance report of all issues (reports/latest.html), linked from every page.",
)
@click.pass_obj
def register_build(obj: Context, directory: Path, report: bool) -> None:
    """Bring the register in DIRECTORY up to date: only pages that changed are rewritten."""
    from mailproc.governance.register import build_register

    app = obj.app()
    with obj.progress("Building the register") as on_progress:
        built = build_register(app, directory, on_progress=on_progress, report=report)
    click.echo(built.line())
    click.echo(built.changes())


_DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command()
@click.option("--from", "start", type=_DATE, help="Only issues received on or after YYYY-MM-DD.")
@click.option("--since", "since", type=_DATE, hidden=True)  # the earlier name of --from
@click.option("--to", "end", type=_DATE, help="Only issues received on or before YYYY-MM-DD.")
@click.option("--quarterly", metavar="YYYY-Qn", help="The committee's quarter, e.g. 2026-Q1.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "html", "csv", "json"]), default="text", show_default=True
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file, not stdout."
)
@click.pass_obj
def report(
    obj: Context,
    start: datetime | None,
    since: datetime | None,
    end: datetime | None,
    quarterly: str | None,
    fmt: str,
    out: Path | None,
) -> None:
    """Counts by area, source, sector and status; trends; times to triage and outcome; actions."""
    from mailproc.governance import reports

    app = obj.app()
    first = start or since
    within = reports.period(first.date() if first else None, end.date() if end else None, quarterly)
    result = reports.build_report(app, within=within)
    renderers = {"text": reports.render_text, "csv": reports.render_csv, "json": reports.to_json}
    content = reports.render_html(app, result) if fmt == "html" else renderers[fmt](result)
    if out is None:
        click.echo(content, nl=False)
        return
    try:
        out.write_text(content, encoding="utf-8", newline="")
    except OSError as exc:
        raise MailprocError(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"report ({fmt}): {out}")
