"""Read-only views of issues for the CLI (text and JSON)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mailproc.errors import MailprocError
from mailproc.store.models import Issue
from mailproc.timefmt import local


def list_issues(session: Session, status: str | None = None) -> list[Issue]:
    stmt = select(Issue).order_by(Issue.year, Issue.seq)
    if status:
        stmt = stmt.where(Issue.status == status)
    return list(session.scalars(stmt))


def get_issue(session: Session, reference: str) -> Issue:
    stmt = (
        select(Issue)
        .where(Issue.reference == reference.upper())
        .options(selectinload(Issue.messages), selectinload(Issue.events))
    )
    issue = session.scalar(stmt)
    if issue is None:
        raise MailprocError(f"there is no issue {reference}; `mailproc issues list` shows them")
    return issue


def issue_summary(issue: Issue, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "reference": issue.reference,
        "status": issue.status,
        "subject": issue.subject,
        "title": issue.title,
        "public_summary": issue.public_summary,
        "submitter": issue.submitter_email,
        "area": issue.area,
        "suggested_area": issue.suggested_area,
        "source": issue.source_kind,
        "priority": issue.priority,
        "created": local(issue.created_at, tz, "%Y-%m-%dT%H:%M:%S%z"),
        "updated": local(issue.updated_at, tz, "%Y-%m-%dT%H:%M:%S%z"),
        "pid_detected": issue.pid_detected,
        "on_hold": issue.on_hold,
        "outcome": issue.outcome,
        "due_date": issue.due_date.isoformat() if issue.due_date else None,
        "delegated_to": issue.delegated_to,
    }


def issue_detail(issue: Issue, tz: ZoneInfo) -> dict[str, Any]:
    """Everything an administrator needs about one issue (the original, unredacted text)."""
    return {
        **issue_summary(issue, tz),
        "messages": [
            {
                "id": m.id, "kind": m.kind, "from": m.from_address, "subject": m.subject,
                "received": local(m.received_at, tz, "%Y-%m-%dT%H:%M:%S%z"),
                "message_id": m.message_id, "visible_text": m.visible_text,
                "attachments": [a.filename for a in m.attachments],
                "raw_kept": m.raw is not None,
            }
            for m in issue.messages
        ],
        "events": [
            {
                "at": local(e.at, tz, "%Y-%m-%dT%H:%M:%S%z"), "actor": e.actor, "via": e.via,
                "action": e.action, "detail": {k: v for k, v in e.detail.items() if k != "before"},
            }
            for e in issue.events
        ],
    }  # fmt: skip
