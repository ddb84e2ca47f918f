"""Versions of a meeting's minutes as sent: the latest one is what a new version is compared with."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.store.models import Minutes


def latest(session: Session, meeting_id: int) -> Minutes | None:
    stmt = select(Minutes).where(Minutes.meeting_id == meeting_id).order_by(Minutes.version.desc())
    return session.scalars(stmt.limit(1)).first()


def digest(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def add_version(session: Session, meeting_id: int, content: str, now: datetime) -> Minutes:
    """The next version of the meeting's minutes."""
    last = latest(session, meeting_id)
    row = Minutes(
        meeting_id=meeting_id, version=(last.version + 1) if last else 1, content=content,
        digest=digest(content), created_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row
