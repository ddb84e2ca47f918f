"""What UNDO may take back, read from the audit trail and the outbox.

A command's event records the fields it changed (`before`, `after`) and the outbox messages
it queued (`emails`). UNDO restores those fields only when nobody changed them since (another
administrator, an UNDO of theirs, or the flow, e.g. a submitter's reply re-opening triage),
and never reopens an issue whose outcome email has gone out. Emails still waiting are
cancelled; `apply._undo` does the restoring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mailproc.outbound import outbox
from mailproc.store.models import Event, Issue, OutboxMessage
from mailproc.timefmt import local
from mailproc.vocabulary import FINAL_STATUSES, DeliveryState, RecipientState

LABELS = {
    "meeting_id": "the meeting", "delegated_to": "the delegation", "due_date": "the due date",
    "duplicate_of_id": "the issue it duplicates",
}  # fmt: skip


@dataclass(frozen=True)
class Change:
    """A later change to one field: what it became, who changed it, when and why."""

    field: str
    value: object
    actor: str
    at: datetime
    why: str = ""


@dataclass(frozen=True)
class Plan:
    """An UNDO that may go ahead: the emails to cancel and those already gone."""

    closes: bool  # the command made the issue final (closed, declined, duplicate)
    cancel: tuple[OutboxMessage, ...]
    gone: tuple[OutboxMessage, ...]


class Blocked(Exception):
    """UNDO must not go ahead; the message says what changed since (or what went out)."""


def plan(session: Session, issue: Issue, command: Event, current: Mapping[str, object], tz: ZoneInfo) -> Plan:
    """What undoing `command` involves, or Blocked naming every reason it must not happen."""
    before = _mapping(command.detail.get("before"))
    changes = later_changes(session, command, before)
    reasons = [_describe(c, tz) for c in changes]
    # A change that left no event behind still shows: the field is not what the command left.
    after, touched = _mapping(command.detail.get("after")), {c.field for c in changes}
    for field in (after.keys() & before.keys()) - touched:
        if current.get(field) != after[field]:
            label = LABELS.get(field, field)
            reasons.append(f"{label} is now {_shown(current.get(field))}, not {_shown(after[field])}")
    if reasons:
        raise Blocked("; ".join(reasons))
    emails = _emails(session, command)
    gone = tuple(row for row in emails or () if _gone_out(row))
    closes = "status" in before and issue.status in FINAL_STATUSES
    if closes and emails is None:
        raise Blocked(
            "it was applied before mailproc recorded the emails a command sends, so they may have gone"
        )
    if closes and gone:
        raise Blocked("; ".join(went_out(row, issue, tz) for row in gone))
    return Plan(closes, cancel=tuple(row for row in emails or () if row not in gone), gone=gone)


def later_changes(session: Session, command: Event, fields: Mapping[str, object]) -> list[Change]:
    """The latest change since `command` to each of `fields`; a command that was itself
    undone since, and its UNDO, cancel out and change nothing."""
    later = list(
        session.scalars(
            select(Event).where(Event.issue_id == command.issue_id, Event.id > command.id).order_by(Event.id)
        )
    )
    undone = {e.detail.get("undid") for e in later if e.action == "undo"}
    latest: dict[str, Change] = {}
    for event in later:
        if event.id in undone:
            continue
        for change in _changes(event, command.id):
            if change.field in fields:
                latest[change.field] = change
    return list(latest.values())


def _changes(event: Event, since: int) -> list[Change]:
    """The fields `event` changed, as far as the audit trail tells."""
    detail = event.detail
    if event.action == "status":  # the flow, e.g. a submitter's reply re-opening triage
        return [Change("status", detail.get("status"), event.actor, event.at, str(detail.get("reason", "")))]
    if event.action == "command":
        after = _mapping(detail.get("after"))
        fields = _mapping(detail.get("before"))
        return [Change(f, after.get(f, "something else"), event.actor, event.at) for f in fields]
    undid = detail.get("undid")
    if event.action == "undo" and isinstance(undid, int) and undid < since:
        restored = _mapping(detail.get("restored"))
        return [Change(f, v, event.actor, event.at, "UNDO") for f, v in restored.items()]
    return []


def cancel_waiting(
    session: Session, todo: Plan, issue: Issue, tz: ZoneInfo
) -> tuple[int, list[OutboxMessage]]:
    """Cancel the plan's waiting emails: (how many were cancelled, every email that has gone).

    A delivery worker may claim one between the plan and now; for a command that closed the
    issue that blocks the UNDO (the caller's savepoint rolls back what was cancelled).
    """
    missed = [row for row in todo.cancel if not outbox.cancel(session, row.id)]
    for row in missed:
        session.refresh(row)
    if todo.closes and missed:
        raise Blocked("; ".join(went_out(row, issue, tz) for row in missed))
    return len(todo.cancel) - len(missed), [*todo.gone, *missed]


def summary(keyword: str, cancelled: int, gone: Sequence[OutboxMessage], issue: Issue, tz: ZoneInfo) -> str:
    """What an UNDO did, for the confirmation: "undid CLOSE; 2 email(s) not yet sent were cancelled"."""
    parts = [f"undid {keyword}"]
    if cancelled:
        parts.append(f"{cancelled} email(s) not yet sent were cancelled")
    parts += [f"{went_out(row, issue, tz)} and cannot be recalled" for row in gone]
    return "; ".join(parts)


def went_out(row: OutboxMessage, issue: Issue, tz: ZoneInfo) -> str:
    """ "the outcome email to the submitter was sent at 03 Mar 2026 14:05" (or has started)."""
    what = f"the {row.template} email to {_whom(row, issue)}"
    if row.state == DeliveryState.SENT and row.sent_at is not None:
        return f"{what} was sent at {local(row.sent_at, tz)}"
    return f"delivery of {what} has started"


def _gone_out(row: OutboxMessage) -> bool:
    """Sent, or being sent: an attempt was claimed, or a recipient accepted it."""
    if row.state == DeliveryState.CANCELLED:
        return False
    started = row.state == DeliveryState.PENDING and row.attempts > 0
    return (
        row.state == DeliveryState.SENT
        or started
        or any(r.state == RecipientState.SENT for r in row.recipients)
    )


def _emails(session: Session, command: Event) -> list[OutboxMessage] | None:
    """The outbox messages `command` queued; None for a command from before they were recorded."""
    ids = command.detail.get("emails")
    if not isinstance(ids, list):
        return None
    query = (
        select(OutboxMessage).where(OutboxMessage.id.in_(ids)).options(selectinload(OutboxMessage.recipients))
    )
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def _whom(row: OutboxMessage, issue: Issue) -> str:
    addresses = [r.address for r in row.recipients]
    if addresses == [issue.submitter_email.lower()]:
        return "the submitter"
    return ", ".join(addresses)


def _describe(change: Change, tz: ZoneInfo) -> str:
    text = f"{LABELS.get(change.field, change.field)} was changed to {_shown(change.value)} by {change.actor}"
    text += f" at {local(change.at, tz)}"
    return f"{text} ({change.why})" if change.why else text


def _shown(value: object) -> str:
    return "nothing" if value is None or value == "" else str(value)


def _mapping(value: object) -> dict[str, object]:
    return dict(value) if isinstance(value, dict) else {}
