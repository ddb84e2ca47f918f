"""Emails about meetings: the agenda with its invitation, and the cancellation.

The views here are read once by `mailproc.governance.meetings` from the database; an agenda
goes to one recipient per email, so that nobody sees the distribution list and each
administrator's copy carries that administrator's reply token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from mailproc.outbound.catalogue.values import Email, GroupView, Incoming, make_email
from mailproc.outbound.compose import CalendarPart


@dataclass(frozen=True)
class MeetingView:
    """A meeting as its emails show it; `start` and `end` are aware, in the group's time zone."""

    id: int
    reference: str  # "MTG-<id>": how replies and tags name the meeting
    date: date
    start: datetime
    end: datetime
    theme: str
    title: str  # the title given, else one made from the group and theme
    location: str
    status: str
    sequence: int


@dataclass(frozen=True)
class AgendaIssue:
    """An issue on an agenda, under the administrator's working title or else its subject."""

    reference: str
    title: str
    status: str
    area: str
    delegated_to: str = ""  # the operational group's name, for an open delegated action
    due_date: date | None = None


@dataclass(frozen=True)
class AgendaItem:
    """An item added by hand; `number` is its ITEM number in a decisions reply."""

    number: int
    title: str


@dataclass(frozen=True)
class AgendaView:
    """Everything an agenda lists, in the order NHS committees write it."""

    meeting: MeetingView
    previous: MeetingView | None  # whose minutes are to be agreed
    actions: tuple[AgendaIssue, ...]  # matters arising: open delegated actions
    scheduled: tuple[AgendaIssue, ...]
    suggestions: tuple[AgendaIssue, ...]  # accepted, unscheduled, of the meeting's theme
    items: tuple[AgendaItem, ...]
    next_meeting: MeetingView | None


def agenda(group: GroupView, view: AgendaView, to: str, tag: str, calendar: CalendarPart) -> Email:
    """The agenda and its invitation to one recipient; `tag` is the subject's `[MTG-n #token]`."""
    meeting = view.meeting
    return make_email(
        "agenda",
        group,
        None,
        to=(to,),
        purpose="agenda",
        # A new SEQUENCE or a changed agenda is a new email; the same one twice is not.
        unique=f"{meeting.reference}/{meeting.sequence}/{_digest(view)}/{to}",
        context={"agenda": view, "meeting": meeting, "tag": tag},
        calendar=calendar,
    )


def meeting_cancelled(
    group: GroupView, meeting: MeetingView, to: str, tag: str, calendar: CalendarPart
) -> Email:
    """The cancellation (METHOD:CANCEL) to one recipient of the invitation."""
    return make_email(
        "meeting-cancelled",
        group,
        None,
        to=(to,),
        purpose="meeting-cancelled",
        unique=f"{meeting.reference}/{meeting.sequence}/{to}",
        context={"meeting": meeting, "tag": tag},
        calendar=calendar,
    )


def agenda_reply(
    group: GroupView, meeting: MeetingView, incoming: Incoming, text: str, admin: str, tag: str
) -> Email:
    """A colleague's reply to an agenda (apologies, a comment) for one administrator: the
    agenda goes out one email per recipient, so reply-all reaches only the group's mailbox,
    and without this nobody would read it. Nothing in it is applied."""
    return make_email(
        "agenda-reply",
        group,
        None,
        to=(admin,),
        unique=f"agenda-reply/{incoming.message_id}/{admin}",
        context={
            "meeting": meeting, "tag": tag, "sender": incoming.sender, "subject": incoming.subject,
            "text": text,
        },
    )


def _digest(view: AgendaView) -> str:
    return hashlib.sha256(repr(view).encode()).hexdigest()[:12]
