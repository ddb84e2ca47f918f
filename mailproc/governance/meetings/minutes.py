"""A meeting's minutes: read from the stored decisions, versioned, sent to the minutes lists.

Each sending stores a version with its content as labelled lines. Sending again compares
the minutes as they stand with the last version: unchanged minutes are not sent again; changed
ones go out as "Corrected minutes" listing what changed. One email per address of the
`distribution.minutes` lists (an address on two lists gets one), each with a List-Id, each
through the send gate and so through its redaction.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.governance.meetings.distribute import list_recipients
from mailproc.governance.meetings.views import agenda_view, issue_title, meeting_view
from mailproc.outbound import catalogue, gate
from mailproc.outbound.render import Rendered
from mailproc.store import minutes as versions
from mailproc.store.meetings import MeetingError
from mailproc.store.models import Issue, Meeting, MeetingItem
from mailproc.vocabulary import IssueStatus, MeetingItemKind, MeetingStatus


@dataclass(frozen=True)
class MinutesSent:
    """The version sent (or the unchanged one), how many emails were queued, what changed."""

    version: int
    queued: int
    unchanged: bool
    changes: tuple[str, ...] = ()


def minutes_view(app: App, session: Session, meeting: Meeting, version: int = 0) -> catalogue.MinutesView:
    """The minutes as they stand now (`version` 0 until sent)."""
    items = list(
        session.scalars(
            select(MeetingItem).where(MeetingItem.meeting_id == meeting.id).order_by(MeetingItem.position)
        )
    )
    return catalogue.MinutesView(
        meeting=meeting_view(app, meeting),
        version=version,
        attendees=tuple(meeting.attendees or ()),
        apologies=tuple(meeting.apologies or ()),
        items=tuple(_item(i) for i in items),
        actions=agenda_view(app, session, meeting).actions,
        closed=tuple(
            catalogue.ClosedIssue(i.issue.reference, issue_title(i.issue), i.issue.outcome or "")
            for i in items
            if i.issue is not None and i.issue.status == IssueStatus.CLOSED
        ),
    )


def _item(item: MeetingItem) -> catalogue.MinutesItem:
    issue: Issue | None = item.issue if item.kind == MeetingItemKind.ISSUE else None
    return catalogue.MinutesItem(
        number=item.position,
        reference=issue.reference if issue else "",
        title=issue_title(issue) if issue else (item.title or ""),
        discussion=item.discussion or "",
        decision=item.decision or "",
        action_owner=item.action_owner or "",
        due_date=item.due_date,
    )


def content_lines(view: catalogue.MinutesView) -> tuple[str, ...]:
    """What the minutes record of the meeting, one labelled line per fact: the form versions
    are compared in."""
    lines = [
        f"Attendees: {', '.join(view.attendees) or '-'}",
        f"Apologies: {', '.join(view.apologies) or '-'}",
    ]
    for item in view.items:
        label = item.reference or f"Item {item.number}"
        lines.append(f"{label}: {item.title}")
        for name, value in (("discussion", item.discussion), ("decision", item.decision),
                            ("action owner", item.action_owner)):  # fmt: skip
            lines.extend(f"{label} {name}: {part}" for part in value.splitlines() if part.strip())
        if item.due_date:
            lines.append(f"{label} due: {date_long(item.due_date)}")
    # Not the action log: it moves with every later delegation and response, and that alone
    # must not send "Corrected minutes" of this meeting. Each version shows it as it stands.
    lines.extend(f"{c.reference} outcome: {c.outcome}" for c in view.closed)
    return tuple(lines)


def render_minutes(app: App, session: Session, meeting: Meeting) -> Rendered:
    """The minutes as they stand, for printing (the lists' copy without List-Id)."""
    view = minutes_view(app, session, meeting)
    context = {"group": catalogue.group_view(app.settings), "members": app.settings.members, "issue": None}
    return app.renderer.render("minutes", {**context, "minutes": view, "meeting": view.meeting})


def send_minutes(app: App, session: Session, meeting: Meeting) -> MinutesSent:
    """Queue the minutes to every address of the minutes lists, unless unchanged since sent."""
    _require_decided(meeting)
    recipients = list_recipients(app, app.settings.distribution.get("minutes", ()))
    if not recipients:
        raise MeetingError("no one to send the minutes to: set distribution.minutes in the configuration")
    view = minutes_view(app, session, meeting)
    content = "\n".join(content_lines(view))
    last = versions.latest(session, meeting.id)
    if last is not None and last.digest == versions.digest(content):
        return MinutesSent(version=last.version, queued=0, unchanged=True)
    changes = _changes(last.content, content) if last is not None else ()
    row = versions.add_version(session, meeting.id, content, app.clock())
    view = dataclasses.replace(view, version=row.version, changes=changes)
    group = catalogue.group_view(app.settings)
    queued = sum(
        1 for to, mailing_list in recipients
        if gate.send(session, app, catalogue.minutes(group, view, to, mailing_list)).queued
    )  # fmt: skip
    return MinutesSent(version=row.version, queued=queued, unchanged=False, changes=changes)


def date_long(value: date) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}"


def _changes(before: str, after: str) -> tuple[str, ...]:
    """What a correction changed: the lines taken out and the lines put in."""
    found = []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            found.append(f"was: {line[2:]}")
        elif line.startswith("+ "):
            found.append(f"now: {line[2:]}")
    return tuple(found)


def _require_decided(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingError(f"meeting {meeting.id} was cancelled; it has no minutes")
    if meeting.status != MeetingStatus.HELD:
        raise MeetingError(
            f"meeting {meeting.id} has no decisions yet: reply to its agenda with them, or run "
            f"`mailproc meeting decide {meeting.id} --file decisions.txt`"
        )
