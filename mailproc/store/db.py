"""Engine and sessions; the schema is owned by Alembic migrations shipped in the package."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from mailproc.errors import SchemaError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
# Execution option of a connection whose transactions write (see `transaction`): on SQLite
# they begin IMMEDIATE; other backends ignore it.
WRITES = "mailproc_writes"
# Execution option of a transaction whose commit need not reach the disk before it returns
# (see `transaction`'s durable=False).
RELAXED = "mailproc_relaxed"
# Any fixed number, the same in every mailproc: the advisory lock taken around schema upgrades.
SCHEMA_LOCK_KEY = 0x6D61696C70726F63  # "mailproc"


def make_engine(url: str) -> Engine:
    """An engine with the pragmas mailproc relies on (SQLite: WAL, durable commits, foreign keys,
    busy wait).

    Bound parameters are hidden from error messages: they carry message text, which may
    hold patient identifiers, and errors end up in logs and quarantine reasons.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
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
    options = conn.get_execution_options()
    # SQLite refuses to change the level inside a transaction: set it before BEGIN, and only
    # when it changes, so that every other transaction runs FULL as the connection was opened.
    level = "NORMAL" if options.get(RELAXED, False) else "FULL"
    info = conn.connection.info
    if info.get("synchronous", "FULL") != level:
        conn.exec_driver_sql(f"PRAGMA synchronous={level}")
        info["synchronous"] = level
    conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITES, False) else "BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" hook issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # FULL: every commit is on disk before COMMIT returns. Intake moves a message out of the
    # mailbox after its commit; under NORMAL (WAL) a power cut could undo a commit whose
    # message had already gone to Processed: a message lost without trace.
    cursor.execute("PRAGMA synchronous=FULL")
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


@contextmanager
def schema_lock(engine: Engine) -> Iterator[None]:
    """Hold the one schema lock of this database, so that two processes upgrading at once
    take turns: PostgreSQL an advisory lock, SQLite a lock file beside the database (held
    by the open file, so a killed process releases it)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            conn.commit()  # a session lock: it outlives the transaction that took it
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield  # nobody else can see this database
        return
    with open(f"{database}.schema-lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to the newest revision under the schema lock; return (before, after)."""
    with schema_lock(engine):
        # Read under the lock: another process may have upgraded while this one waited.
        before = current_revision(engine)
        if before != head_revision(engine):
            command.upgrade(_alembic_config(engine), "head")
        after = current_revision(engine)
    if before != after:
        log.info("database schema upgraded from %s to %s", before or "empty", after)
    return before, after


def ensure_schema(engine: Engine, upgrade_old: bool = False) -> None:
    """Make sure the schema is the one this mailproc knows.

    An empty database is created (a newcomer's first command just works); an older schema
    is upgraded only when `upgrade_old` (`db upgrade`, `watch`), else refused with what to
    run; a newer one is always refused.
    """
    current, head = current_revision(engine), head_revision(engine)
    if current == head:
        return
    known = {s.revision for s in ScriptDirectory.from_config(_alembic_config(engine)).walk_revisions()}
    if current is not None and current not in known:
        raise SchemaError(
            f"the database is at schema revision {current}, which this version of mailproc "
            "does not know (it was written by a newer mailproc); upgrade mailproc"
        )
    if current is not None and not upgrade_old:
        raise SchemaError(
            f"the database schema is at revision {current}, older than this mailproc's {head}: "
            "run `mailproc db upgrade` (stop `mailproc watch` first, or restart it: it upgrades "
            "when it starts)"
        )
    upgrade(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session], *, durable: bool = True) -> Iterator[Session]:
    """One unit of work that writes: commit on success, roll back on any exception.

    On SQLite it takes the write lock at once. Sessions straight from the factory are for
    reading: they take no write lock and must not write. `durable=False` is for records that
    a power cut may undo without harm (delivery results: the message is sent again): the
    commit survives a crash of this process but is not flushed to disk before it returns
    (SQLite `synchronous=NORMAL` under WAL, PostgreSQL `synchronous_commit = off`).
    """
    with factory() as session, session.begin():
        conn = session.connection(execution_options={WRITES: True, RELAXED: not durable})
        if not durable and conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        yield session
