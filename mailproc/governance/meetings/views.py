"""Meetings and their agendas read once from the database into the catalogue's plain views."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.outbound.catalogue import AgendaIssue, AgendaItem, AgendaView, MeetingView
from mailproc.store.models import Issue, Meeting, MeetingItem
from mailproc.vocabulary import IssueStatus, MeetingItemKind, MeetingStatus


def meeting_reference(meeting_id: int) -> str:
    """How tags, tokens and replies name a meeting: `MTG-<id>`."""
    return f"MTG-{meeting_id}"


def meeting_view(app: App, meeting: Meeting) -> MeetingView:
    tz = app.settings.group.timezone
    start = local_start(meeting, tz)
    theme = f" ({meeting.theme})" if meeting.theme else ""
    return MeetingView(
        id=meeting.id,
        reference=meeting_reference(meeting.id),
        date=meeting.date,
        start=start,
        end=start + timedelta(minutes=meeting.length_minutes),
        theme=meeting.theme,
        title=meeting.title or f"{app.settings.group.name} meeting{theme}",
        location=meeting.location,
        status=str(meeting.status),
        sequence=meeting.sequence,
    )


def local_start(meeting: Meeting, tz: ZoneInfo) -> datetime:
    """The start as an aware time in the group's zone (the offset follows summer time)."""
    return datetime.combine(meeting.date, meeting.time, tzinfo=tz)


def agenda_view(app: App, session: Session, meeting: Meeting) -> AgendaView:
    """The agenda of `meeting` as it stands now."""
    others = list(
        session.scalars(select(Meeting).where(Meeting.id != meeting.id).order_by(Meeting.date, Meeting.time))
    )
    previous = [m for m in others if m.date < meeting.date and m.status != MeetingStatus.CANCELLED]
    following = [m for m in others if m.date > meeting.date and m.status == MeetingStatus.PLANNED]
    items = list(
        session.scalars(
            select(MeetingItem).where(MeetingItem.meeting_id == meeting.id).order_by(MeetingItem.position)
        )
    )
    scheduled_ids = [i.issue_id for i in items if i.kind == MeetingItemKind.ISSUE and i.issue_id is not None]
    return AgendaView(
        meeting=meeting_view(app, meeting),
        previous=meeting_view(app, previous[-1]) if previous else None,
        actions=tuple(_agenda_issue(app, i) for i in _open_actions(session)),
        scheduled=tuple(_agenda_issue(app, i) for i in _issues_in_order(session, scheduled_ids)),
        suggestions=tuple(_agenda_issue(app, i) for i in _suggestions(session, meeting)),
        items=tuple(
            AgendaItem(number=i.position, title=i.title or "")
            for i in items
            if i.kind == MeetingItemKind.ITEM
        ),
        next_meeting=meeting_view(app, following[0]) if following else None,
    )


def _open_actions(session: Session) -> list[Issue]:
    stmt = select(Issue).where(Issue.status == IssueStatus.DELEGATED).order_by(Issue.due_date, Issue.id)
    return list(session.scalars(stmt))


def _issues_in_order(session: Session, ids: list[int]) -> list[Issue]:
    found = {i.id: i for i in session.scalars(select(Issue).where(Issue.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def _suggestions(session: Session, meeting: Meeting) -> list[Issue]:
    if not meeting.theme:
        return []
    stmt = (
        select(Issue)
        .where(Issue.status == IssueStatus.ACCEPTED, Issue.meeting_id.is_(None), Issue.area == meeting.theme)
        .order_by(Issue.year, Issue.seq)
    )
    return list(session.scalars(stmt))


def _agenda_issue(app: App, issue: Issue) -> AgendaIssue:
    group = app.settings.groups.get(issue.delegated_to or "")
    return AgendaIssue(
        reference=issue.reference,
        title=issue_title(issue),
        status=str(issue.status),
        area=issue.area or "",
        delegated_to=group.name if group else (issue.delegated_to or ""),
        due_date=issue.due_date,
    )


def issue_title(issue: Issue) -> str:
    """What agendas and minutes call an issue. They go to lists, so it is the words an
    administrator chose (public summary, else working title), never the submitter's subject;
    the send gate redacts it with the rest of the email."""
    return issue.public_summary or issue.title or f"Issue {issue.reference}"
