"""The running application: settings plus the handles every step needs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from mailproc.config import Settings
from mailproc.errors import MailprocError
from mailproc.outbound.render import Renderer
from mailproc.store import db
from mailproc.store.models import utcnow


@dataclass(frozen=True)
class App:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    renderer: Renderer
    clock: Callable[[], datetime] = utcnow

    def today(self) -> date:
        """Today's date in the group's time zone (due dates, meeting dates, "overdue")."""
        return self.clock().astimezone(self.settings.group.timezone).date()

    @property
    def domain(self) -> str:
        return self.settings.group.address.rpartition("@")[2]


def open_app(settings: Settings, upgrade_schema: bool = False) -> App:
    """Connect to the database and load templates.

    An empty database gets its schema; an older one is upgraded only with `upgrade_schema`
    (`db upgrade`, `watch`) and refused otherwise, so that no two commands race to upgrade.
    """
    with _database_errors(settings):
        engine = db.make_engine(settings.database_url)
        db.ensure_schema(engine, upgrade_old=upgrade_schema)
    renderer = Renderer(settings.group.templates_dir, settings.group.timezone)
    return App(settings, engine, db.session_factory(engine), renderer)


def upgrade_schema(settings: Settings) -> tuple[str | None, str | None]:
    """Create or upgrade the configured database's schema; return (before, after) revisions."""
    with _database_errors(settings):
        engine = db.make_engine(settings.database_url)
        try:
            return db.upgrade(engine)
        finally:
            engine.dispose()


@contextmanager
def _database_errors(settings: Settings) -> Iterator[None]:
    """An unreachable, unreadable or corrupt database (`file is not a database`) is a failure
    the operator can act on, not a traceback."""
    try:
        yield
    except (DatabaseError, OSError) as exc:
        raise MailprocError(
            f"cannot open the database configured as database.url in {settings.path}: "
            f"{str(exc).splitlines()[0]}"
        ) from exc
