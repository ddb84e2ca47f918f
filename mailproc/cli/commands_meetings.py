"""Meeting commands: create, list, show, change, cancel, add-item, agenda [--send], decide,
minutes [--send], actions."""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import click

from mailproc.app import App
from mailproc.cli.commands_actions import actions_command
from mailproc.cli.context import Context
from mailproc.errors import UsageError
from mailproc.governance import meetings
from mailproc.governance.meetings import minutes as meeting_minutes
from mailproc.governance.meetings.decide import apply_decisions
from mailproc.governance.meetings.decisions import parse_decisions
from mailproc.store import meetings as store
from mailproc.store.db import transaction
from mailproc.store.models import Meeting
from mailproc.triage.apply import Actor, TriageRefused
from mailproc.triage.commands import vocabulary
from mailproc.triage.grammar import CommandError
from mailproc.vocabulary import MeetingItemKind


def register(main: click.Group) -> None:
    main.add_command(meeting)


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


def _time(_ctx: click.Context, _param: click.Parameter, value: str | None) -> time | None:
    try:
        return datetime.strptime(value, "%H:%M").time() if value else None
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a 24-hour time HH:MM such as 14:00") from None


@click.group()
def meeting() -> None:
    """Meetings: create, list, show, change, cancel, add items, agenda."""


@meeting.command("create")
@click.argument("day", metavar="YYYY-MM-DD", callback=_day)
@click.option("--theme", required=True, help="The meeting's theme: an interface area such as prescribing.")
@click.option("--time", "start", callback=_time, help="Start, HH:MM [default: meetings.time].")
@click.option("--title", default=None, help="Title shown in the agenda and calendars.")
@click.option("--location", default=None, help="Where [default: meetings.location].")
@click.pass_obj
def meeting_create(
    obj: Context, day: date, theme: str, start: time | None, title: str | None, location: str | None
) -> None:
    """Plan a meeting; prints its id."""
    app = obj.app()
    with transaction(app.factory) as session:
        created = meetings.create(app, session, day, theme, meetings.defaults(app, start, title, location))
        meeting_id = created.id
    click.echo(meeting_id)


