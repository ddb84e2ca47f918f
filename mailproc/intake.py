"""Logging inbound mail: issues, messages, attachments and their events."""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from mailproc import references
from mailproc.inbound import Inbound
from mailproc.models import Attachment, Event, Issue, Message, Quarantined


@dataclass(frozen=True)
class Suggestion:
    area: str | None
    source_kind: str


def suggest(
    text: str, areas: Mapping[str, tuple[str, ...]], kinds: Mapping[str, tuple[str, ...]]
) -> Suggestion:
    """The interface area and submission source whose keywords occur most often."""
    lowered = text.lower()
    return Suggestion(area=_best(lowered, areas), source_kind=_best(lowered, kinds) or "clinician")


def _best(text: str, table: Mapping[str, tuple[str, ...]]) -> str | None:
    """The key whose words occur most often (whole words: "emis" must not match "premises")."""
    scores = {key: sum(len(_word(w).findall(text)) for w in words) for key, words in table.items()}
    best = max(scores.items(), key=lambda kv: kv[1], default=(None, 0))
    return best[0] if best[1] > 0 else None


@functools.lru_cache(maxsize=512)
def _word(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)")


def create_issue(session: Session, msg: Inbound, prefix: str, suggestion: Suggestion, now: datetime) -> Issue:
    """A new issue awaiting triage, with the next reference of the year."""
    reference, seq = references.allocate(session, prefix, now.year)
    issue = Issue(
        reference=reference,
        year=now.year,
        seq=seq,
        status="awaiting-triage",
        subject=msg.subject or "(no subject)",
        submitter_email=msg.from_address,
        submitter_name=msg.from_name,
        suggested_area=suggestion.area,
        source_kind=suggestion.source_kind,
        created_at=now,
        updated_at=now,
    )
    session.add(issue)
    session.flush()
    return issue


@dataclass(frozen=True)
class LogEntry:
    """How an inbound message is recorded."""

    kind: str  # new | reply | automatic | command | rejected-command
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
) -> Message:
    """Store the message with its raw bytes and its attachments."""
    row = Message(
        issue_id=issue.id if issue else None,
        source_key=source_key,
        message_id=msg.message_id,
        sha256=msg.sha256,
        kind=entry.kind,
        from_address=(msg.from_address or ", ".join(msg.from_addresses))[:320],
        from_name=msg.from_name,
        subject=msg.subject,
        sent_at=msg.date,
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


def add_event(
    session: Session,
    issue: Issue | None,
    actor: str,
    via: str,
    action: str,
    now: datetime,
    **detail: object,
) -> Event:
    """One line of the audit trail."""
    event = Event(
        issue_id=issue.id if issue else None,
        at=now,
        actor=(actor or "unknown")[:320],
        via=via,
        action=action,
        detail=detail,
    )
    session.add(event)
    if issue is not None:
        issue.updated_at = now
    return event


def quarantine_record(session: Session, source_key: str, raw: bytes, reason: str, size: int) -> Quarantined:
    """Keep what could not be processed, with the reason, for `mailproc quarantine`."""
    row = Quarantined(
        source_key=source_key,
        reason=reason,
        raw=raw,
        raw_size=size,
        sha256=hashlib.sha256(raw).hexdigest(),
        status="held",
    )
    session.add(row)
    return row
