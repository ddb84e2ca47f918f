"""Where each mailbox source has got to (UIDVALIDITY and last UID), kept in the database."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
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
        """An upsert: two pollers opening the same mailbox for the first time both save."""
        with transaction(self.factory) as session:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            stmt = insert(SourceCursor).values(source=source, uidvalidity=uidvalidity, last_uid=last_uid)
            stmt = stmt.on_conflict_do_update(
                index_elements=["source"], set_={"uidvalidity": uidvalidity, "last_uid": last_uid}
            )
            session.execute(stmt)
