"""Migrations 0003 and 0004 on a database at 0002 that already holds a meeting and a scheduled issue."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from mailproc.store import db as dbmod
from mailproc.store.models import Issue, Meeting, MeetingItem
from mailproc.vocabulary import MeetingItemKind, MeetingStatus


def _at_0002_with_data(url: str) -> None:
    engine = dbmod.make_engine(url)
    command.upgrade(dbmod._alembic_config(engine), "0002")
    now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO meetings (id, date, theme) VALUES (7, :d, 'prescribing')"),
            {"d": date(2027, 1, 14)},
        )
        conn.execute(
            text(
                "INSERT INTO issues (id, reference, year, seq, status, subject, submitter_email,"
                " submitter_name, source_kind, priority, meeting_id, pid_detected, on_hold, created_at,"
                " updated_at) VALUES (1, 'IFG-2026-0001', 2026, 1, 'scheduled', 'Insulin on discharge',"
                " 'gp@example.nhs.scot', '', 'clinician', 'medium', 7, false, false, :now, :now)"
            ),
            {"now": now},
        )
    engine.dispose()


def test_0003_keeps_meetings_and_makes_scheduled_issues_agenda_items(db_url: str) -> None:
    _at_0002_with_data(db_url)
    engine = dbmod.make_engine(db_url)
    before, after = dbmod.upgrade(engine)
    assert (before, after) == ("0002", dbmod.head_revision(engine))
    factory = dbmod.session_factory(engine)
    with factory() as session:
        meeting = session.get(Meeting, 7)
        assert meeting is not None
        assert (meeting.date, meeting.theme, meeting.time) == (date(2027, 1, 14), "prescribing", time(14, 0))
        assert (meeting.status, meeting.sequence, meeting.length_minutes) == (MeetingStatus.PLANNED, 0, 90)
        assert (meeting.attendees, meeting.apologies) == ([], [])  # 0004
        items = session.scalars(select(MeetingItem)).all()
        assert [(i.meeting_id, i.position, i.kind, i.issue_id) for i in items] == [
            (7, 1, MeetingItemKind.ISSUE, 1)
        ]
        assert session.get(Issue, 1).meeting_id == 7  # type: ignore[union-attr]
        # Two meetings on one date, told apart by theme; the same theme twice is refused.
        session.add(_meeting(date(2027, 1, 14), "it"))
        session.commit()
        session.add(_meeting(date(2027, 1, 14), "it"))
        with pytest.raises(IntegrityError):
            session.commit()
    engine.dispose()


def _meeting(day: date, theme: str) -> Meeting:
    now = datetime.now(UTC)
    return Meeting(
        date=day, theme=theme, time=time(10, 0), length_minutes=60, status=MeetingStatus.PLANNED,
        created_at=now, updated_at=now,
    )  # fmt: skip


def test_0004_downgrades_and_upgrades_again(db_url: str) -> None:
    _at_0002_with_data(db_url)
    engine = dbmod.make_engine(db_url)
    dbmod.upgrade(engine)
    config = dbmod._alembic_config(engine)
    command.downgrade(config, "0003")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM meetings")).scalar() == 1
    command.upgrade(config, "head")
    factory = dbmod.session_factory(engine)
    with factory() as session:
        item = session.scalars(select(MeetingItem)).one()
        assert (item.action_owner, item.due_date) == (None, None)
    engine.dispose()
