"""Meetings: the meeting record, its agenda, and the agenda's invitation to the distribution.

`views` reads meetings and agendas into the catalogue's plain views, `invite` makes the
iCalendar objects, `distribute` sends the agenda or the cancellation one email per recipient.
Writes to the tables are in `mailproc.store.meetings`.
"""

from __future__ import annotations

from datetime import date, time

from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.governance.meetings.distribute import (
    Sent,
    agenda_recipients,
    meeting_tag,
    send_agenda,
    send_cancellation,
)
from mailproc.governance.meetings.views import agenda_view, issue_title, meeting_reference, meeting_view
from mailproc.outbound.catalogue import group_view
from mailproc.outbound.render import Rendered
from mailproc.store import meetings as store
from mailproc.store.models import Meeting


def defaults(
    app: App, time_: time | None = None, title: str | None = None, location: str | None = None
) -> store.MeetingDetails:
    """A new meeting's details: what was given, else the `[meetings]` configuration."""
    m = app.settings.meetings
    return store.MeetingDetails(
        time=time_ or m.time,
        title=title or "",
        location=m.location if location is None else location,
        length_minutes=m.length_minutes,
    )


def create(app: App, session: Session, day: date, theme: str, details: store.MeetingDetails) -> Meeting:
    return store.create_meeting(session, day, theme.strip().lower(), details, app.clock())


def cancel(app: App, session: Session, meeting: Meeting) -> Sent:
    """Cancel the meeting and, if invitations went out, send METHOD:CANCEL to the same people."""
    store.cancel_meeting(meeting, app.clock())
    session.flush()
    return send_cancellation(app, session, meeting)


def render_agenda(app: App, session: Session, meeting: Meeting) -> Rendered:
    """The agenda as the lists get it (without any administrator's token), for printing."""
    view = agenda_view(app, session, meeting)
    context = {"group": group_view(app.settings), "members": app.settings.members, "issue": None}
    return app.renderer.render(
        "agenda", {**context, "agenda": view, "meeting": view.meeting, "tag": f"[{view.meeting.reference}]"}
    )


__all__ = [
    "Sent",
    "agenda_recipients",
    "agenda_view",
    "cancel",
    "create",
    "defaults",
    "issue_title",
    "meeting_reference",
    "meeting_tag",
    "meeting_view",
    "render_agenda",
    "send_agenda",
]
