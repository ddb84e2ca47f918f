"""SQLite: reads take no write lock, so `issues list` or a register build never holds up intake,
and intake never holds them up; writes still take the lock at BEGIN, so writers queue cleanly."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from mailproc.app import App
from mailproc.store import queries
from mailproc.store.cursors import DbCursorStore
from mailproc.store.db import transaction
from mailproc.store.models import SourceCursor
from tests.support.workspace import make_workspace

PATIENCE = 5.0  # seconds; a blocked call waits for the busy timeout (30 s) instead


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    made = make_workspace(tmp_path / "ws").app()
    yield made
    made.engine.dispose()


def _in_thread(work: Callable[[], object]) -> Callable[[float], object]:
    """Start `work` in another thread; returns a function that waits at most N seconds for it."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(work)
    pool.shutdown(wait=False)
    return future.result


def _list_issues(app: App) -> int:
    """What `mailproc issues list` does."""
    with app.factory() as session:
        return len(queries.list_issues(session))


def test_a_read_does_not_wait_for_a_writer(app: App) -> None:
    with transaction(app.factory) as session:
        session.add(SourceCursor(source="maildir:held", uidvalidity=1, last_uid=1))
        session.flush()  # the writer holds the write lock and has written
        result = _in_thread(lambda: _list_issues(app))
        assert result(PATIENCE) == 0


def test_a_long_read_does_not_hold_up_a_writer(app: App) -> None:
    cursors = DbCursorStore(app.factory)
    with app.factory() as reader:
        reader.scalars(select(SourceCursor)).all()  # a read transaction, still open
        saved = _in_thread(lambda: cursors.save("maildir:inbox", 7, 42))
        saved(PATIENCE)
        assert reader.scalars(select(SourceCursor)).all() == []  # its snapshot is stable
    assert cursors.load("maildir:inbox") == (7, 42)


def test_writers_still_queue_at_begin(app: App) -> None:
    with transaction(app.factory):
        second = _in_thread(lambda: DbCursorStore(app.factory).save("maildir:inbox", 7, 42))
        time.sleep(1.0)
        with pytest.raises(TimeoutError):
            second(0)  # waiting for the first writer to finish
    second(PATIENCE)
    assert DbCursorStore(app.factory).load("maildir:inbox") == (7, 42)
