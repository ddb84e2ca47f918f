"""Shared fixtures: real IMAP and SMTP servers, SQLite and PostgreSQL workspaces."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest_imap import imap, imap_server
from tests.conftest_smtp import smtp_server
from tests.workspace import SECRET, Workspace, make_workspace

__all__ = ["imap", "imap_server", "smtp_server"]
PG_URL = os.environ.get("MAILPROC_TEST_PG_URL", "")


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILPROC_SECRET", SECRET)


def fresh_pg_url() -> str:
    """The test PostgreSQL database with an empty public schema."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need MAILPROC_TEST_PG_URL (set by .ci/run)")
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that uses it runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mailproc.db'}"
    else:
        yield fresh_pg_url()


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "ws")
