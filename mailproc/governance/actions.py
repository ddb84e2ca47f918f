"""The action log: a DELEGATE is an action for an operational group with a due date, and the
group's reply to the delegation email is its response.

No table of its own: the owner and due date are the issue's `delegated_to` and `due_date`,
the delegation is the latest DELEGATE "command" event, and a response is a "group-response"
event after it. The state (open, answered, overdue) is derived from those, never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.store.issues import add_event
from mailproc.store.models import Event, Issue
from mailproc.vocabulary import parse_our_message_id, subject_tag

GROUP_RESPONSE = "group-response"  # the Event action of a group's response
# Our emails a group answers: the delegation itself, and the reminders that chase it.
_ANSWERABLE = frozenset({"delegated", "reminder"})


class ActionState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Action:
    """One delegated action as the log lists it."""

    reference: str
    group: str
    due_date: date | None
    state: ActionState
    response_at: datetime | None

    def as_json(self, tz: ZoneInfo) -> dict[str, object]:
        """The action for `--json`; the response date in the group's time zone."""
        responded = self.response_at.astimezone(tz).date().isoformat() if self.response_at else None
        due = self.due_date.isoformat() if self.due_date else None
        return {"reference": self.reference, "group": self.group, "due_date": due,
                "state": str(self.state), "response_date": responded}  # fmt: skip


@dataclass(frozen=True)
class Reply:
    """What decides whether an inbound reply is a group's response: plain values from the flow."""

    sender: str  # "" when the From could not be trusted
    subject: str
    thread_ids: Sequence[str]  # In-Reply-To and References


def response_of(session: Session, issue: Issue) -> Event | None:
    """The latest response to the issue's current delegation, or None."""
    since = _delegation_event_id(session, issue)
    if since is None:
        return None
    stmt = (
        select(Event)
        .where(Event.issue_id == issue.id, Event.action == GROUP_RESPONSE, Event.id > since)
        .order_by(Event.id.desc())
    )
    return session.scalars(stmt.limit(1)).first()


def _delegation_event_id(session: Session, issue: Issue) -> int | None:
    """The id of the latest DELEGATE command on the issue (a re-delegation starts a new action)."""
    stmt = (
        select(Event).where(Event.issue_id == issue.id, Event.action == "command").order_by(Event.id.desc())
    )
    return next((e.id for e in session.scalars(stmt) if e.detail.get("keyword") == "DELEGATE"), None)


def is_group_response(app: App, issue: Issue, reply: Reply) -> bool:
    """A reply from a contact of the group the issue is delegated to, threaded by the
    delegation email (its Message-ID in the reply's thread, or the reference in the subject)."""
    group = app.settings.groups.get(issue.delegated_to or "")
    if group is None or not reply.sender or reply.sender.lower() not in {c.lower() for c in group.contact}:
        return False
    tag = subject_tag(reply.subject, app.settings.group.reference_prefix)
    if tag is not None and tag.reference == issue.reference:
        return True
    for mid in reply.thread_ids:
        ours = parse_our_message_id(mid, app.domain)
        if ours is not None and ours.reference == issue.reference and ours.purpose in _ANSWERABLE:
            return True
    return False


def record_response(app: App, session: Session, issue: Issue, reply: Reply, via: str, text: str) -> Event:
    """The group's response (its trimmed text) on the issue: the action is answered."""
    return add_event(session, issue, reply.sender, via, GROUP_RESPONSE, app.clock(),
                     group=issue.delegated_to, text=text.strip())  # fmt: skip


def action_of(session: Session, issue: Issue, today: date) -> Action:
    """The issue's delegation as an action, its state derived from the response and due date."""
    response = response_of(session, issue)
    if response is not None:
        state = ActionState.ANSWERED
    elif issue.due_date is not None and issue.due_date < today:
        state = ActionState.OVERDUE
    else:
        state = ActionState.OPEN
    return Action(
        reference=issue.reference,
        group=issue.delegated_to or "",
        due_date=issue.due_date,
        state=state,
        response_at=response.at if response else None,
    )


def list_actions(session: Session, today: date, open_only: bool = False) -> list[Action]:
    """Every delegated action, soonest due first; `open_only` leaves out answered ones."""
    stmt = select(Issue).where(Issue.delegated_to.is_not(None)).order_by(Issue.due_date, Issue.id)
    found = [action_of(session, issue, today) for issue in session.scalars(stmt)]
    return [a for a in found if not (open_only and a.state is ActionState.ANSWERED)]
