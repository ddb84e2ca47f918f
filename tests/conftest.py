"""Shared fixtures: real IMAP and SMTP servers, SQLite and PostgreSQL workspaces, triage desks.

The helpers these fixtures and the tests use live in tests/support/."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest_browser import browser
from tests.conftest_imap import imap, imap_server
from tests.conftest_smtp import auth_server, smtp_server
from tests.support.imapserver import ImapTestServer
from tests.support.smtpserver import SmtpTestServer
from tests.support.triagedesk import Desk, DeskFactory
from tests.support.workspace import SECRET, Workspace, make_workspace

__all__ = ["auth_server", "browser", "imap", "imap_server", "smtp_server"]
PG_URL = os.environ.get("MAILPROC_TEST_PG_URL", "")


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILPROC_SECRET", SECRET)
    # Every IMAP test server has the same account; workspaces name this variable by default.
    monkeypatch.setenv("MAILPROC_IMAP_PASSWORD", ImapTestServer.password)


def fresh_pg_url() -> Iterator[str]:
    """The test PostgreSQL database, seen through a new empty schema of its own (so that
    tests running side by side never see each other's tables); dropped afterwards."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need MAILPROC_TEST_PG_URL (set by .ci/run)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that uses it runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mailproc.db'}"
    else:
        yield from fresh_pg_url()


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws")


@pytest.fixture
def new_desk(tmp_path: Path, imap: ImapTestServer, smtp_server: SmtpTestServer) -> Iterator[DeskFactory]:
    """Make desks (a workspace on the real IMAP and SMTP servers) with config overrides."""
    made: list[Desk] = []

    def make(db_url: str | None = None, **tables: dict[str, Any]) -> Desk:
        desk = Desk(tmp_path / f"ws{len(made)}", imap, smtp_server, db_url, **tables)
        made.append(desk)
        return desk

    yield make
    for desk in made:
        desk.close()


@pytest.fixture
def desk(new_desk: DeskFactory) -> Desk:
    return new_desk()
