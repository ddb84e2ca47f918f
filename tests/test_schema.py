"""Schema upgrades: only `db upgrade` and `watch` upgrade an old schema, under a lock.

An "old schema" is made the way it happens in life: the database was written by this
mailproc, and then mailproc gains a migration. The child processes here run the real CLI
with one extra test migration on top of the shipped ones (`_later_migrations`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from mailproc.store import db
from tests.support.net import catches, wait_until
from tests.support.workspace import SECRET, Workspace, make_workspace

LATER = "9999later"
# Runs the real CLI with the migrations folder given as the first argument.
RUNNER = (
    "import sys; from pathlib import Path; import mailproc.store.db as d; "
    "d.MIGRATIONS = Path(sys.argv[1]); from mailproc.cli import main; "
    "main(sys.argv[2:], prog_name='mailproc')"
)
MIGRATION = '''"""a later schema (test only)"""

import time

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    time.sleep({pause})  # keeps the upgrade open long enough for a second process to collide
    op.create_table("later_test", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("later_test")
'''


def _shipped_head() -> str:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    if head is None:
        raise RuntimeError("no migrations shipped")
    return head


def _later_migrations(tmp_path: Path, pause: float = 0.0) -> Path:
    """The shipped migrations plus one later revision, as a newer mailproc would have them."""
    scripts = tmp_path / "migrations"
    shutil.copytree(db.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    text = MIGRATION.format(revision=LATER, down=_shipped_head(), pause=pause)
    (scripts / "versions" / f"{LATER}_later.py").write_text(text, encoding="utf-8")
    return scripts


def _command(ws: Workspace, scripts: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", RUNNER, str(scripts), "--config", str(ws.config), *args]


def _run(ws: Workspace, scripts: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAILPROC_SECRET": SECRET}
    return subprocess.run(
        _command(ws, scripts, *args), capture_output=True, text=True, env=env, timeout=120, check=False
    )


def _state(url: str) -> tuple[str | None, set[str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            version = None
            if "alembic_version" in tables:
                version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        return version, tables
    finally:
        engine.dispose()


def test_issues_list_on_an_old_schema_exits_2_saying_to_run_db_upgrade(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    ws.cli("db", "upgrade")  # the database as the installed mailproc left it
    later = _later_migrations(tmp_path)
    refused = _run(ws, later, "issues", "list")
    assert refused.returncode == 2, refused.stderr
    assert "mailproc db upgrade" in refused.stderr and "Traceback" not in refused.stderr
    assert _state(_url(ws))[0] == _shipped_head()  # not upgraded behind the operator's back

    upgraded = _run(ws, later, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"schema: {_shipped_head()} -> {LATER}" in upgraded.stdout
    listed = _run(ws, later, "issues", "list")
    assert listed.returncode == 0 and "no issues" in listed.stdout


def test_an_empty_database_is_created_by_any_command(tmp_path: Path) -> None:
    """A newcomer's first `poll` (or `issues list`) must not need `db upgrade` first."""
    ws = make_workspace(tmp_path / "ws")
    assert "no issues" in ws.cli("issues", "list").stdout
    version, tables = _state(_url(ws))
    assert version == _shipped_head() and "issues" in tables


def test_two_processes_upgrading_at_once_both_succeed(tmp_path: Path, db_url: str) -> None:
    ws = make_workspace(tmp_path / "ws", db_url=db_url)
    later = _later_migrations(tmp_path, pause=2.0)
    env = {**os.environ, "MAILPROC_SECRET": SECRET}
    procs = [
        subprocess.Popen(_command(ws, later, "db", "upgrade"), env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]  # fmt: skip
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    for code, _out, err in results:
        assert code == 0, err
    outs = sorted(out.strip() for _code, out, _err in results)
    assert outs == [f"schema up to date ({LATER})", f"schema: empty -> {LATER}"]  # one upgraded, one waited
    version, tables = _state(db_url)
    assert version == LATER and {"issues", "later_test"} <= tables


def test_watch_upgrades_an_old_schema_when_it_starts(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    ws.cli("db", "upgrade")
    later = _later_migrations(tmp_path)
    env = {**os.environ, "MAILPROC_SECRET": SECRET}
    proc = subprocess.Popen(_command(ws, later, "watch"), env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: _state(_url(ws))[0] == LATER or proc.poll() is not None, 30, interval=0.3)
        assert _state(_url(ws))[0] == LATER
        # The upgrade comes before the watch loop takes SIGTERM: wait for it on a slow machine.
        assert wait_until(lambda: catches(proc.pid, signal.SIGTERM), 30), "watch never started"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err


def _url(ws: Workspace) -> str:
    return f"sqlite:///{ws.root / 'mailproc.db'}"
