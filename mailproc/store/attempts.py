"""Attempts at each source message, committed before each try (a message that kills the
process is counted too).

An attempt counted for a whole chunk (`bump_attempts`) is marked CHUNK_MARK: if the chunk
never commits (a crash), nobody knows which message was at fault, so when each is then
tried alone (`bump_attempt`) the chunk's count turns into that try instead of adding to it.
The message at fault is thus quarantined after `intake.max_attempts` tries of its own, and
its neighbours are never quarantined for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from mailproc.store.db import transaction
from mailproc.store.models import SourceAttempt


def bump_attempt(factory: sessionmaker[Session], source_key: str, now: datetime) -> int:
    """Count one more try at a source message, committed before the try itself.

    An upsert, because two pollers may reach the same message at the same moment.
    """
    chunk_only = SourceAttempt.last_error == CHUNK_MARK
    with transaction(factory) as session:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = insert(SourceAttempt).values(source_key=source_key, attempts=1, last_error="", updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["source_key"],
            set_={
                "attempts": case((chunk_only, SourceAttempt.attempts), else_=SourceAttempt.attempts + 1),
                "last_error": case((chunk_only, ""), else_=SourceAttempt.last_error),
                "updated_at": now,
            },
        )
        return int(session.execute(stmt.returning(SourceAttempt.attempts)).scalar_one())


CHUNK_MARK = "(counted with a chunk that did not commit)"


def bump_attempts(session: Session, source_keys: Sequence[str], now: datetime) -> dict[str, int]:
    """Count one more try at each of a chunk's messages with one upsert in the caller's
    transaction, marked as the chunk's; returns each key's count."""
    if not source_keys:
        return {}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    mark = {"last_error": CHUNK_MARK, "updated_at": now}
    stmt = insert(SourceAttempt).values([{"source_key": key, "attempts": 1, **mark} for key in source_keys])
    stmt = stmt.on_conflict_do_update(
        index_elements=["source_key"], set_={"attempts": SourceAttempt.attempts + 1, **mark}
    )
    counted = session.execute(stmt.returning(SourceAttempt.source_key, SourceAttempt.attempts))
    return {key: int(n) for key, n in counted}


def note_failure(session: Session, source_key: str, error: str) -> None:
    """record_failure inside the caller's transaction (the one whose savepoint failed)."""
    row = session.get(SourceAttempt, source_key)
    if row is not None:
        row.last_error = error[:2000]


def record_failure(factory: sessionmaker[Session], source_key: str, error: str) -> None:
    with transaction(factory) as session:
        row = session.get(SourceAttempt, source_key)
        if row is not None:
            row.last_error = error[:2000]


def forgive_attempts(factory: sessionmaker[Session], source_keys: Sequence[str]) -> None:
    """Take back one counted attempt at each message: they failed for a reason that was not
    theirs (the storage)."""
    with transaction(factory) as session:
        for source_key in source_keys:
            row = session.get(SourceAttempt, source_key)
            if row is not None and row.last_error == CHUNK_MARK:
                session.delete(row)  # the chunk's count, taken back whole
            elif row is not None and row.attempts > 0:
                row.attempts -= 1


def last_failure(session: Session, source_key: str) -> str:
    row = session.get(SourceAttempt, source_key)
    return row.last_error if row else ""


def clear_attempts(session: Session, source_keys: Sequence[str]) -> None:
    """Forget the counts of messages that reached their end state, in the same commit."""
    if source_keys:
        session.execute(delete(SourceAttempt).where(SourceAttempt.source_key.in_(source_keys)))
