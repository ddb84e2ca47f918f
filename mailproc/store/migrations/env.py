"""Alembic environment: runs against the engine mailproc hands over (never a URL in a file)."""

from __future__ import annotations

from alembic import context

from mailproc.store.db import WRITES
from mailproc.store.models import Base

engine = context.config.attributes["engine"]
with engine.connect().execution_options(**{WRITES: True}) as connection:  # DDL writes
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
