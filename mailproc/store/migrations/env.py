"""Alembic environment: runs against the engine mailproc hands over (never a URL in a file)."""

from __future__ import annotations

from typing import Any

from alembic import context

from mailproc.store.db import WRITES
from mailproc.store.models import Base


def _foreign_keys(connection: Any, on: bool) -> None:
    # Outside any transaction (SQLite ignores the pragma inside one): the raw connection.
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


engine = context.config.attributes["engine"]
with engine.connect().execution_options(**{WRITES: True}) as connection:  # DDL writes
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode copies a table and drops the old one while other tables' rows still point
        # at it (issues at meetings): SQLite's own recipe is to check keys off, then verify.
        _foreign_keys(connection, on=False)
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                raise RuntimeError("a schema upgrade left rows pointing at missing rows; nothing was changed")
        connection.commit()
    finally:
        if sqlite:
            _foreign_keys(connection, on=True)