@meeting.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def meeting_list(obj: Context, as_json: bool) -> None:
    """List meetings, soonest first."""
    app = obj.app()
    with app.factory() as session:
        rows = [_summary(app, m) for m in store.list_meetings(session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        theme = r["theme"] or "-"
        click.echo(f"{r['id']:>4}  {r['date']} {r['time']}  {r['status']:<10} {theme:<16} {r['title']}")
    if not rows:
        click.echo("no meetings")


@meeting.command("show")
@click.argument("meeting_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def meeting_show(obj: Context, meeting_id: int, as_json: bool) -> None:
    """Show one meeting and its agenda items."""
    app = obj.app()
    with app.factory() as session:
        detail = _detail(app, store.get_meeting(session, meeting_id))
    if as_json:
        click.echo(json.dumps(detail, indent=2))
        return
    for key, value in detail.items():
        if key != "items":
            click.echo(f"{key:>15}: {value}")
    click.echo("items:")
    for item in detail["items"]:
        label = item["reference"] or f"Item {item['position']}"
        click.echo(f"  {item['position']:>3}. {label}  {item['title']}")


@meeting.command("change")
@click.argument("meeting_id", type=int)
@click.option("--date", "day", callback=_day, help="New date, YYYY-MM-DD.")
@click.option("--time", "start", callback=_time, help="New start, HH:MM.")
@click.option("--title", default=None, help="New title.")
@click.option("--location", default=None, help="New location.")
@click.option("--length", "length_minutes", type=click.IntRange(min=1), help="New length in minutes.")
@click.pass_obj
def meeting_change(obj: Context, /, meeting_id: int, **fields: Any) -> None:
    """Change a planned meeting (send the agenda again to update calendars)."""
    app = obj.app()
    with transaction(app.factory) as session:
        found = store.get_meeting(session, meeting_id)
        changed = store.change_meeting(session, found, store.MeetingDetails(**fields), app.clock())
        sequence = found.sequence
    click.echo(f"meeting {meeting_id} changed (sequence {sequence})" if changed else "nothing changed")


@meeting.command("cancel")
@click.argument("meeting_id", type=int)
@click.pass_obj
def meeting_cancel(obj: Context, meeting_id: int) -> None:
    """Cancel a meeting; calendars that got the invitation get the cancellation."""
    app = obj.app()
    with transaction(app.factory) as session:
        sent = meetings.cancel(app, session, store.get_meeting(session, meeting_id))
    click.echo(f"meeting {meeting_id} cancelled; {sent.queued} cancellation(s) queued")


@meeting.command("add-item")
@click.argument("meeting_id", type=int)
@click.argument("title")
@click.pass_obj
def meeting_add_item(obj: Context, meeting_id: int, title: str) -> None:
    """Add an agenda item that is not an issue; prints its item number."""
    app = obj.app()
    with transaction(app.factory) as session:
        item = store.add_item(session, store.get_meeting(session, meeting_id), title, app.clock())
        number = item.position
    click.echo(f"item {number}")


@meeting.command("agenda")
@click.argument("meeting_id", type=int)
@click.option(
    "--send", is_flag=True, help="Queue it with an invitation to the agenda lists and administrators."
)
@click.pass_obj
def meeting_agenda(obj: Context, meeting_id: int, send: bool) -> None:
    """Print the agenda, or --send it (then deliver with `mailproc send`)."""
    app = obj.app()
    if not send:
        with app.factory() as session:
            rendered = meetings.render_agenda(app, session, store.get_meeting(session, meeting_id))
        click.echo(rendered.subject)
        click.echo(rendered.text)
        return
    with transaction(app.factory) as session:
        sent = meetings.send_agenda(app, session, store.get_meeting(session, meeting_id))
    click.echo(f"agenda queued for {sent.queued} recipient(s); {sent.unchanged} already had it")


@meeting.command("decide")
@click.argument("meeting_id", type=int)
@click.option(
    "--file", "path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The decisions, written as in the reply to the agenda (see README).",
)  # fmt: skip
@click.pass_obj
def meeting_decide(obj: Context, meeting_id: int, path: Path) -> None:
    """Apply a meeting's decisions from a file: all of them, or none (exit 2 naming the line)."""
    app = obj.app()
    text = path.read_text(encoding="utf-8")
    actor = Actor(address=_cli_user(), via=f"cli:{app.clock().isoformat()}")
    try:
        decisions = parse_decisions(text, vocabulary(app), app.today())
        with transaction(app.factory) as session:
            found = store.get_meeting(session, meeting_id)
            applied = apply_decisions(app, session, found, decisions, actor)
    except (CommandError, TriageRefused) as exc:
        raise UsageError(f"{path.name}: nothing applied. {exc}") from None
    for d in applied.decisions:
        where = f"line {d.line_no}, " if d.line_no else ""
        click.echo(f"{where}{d.subject}: {d.summary}" + (f" ({d.note})" if d.note else ""))
    for line in applied.mail:
        click.echo(f"queued {line}")
    for line in decisions.ignored:
        click.echo(f"not read: {line}")


@meeting.command("minutes")
@click.argument("meeting_id", type=int)
@click.option("--send", is_flag=True, help="Queue them to the distribution.minutes lists.")
@click.pass_obj
def meeting_minutes_command(obj: Context, meeting_id: int, send: bool) -> None:
    """Print the minutes, or --send them (a changed version goes as corrected minutes)."""
    app = obj.app()
    if not send:
        with app.factory() as session:
            rendered = meeting_minutes.render_minutes(app, session, store.get_meeting(session, meeting_id))
        click.echo(rendered.subject)
        click.echo(rendered.text)
        return
    with transaction(app.factory) as session:
        sent = meeting_minutes.send_minutes(app, session, store.get_meeting(session, meeting_id))
    if sent.unchanged:
        click.echo(f"minutes unchanged since version {sent.version} was sent; not sent again")
        return
    kind = "corrected minutes" if sent.version > 1 else "minutes"
    click.echo(f"{kind} version {sent.version} queued for {sent.queued} recipient(s)")
    for change in sent.changes:
        click.echo(f"  {change}")


meeting.add_command(actions_command, "actions")


def _cli_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _summary(app: App, m: Meeting) -> dict[str, Any]:
    view = meetings.meeting_view(app, m)
    return {
        "id": m.id, "reference": view.reference, "date": m.date.isoformat(), "time": f"{m.time:%H:%M}",
        "length_minutes": m.length_minutes, "theme": m.theme, "title": view.title, "location": m.location,
        "status": str(m.status), "sequence": m.sequence,
    }  # fmt: skip


def _detail(app: App, m: Meeting) -> dict[str, Any]:
    items = [
        {
            "position": i.position,
            "kind": str(i.kind),
            "reference": i.issue.reference if i.kind == MeetingItemKind.ISSUE and i.issue else None,
            "title": (meetings.issue_title(i.issue) if i.issue else i.title) or "",
            "discussion": i.discussion,
            "decision": i.decision,
            "action_owner": i.action_owner,
            "due_date": i.due_date.isoformat() if i.due_date else None,
        }
        for i in m.items
    ]
    return {
        **_summary(app, m),
        "attendees": list(m.attendees),
        "apologies": list(m.apologies),
        "items": items,
    }
