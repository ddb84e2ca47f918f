"""Issue references: `{prefix}-{year}-{seq:04d}`, gap-free per year."""

from __future__ import annotations

import re

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailproc.models import ReferenceCounter


def format_reference(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}-{year}-{seq:04d}"


def reference_pattern(prefix: str) -> str:
    """A regex matching this group's references (the sequence may outgrow four digits)."""
    return rf"{re.escape(prefix)}-\d{{4}}-\d{{4,}}"


def allocate(session: Session, prefix: str, year: int) -> tuple[str, int]:
    """Take the next number for `year` inside the caller's transaction.

    The counter row is incremented with one upsert, so two pollers serialise on that
    row (PostgreSQL row lock; SQLite's single writer) and a rolled-back submission
    gives its number back: the sequence stays gap-free.
    """
    dialect = session.get_bind().dialect.name
    stmt: Insert
    if dialect == "postgresql":
        pg = postgresql.insert(ReferenceCounter).values(year=year, last_seq=1)
        stmt = pg.on_conflict_do_update(
            index_elements=["year"], set_={"last_seq": ReferenceCounter.last_seq + 1}
        )
    else:
        lite = sqlite.insert(ReferenceCounter).values(year=year, last_seq=1)
        stmt = lite.on_conflict_do_update(
            index_elements=["year"], set_={"last_seq": ReferenceCounter.last_seq + 1}
        )
    seq = session.execute(stmt.returning(ReferenceCounter.last_seq)).scalar_one()
    return format_reference(prefix, year, seq), seq
