"""What a command will send, to whom and when, as the administrator's confirmation says it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from mailproc.store.models import Issue, OutboxMessage
from mailproc.timefmt import local

WHAT = {
    "outcome": "the outcome", "declined": "the decision to decline", "info-request": "the question",
    "delegated": "the delegation", "escalated": "the escalation", "progress": "a progress note",
    "duplicate": "the duplicate notice",
}  # fmt: skip


def describe(rows: Sequence[OutboxMessage], issue: Issue, now: datetime, tz: ZoneInfo) -> tuple[str, ...]:
    """One line per (email, time): "the outcome to gp@… at 03 Mar 2026 14:25 (UNDO before then
    stops it)"; mail to the submitter is named as such."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        due = due_at(row)
        when = (
            "now" if due <= now else f"at {local(due, tz, '%d %b %Y %H:%M %Z')} (UNDO before then stops it)"
        )
        whom = [_whom(r.address, issue) for r in row.recipients]
        grouped.setdefault((WHAT.get(row.template, f"the {row.template} email"), when), []).extend(whom)
    return tuple(f"{what} to {', '.join(whom)} {when}" for (what, when), whom in grouped.items())


def _whom(address: str, issue: Issue) -> str:
    return "the submitter" if address == (issue.submitter_email or "").lower() else address


def due_at(row: OutboxMessage) -> datetime:
    """When `row` goes (aware: SQLite hands back naive UTC)."""
    value = row.next_attempt_at
    return value if value.tzinfo else value.replace(tzinfo=UTC)
