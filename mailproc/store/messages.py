"""Writes to the message aggregate: inbound messages, attachments, and quarantined mail."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.intake.inbound import Inbound
from mailproc.store.models import (
    Attachment,
    Issue,
    Message,
    Quarantined,
)
from mailproc.vocabulary import MessageKind, QuarantineState


@dataclass(frozen=True)
class LogEntry:
    """How an inbound message is recorded."""

    kind: MessageKind
    visible_text: str
    redacted_text: str
    detail: Mapping[str, object]


def log_message(
    session: Session,
    msg: Inbound,
    raw: bytes,
    source_key: str,
    entry: LogEntry,
    issue: Issue | None,
    *,
    now: datetime,
) -> Message:
    """Store the message with its raw bytes and its attachments, received at `now`."""
    row = Message(
        issue_id=issue.id if issue else None,
        source_key=source_key,
        message_id=msg.message_id,
        sha256=msg.sha256,
        kind=entry.kind,
        from_address=stored_sender(msg),
        from_name=msg.from_name,
        subject=msg.subject,
        sent_at=msg.date,
        received_at=now,
        in_reply_to=msg.in_reply_to,
        references=list(msg.references),
        text=msg.text,
        visible_text=entry.visible_text,
        redacted_text=entry.redacted_text,
        detail=dict(entry.detail),
        raw=raw,
        raw_size=len(raw),
    )
    session.add(row)
    session.flush()
    for part in msg.attachments:
        session.add(
            Attachment(
                message_id=row.id,
                filename=part.filename,
                stored_name=f"{uuid.uuid4().hex}.bin",  # never the sender's name on disk
                content_type=part.content_type,
                size=len(part.data),
                sha256=hashlib.sha256(part.data).hexdigest(),
                data=part.data,
            )
        )
    return row


def quarantine_record(
    session: Session, source_key: str, raw: bytes, reason: str, size: int, *, now: datetime
) -> Quarantined:
    """Keep what could not be processed, with the reason, for `mailproc quarantine`."""
    row = Quarantined(
        source_key=source_key,
        reason=reason,
        raw=raw,
        raw_size=size,
        sha256=hashlib.sha256(raw).hexdigest(),
        status=QuarantineState.HELD,
        created_at=now,
    )
    session.add(row)
    return row


def logged_fate(session: Session, source_key: str) -> Literal["done", "quarantine"] | None:
    """ "done" or "quarantine" when this source message was already handled (a crash
    between our commit and the move at the source leaves it waiting there).

    A quarantined message that an administrator retried counts as done: its stored copy went
    through the flow, so the original, if still at the source, must not go through it again.
    """
    if session.scalar(select(Message.id).where(Message.source_key == source_key)):
        return "done"
    states = session.scalars(select(Quarantined.status).where(Quarantined.source_key == source_key))
    found = set(states)
    if QuarantineState.HELD in found:
        return "quarantine"
    if QuarantineState.RETRIED in found:
        return "done"
    return None


def find_message(session: Session, msg: Inbound) -> Message | None:
    """The logged message from `sender` with this Message-ID (the one with the same bytes
    first), or None.

    A copy that reached the mailbox by another hop (a second alias, a redelivery) differs
    only in its trace headers; it is the same email and must not open a second issue or be
    acknowledged twice. (An id missing from the message is derived from its bytes.) A
    Message-ID reused by somebody else is not theirs to merge into: that is a message of its own.
    """
    stmt = select(Message).where(
        Message.message_id == msg.message_id, Message.from_address == stored_sender(msg)
    )
    return session.scalar(stmt.order_by(Message.sha256 != msg.sha256, Message.id).limit(1))


def stored_sender(msg: Inbound) -> str:
    """The sender as the messages table keeps it: the trusted address, else every From address."""
    return (msg.from_address or ", ".join(msg.from_addresses))[:320]
