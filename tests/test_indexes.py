"""The migrated schema has the indexes the models declare, and the hot queries use them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select

from mailproc.store import db
from mailproc.store.models import Base, Issue, Message
from mailproc.vocabulary import OPEN_STATUSES, MessageKind


def _migrated(url: str) -> Engine:
    engine = db.make_engine(url)
    db.upgrade(engine)
    return engine


def test_migrations_create_exactly_the_indexes_of_the_models(db_url: str) -> None:
    engine = _migrated(db_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        index_diffs = [d for d in diffs if isinstance(d, tuple) and d[0] in ("add_index", "remove_index")]
        assert index_diffs == []
    finally:
        engine.dispose()


def _plan(engine: Engine, statement: object) -> str:
    with engine.connect() as conn:
        compiled = statement.compile(conn, compile_kwargs={"literal_binds": True})  # type: ignore[attr-defined]
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return " | ".join(str(row[-1]) for row in rows)


def test_the_hot_queries_use_an_index(tmp_path: Path) -> None:
    engine = _migrated(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        recent = (
            select(Issue.id, Issue.subject)
            .where(Issue.id != 7, Issue.status.in_(OPEN_STATUSES))
            .order_by(Issue.id.desc())
            .limit(500)
        )
        assert "ix_issues_status_id" in _plan(engine, recent)
        by_message_id = select(Message.id).where(Message.message_id == "<a@b>")
        assert "USING" in _plan(engine, by_message_id)  # the unique (message_id, sha256) index
        one_sender = select(func.count()).where(
            Message.from_address == "a@example.org",
            Message.received_at >= datetime(2026, 1, 1, tzinfo=UTC),
            Message.kind.in_((MessageKind.NEW, MessageKind.REPLY)),
        )
        assert "ix_messages_from_received" in _plan(engine, one_sender)  # the flood cap
    finally:
        engine.dispose()
