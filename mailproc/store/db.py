"""Engine and sessions; the schema is owned by Alembic migrations shipped in the package."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from mailproc.errors import SchemaError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
# Execution option of a connection whose transactions write (see `transaction`): on SQLite
# they begin IMMEDIATE; other backends ignore it.
WRITES = "mailproc_writes"


def make_engine(url: str) -> Engine:
    """An engine with the pragmas mailproc relies on (SQLite: WAL, foreign keys, busy wait).

    Bound parameters are hidden from error messages: they carry message text, which may
    hold patient identifiers, and errors end up in logs and quarantine reasons.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _sqlite_begin(conn: Connection) -> None:
    # A writer takes the write lock at BEGIN, so that two pollers queue on the busy timeout
    # instead of one failing when a read lock cannot be upgraded. A reader (`issues list`, a
    # register build) begins deferred: under WAL it neither waits for a writer nor holds one up.
    writes = conn.get_execution_options().get(WRITES, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" hook issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to the newest revision; return (before, after)."""
    before = current_revision(engine)
    command.upgrade(_alembic_config(engine), "head")
    after = current_revision(engine)
    if before != after:
        log.info("database schema upgraded from %s to %s", before or "empty", after)
    return before, after


def ensure_schema(engine: Engine, auto_upgrade: bool = True) -> None:
    """Upgrade an old schema (or refuse clearly when auto_upgrade is off or it is newer)."""
    current, head = current_revision(engine), head_revision(engine)
    if current == head:
        return
    known = {s.revision for s in ScriptDirectory.from_config(_alembic_config(engine)).walk_revisions()}
    if current is not None and current not in known:
        raise SchemaError(
            f"the database is at schema revision {current}, which this version of mailproc "
            "does not know (it was written by a newer mailproc); upgrade mailproc"
        )
    if not auto_upgrade:
        raise SchemaError(
            f"the database schema is at {current or 'nothing'}, not {head}: run `mailproc db upgrade`"
        )
    upgrade(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work that writes: commit on success, roll back on any exception.

    On SQLite it takes the write lock at once. Sessions straight from the factory are for
    reading: they take no write lock and must not write.
    """
    with factory() as session, session.begin():
        session.connection(execution_options={WRITES: True})
        yield session
