"""Sending a meeting's agenda with its invitation, and its cancellation: one email per recipient.

The recipients are the `distribution.agendas` lists ("members" is every member) and the
administrators, each address once. An administrator's copy carries a reply token for the
meeting in its subject tag (`[MTG-7 #token]`, the shape of an issue's tag), made with the
triage token scheme, so that the reply with the decisions can be recognised and trusted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.governance.meetings.invite import invitation
from mailproc.governance.meetings.views import agenda_view, meeting_view
from mailproc.outbound import catalogue, gate
from mailproc.outbound.compose import CalendarPart
from mailproc.store.meetings import MeetingError, mark_invited
from mailproc.store.models import Meeting
from mailproc.triage.tokens import make_token
from mailproc.vocabulary import MeetingStatus


@dataclass(frozen=True)
class Sent:
    """How many emails were queued, and how many recipients already had this very email."""

    queued: int
    unchanged: int


def agenda_recipients(app: App) -> tuple[str, ...]:
    """Every address of the agenda lists, then the administrators: each once, lower-cased."""
    s = app.settings
    found = dict.fromkeys(address for address, _ in list_recipients(app, s.distribution["agendas"]))
    found.update(dict.fromkeys(a.strip().lower() for a in s.triage.admins))
    return tuple(found)


def meeting_tag(app: App, meeting_id: int, recipient: str) -> str:
    """`[MTG-7 #token]` for an administrator (the token binds meeting, address and hour), else `[MTG-7]`."""
    reference = f"MTG-{meeting_id}"
    if recipient not in app.settings.triage.admins:
        return f"[{reference}]"
    token = make_token(app.settings.triage.secret, reference, recipient, app.clock())
    return f"[{reference} #{token}]"


def send_agenda(app: App, session: Session, meeting: Meeting) -> Sent:
    """Queue the agenda and invitation (METHOD:REQUEST) to every recipient, in the caller's
    transaction. An unchanged agenda at the same SEQUENCE is not queued twice."""
    if meeting.status != MeetingStatus.PLANNED:
        raise MeetingError(
            f"meeting {meeting.id} is {meeting.status}; only a planned meeting's agenda is sent"
        )
    view = agenda_view(app, session, meeting)
    sent = _each_recipient(
        app,
        session,
        "REQUEST",
        lambda to, tag, cal: catalogue.agenda(_group(app), view, to, tag, cal),
        meeting,
    )
    mark_invited(meeting, app.clock())
    return sent


def send_cancellation(app: App, session: Session, meeting: Meeting) -> Sent:
    """Queue METHOD:CANCEL to everyone invited; nothing when no invitation went out."""
    if meeting.invited_at is None:
        return Sent(queued=0, unchanged=0)
    view = meeting_view(app, meeting)
    return _each_recipient(
        app,
        session,
        "CANCEL",
        lambda to, tag, cal: catalogue.meeting_cancelled(_group(app), view, to, tag, cal),
        meeting,
    )


def _each_recipient(
    app: App,
    session: Session,
    method: str,
    write: Callable[[str, str, CalendarPart], catalogue.Email],
    meeting: Meeting,
) -> Sent:
    recipients = agenda_recipients(app)
    if not recipients:
        raise MeetingError(
            "no one to send to: set distribution.agendas or triage.admins in the configuration"
        )
    view = meeting_view(app, meeting)
    group = app.settings.group
    queued = unchanged = 0
    for to in recipients:
        cal = invitation(view, (group.name, group.address), to, app.domain, app.clock(), method)
        result = gate.send(session, app, write(to, meeting_tag(app, meeting.id, to), cal))
        if result.queued:
            queued += 1
        elif result.withheld == gate.Withheld.ALREADY_QUEUED:
            unchanged += 1
    return Sent(queued=queued, unchanged=unchanged)


def _group(app: App) -> catalogue.GroupView:
    return catalogue.group_view(app.settings)


def list_recipients(app: App, keys: tuple[str, ...]) -> tuple[tuple[str, catalogue.ListView], ...]:
    """Every address of the lists `keys` ("members": every member) once, lower-cased, each
    with the first of its lists, which its List-Id names."""
    s = app.settings
    domain = s.group.address.rpartition("@")[2]
    found: dict[str, catalogue.ListView] = {}
    for key in keys:
        if key == "members":
            view = catalogue.ListView(key, f"{s.group.name} members", domain)
            addresses = [m.email for m in s.members]
        else:
            view, addresses = catalogue.ListView(key, s.lists[key].name, domain), list(s.lists[key].addresses)
        for address in addresses:
            if address:
                found.setdefault(address.strip().lower(), view)
    return tuple(found.items())
