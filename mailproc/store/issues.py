"""Writes to the issue aggregate: issues, their gap-free references and their audit events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mailproc.intake.inbound import Inbound
from mailproc.store.models import Event, Issue, ReferenceCounter
from mailproc.vocabulary import IssueStatus, format_reference


def create_issue(
    session: Session, msg: Inbound, prefix: str, now: datetime, suggested_area: str | None, source_kind: str
) -> Issue:
    """A new issue awaiting triage, with the next reference of the year."""
    reference, seq = allocate(session, prefix, now.year)
    issue = Issue(
        reference=reference,
        year=now.year,
        seq=seq,
        status=IssueStatus.AWAITING_TRIAGE,
        subject=msg.subject or "(no subject)",
        submitter_email=msg.from_address,
        submitter_name=msg.from_name,
        suggested_area=suggested_area,
        source_kind=source_kind,
        created_at=now,
        updated_at=now,
    )
    session.add(issue)
    session.flush()
    return issue


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
