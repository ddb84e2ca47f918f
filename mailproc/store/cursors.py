"""Where each mailbox source has got to (UIDVALIDITY and last UID), kept in the database."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from mailproc.store.db import transaction
from mailproc.store.models import SourceCursor


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
