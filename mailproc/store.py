"""Database look-ups the pipeline needs, kept out of the pipeline's flow."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from mailproc.compose import parse_our_message_id
from mailproc.db import transaction
from mailproc.models import Issue, Message, OutboxMessage, Quarantined, SourceAttempt, SourceCursor


class DbThreadLookup:
    """Answers classify's questions about threads from the database."""

    def __init__(self, session: Session, domain: str) -> None:
        self.session = session
        self.domain = domain

    def issue_for_reference(self, reference: str) -> str | None:
        return self.session.scalar(select(Issue.reference).where(Issue.reference == reference))

    def issue_for_message_ids(self, ids: Sequence[str]) -> str | None:
        for mid in reversed(ids):  # the nearest ancestor is last in References
            ref = self._reference_of(mid)
            if ref:
                return ref
        return None

    def is_own_message_id(self, message_id: str) -> bool:
        return parse_our_message_id(message_id, self.domain) is not None

    def is_triage_message_id(self, message_ids: Sequence[str]) -> str | None:
        for mid in message_ids:
            ours = parse_our_message_id(mid, self.domain)
            # Every email that carries an administrator's token (triage request, update,
            # confirmation, error) has the purpose "triage-<token>".
            if ours and ours[0] and ours[1].startswith("triage-"):
                return self.issue_for_reference(ours[0])
        return None

    def _reference_of(self, mid: str) -> str | None:
        ours = parse_our_message_id(mid, self.domain)
        if ours and ours[0]:
            return self.issue_for_reference(ours[0])
        stmt = (
            select(Issue.reference)
            .join(OutboxMessage, OutboxMessage.issue_id == Issue.id)
            .where(OutboxMessage.message_id == mid)
        )
        ref = self.session.scalar(stmt)
        if ref:
            return ref
        stmt = select(Issue.reference).join(Message, Message.issue_id == Issue.id)
        return self.session.scalar(stmt.where(Message.message_id == mid).limit(1))


class DbCursorStore:
    """Keeps each source's UIDVALIDITY and last UID in the database."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def load(self, source: str) -> tuple[int, int] | None:
        with self.factory() as session:
            row = session.get(SourceCursor, source)
            return (row.uidvalidity, row.last_uid) if row else None

    def save(self, source: str, uidvalidity: int, last_uid: int) -> None:
        with transaction(self.factory) as session:
            row = session.get(SourceCursor, source)
            if row is None:
                session.add(SourceCursor(source=source, uidvalidity=uidvalidity, last_uid=last_uid))
            else:
                row.uidvalidity, row.last_uid = uidvalidity, last_uid


def logged_fate(session: Session, source_key: str) -> str | None:
    """ "done" or "quarantine" when this source message was already handled (a crash
    between our commit and the move at the source leaves it waiting there)."""
    if session.scalar(select(Message.id).where(Message.source_key == source_key)):
        return "done"
    quarantined = select(Quarantined.id).where(
        Quarantined.source_key == source_key, Quarantined.status == "held"
    )
    if session.scalar(quarantined):
        return "quarantine"
    return None


def find_message(session: Session, message_id: str, sha256: str) -> Message | None:
    """The logged message with this Message-ID (the one with the same bytes first), or None.

    A copy that reached the mailbox by another hop (a second alias, a redelivery) differs
    only in its trace headers; it is the same email and must not open a second issue or be
    acknowledged twice. (An id missing from the message is derived from its bytes.)
    """
    stmt = select(Message).where(Message.message_id == message_id)
    return session.scalar(stmt.order_by(Message.sha256 != sha256, Message.id).limit(1))


def bump_attempt(factory: sessionmaker[Session], source_key: str, now: datetime) -> int:
    """Count one more try at a source message, committed before the try itself.

    An upsert, because two pollers may reach the same message at the same moment.
    """
    with transaction(factory) as session:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = insert(SourceAttempt).values(source_key=source_key, attempts=1, last_error="", updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["source_key"],
            set_={"attempts": SourceAttempt.attempts + 1, "updated_at": now},
        )
        return int(session.execute(stmt.returning(SourceAttempt.attempts)).scalar_one())


def record_failure(factory: sessionmaker[Session], source_key: str, error: str) -> None:
    with transaction(factory) as session:
        row = session.get(SourceAttempt, source_key)
        if row is not None:
            row.last_error = error[:2000]


def last_failure(session: Session, source_key: str) -> str:
    row = session.get(SourceAttempt, source_key)
    return row.last_error if row else ""


def clear_attempts(session: Session, source_key: str) -> None:
    session.execute(delete(SourceAttempt).where(SourceAttempt.source_key == source_key))
