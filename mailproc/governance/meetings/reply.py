"""An email tagged with a meeting (`[MTG-7 #token]`): the administrator's decisions reply to
the agenda, or anyone else's reply to it.

Authorisation is triage's (allow-list, a token made for `MTG-<id>` and this administrator,
DMARC where configured). The decisions are read, applied all or nothing, and answered: a
confirmation listing every decision and the mail that follows, or the error naming the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.governance.meetings.decide import apply_decisions
from mailproc.governance.meetings.decisions import parse_decisions
from mailproc.governance.meetings.distribute import meeting_tag
from mailproc.governance.meetings.views import meeting_view
from mailproc.intake.inbound import Inbound
from mailproc.outbound import catalogue, gate
from mailproc.store.models import Meeting, Message
from mailproc.triage.apply import Actor, TriageRefused
from mailproc.triage.auth import check_sender
from mailproc.triage.commands import sender_problem, vocabulary
from mailproc.triage.grammar import CommandError

# Bounded repetitions only: linear on any subject.
_TAG = re.compile(r"\[[ \t]{0,5}MTG-([0-9]{1,9})(?:[ \t]{1,5}#[ \t]{0,5}([0-9A-Za-z-]{1,40}))?[ \t]{0,5}\]")


@dataclass(frozen=True)
class MeetingTag:
    meeting_id: int
    token: str | None


@dataclass(frozen=True)
class MeetingVerdict:
    """Whether a tagged email may decide its meeting: `problem` is "" when it may. `admin`
    is False for a sender who is not on the allow-list at all (a colleague's reply-all)."""

    tag: MeetingTag
    meeting: Meeting | None
    admin: bool
    problem: str


def meeting_tag_in(subject: str) -> MeetingTag | None:
    """The one meeting tag in the subject; None without one, or with several different ones."""
    found = {(int(m[1]), m[2]) for m in _TAG.finditer(subject)}
    ids = {meeting_id for meeting_id, _ in found}
    if len(ids) != 1:
        return None
    tokens = {token for _, token in found if token}
    return MeetingTag(ids.pop(), tokens.pop() if len(tokens) == 1 else None)


def authorise(app: App, session: Session, msg: Inbound, tag: MeetingTag) -> MeetingVerdict:
    meeting = session.get(Meeting, tag.meeting_id)
    sender = check_sender(msg.from_addresses, msg.from_defects, app.settings.triage.admins)
    reference = f"MTG-{tag.meeting_id}"
    problem = sender_problem(app, msg, reference, tag.token, meeting is not None)
    return MeetingVerdict(tag, meeting, sender.ok and sender.admin is not None, problem)


def run_decisions(app: App, session: Session, meeting: Meeting, msg: Inbound, row: Message) -> str:
    """Read the logged reply, apply every decision or none, and answer the administrator."""
    actor = Actor(address=msg.from_address, via=msg.message_id)
    incoming = catalogue.Incoming(msg.from_address, msg.message_id, msg.references, msg.subject)
    group = catalogue.group_view(app.settings)
    tag = meeting_tag(app, meeting.id, msg.from_address)
    try:
        decisions = parse_decisions(row.visible_text, vocabulary(app), app.today())
        applied = apply_decisions(app, session, meeting, decisions, actor)
    except (CommandError, TriageRefused) as exc:
        error = str(exc)
        row.detail = {**row.detail, "error": error}
        view = meeting_view(app, meeting)
        gate.send(session, app, catalogue.decisions_error(group, view, incoming, tag, error))
        return f"decisions not applied: {error}"
    view = meeting_view(app, meeting)
    decided = (applied.decisions, applied.mail, decisions.ignored)
    gate.send(session, app, catalogue.decisions_confirmation(group, view, incoming, tag, decided))
    return f"{len(applied.decisions)} decision(s) applied to MTG-{meeting.id}"


def pass_on_reply(app: App, session: Session, meeting: Meeting | None, msg: Inbound, row: Message) -> int:
    """A colleague's reply to the agenda, to every administrator (nothing applied); returns
    how many were queued. Replies to a meeting we do not know, or from a sender we could not
    trust (the reply would name someone else), go nowhere."""
    if meeting is None or not msg.sender_trusted:
        return 0
    incoming = catalogue.Incoming(msg.from_address, msg.message_id, msg.references, msg.subject)
    group, view = catalogue.group_view(app.settings), meeting_view(app, meeting)
    queued = 0
    for admin in app.settings.triage.admins:
        tag = meeting_tag(app, meeting.id, admin)
        email = catalogue.agenda_reply(group, view, incoming, row.visible_text, admin, tag)
        queued += gate.send(session, app, email).queued
    return queued
