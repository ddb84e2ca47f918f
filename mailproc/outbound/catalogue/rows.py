"""Views read once from database rows and settings, before any email is written.

Each builder reads what its view needs with explicit queries, so that nothing is loaded
lazily later: the emails themselves are built from these views alone.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.config import Settings
from mailproc.outbound.catalogue.values import GroupView, IssueRef, IssueView, MessageView
from mailproc.privacy import detector
from mailproc.store.models import Attachment, Issue, Message, PidFinding

SUMMARY_LINES = 40  # of a message's text in a triage request or update


def group_view(settings: Settings) -> GroupView:
    g = settings.group
    return GroupView(name=g.name, address=g.address, members=settings.members, register_url=g.register_url)


def issue_view(session: Session, issue: Issue) -> IssueView:
    """The issue as it stands now (build it after the change an email reports)."""
    first = session.execute(
        select(Message.message_id, Message.visible_text, Message.text)
        .where(Message.issue_id == issue.id)
        .order_by(Message.id)
        .limit(1)
    ).first()
    return IssueView(
        id=issue.id,
        reference=issue.reference,
        subject=issue.subject,
        status=str(issue.status),
        priority=str(issue.priority),
        created_at=issue.created_at,
        submitter_email=issue.submitter_email or "",
        submitter_name=issue.submitter_name or "",
        area=issue.area or "",
        suggested_area=issue.suggested_area or "",
        source_kind=issue.source_kind or "",
        due_date=issue.due_date,
        pid_detected=bool(issue.pid_detected),
        pid_kinds=_pid_kinds(session, issue) if issue.pid_detected else (),
        first_message_id=first.message_id if first else None,
        as_submitted=(first.visible_text or first.text) if first else None,
        title=issue.title or "",
        public_summary=issue.public_summary or "",
    )


def _pid_kinds(session: Session, issue: Issue) -> tuple[str, ...]:
    found = session.scalars(
        select(PidFinding.kind).join(Message, PidFinding.message_id == Message.id).where(
            Message.issue_id == issue.id
        )
    )
    return tuple(detector.describe_kinds(found))


def issue_ref(issue: Issue) -> IssueRef:
    return IssueRef(reference=issue.reference, subject=issue.subject, status=str(issue.status))


def message_view(session: Session, message: Message) -> MessageView:
    """A message's sender, time, the first lines of its text and its attachments."""
    text = message.visible_text.strip() or message.text.strip()
    lines = text.splitlines()
    attachments = session.execute(
        select(Attachment.filename, Attachment.size)
        .where(Attachment.message_id == message.id)
        .order_by(Attachment.id)
    ).all()
    return MessageView(
        message_id=message.message_id,
        from_name=message.from_name,
        from_address=message.from_address,
        received_at=message.received_at,
        summary_lines=tuple(lines[:SUMMARY_LINES]),
        summary_truncated=len(lines) > SUMMARY_LINES,
        attachments=tuple((name, size) for name, size in attachments),
    )
