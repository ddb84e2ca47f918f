"""Several messages per transaction, a savepoint each: a message that fails, runs out of time or
kills the process never takes its neighbours with it, and each message is logged exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from mailproc.app import App
from mailproc.intake import flow, runner
from mailproc.intake.inbound import Inbound
from mailproc.store.models import Issue, Message, Quarantined, SourceAttempt
from tests.support.imapserver import ImapTestServer
from tests.support.mail import make_message, varied_message
from tests.support.workspace import SECRET, Workspace, imap_workspace

POISON = "POISON"  # the subject that the patched classify chokes on

# The real CLI whose classify SIGKILLs the process on the poison message: in the middle of a
# chunk, after its neighbours before it were processed (in the chunk's open transaction).
KILL_AT_POISON = f"""
import os, signal, sys
from mailproc.intake import flow
real = flow.classify
def classify(msg, *args):
    if msg.subject.startswith({POISON!r}):
        os.kill(os.getpid(), signal.SIGKILL)
    return real(msg, *args)
flow.classify = classify
sys.argv = ["mailproc", *sys.argv[1:]]
from mailproc.cli import main
main()
"""


def mailbox_of_ten() -> list[bytes]:
    """Nine ordinary messages with the poison fifth."""
    ordinary = [varied_message(i) for i in range(9)]
    poison = make_message(subject=f"{POISON} pill", message_id="<poison@example.nhs.scot>")
    return [*ordinary[:4], poison, *ordinary[4:]]


@pytest.fixture
def app_on(tmp_path: Path, imap: ImapTestServer, db_url: str) -> Iterator[tuple[Workspace, App]]:
    ws = imap_workspace(tmp_path / "ws", imap, db_url=db_url, intake={"message_budget_seconds": 1})
    ws.cli("db", "upgrade")
    app = ws.app()
    yield ws, app
    app.engine.dispose()


def messages_per_commit(engine: Engine) -> list[int]:
    """Filled as the engine runs: how many messages each commit that logged any logged."""
    per_commit: list[int] = []
    pending = [0]

    def executed(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        pending[0] += statement.lstrip().upper().startswith("INSERT INTO MESSAGES ")

    def committed(conn: Any) -> None:
        if pending[0]:
            per_commit.append(pending[0])
        pending[0] = 0

    def rolled_back(conn: Any) -> None:
        pending[0] = 0

    event.listen(engine, "before_cursor_execute", executed)
    event.listen(engine, "commit", committed)
    event.listen(engine, "rollback", rolled_back)
    return per_commit


def choking_on_poison(monkeypatch: pytest.MonkeyPatch, harm: Any) -> None:
    real = flow.classify

    def classify(msg: Inbound, *args: Any) -> Any:
        if msg.subject.startswith(POISON):
            harm()
        return real(msg, *args)

    monkeypatch.setattr(flow, "classify", classify)


def logged(app: App) -> tuple[list[str], int, list[str]]:
    with app.factory() as s:
        ids = sorted(s.scalars(select(Message.message_id)))
        issues = s.scalar(select(func.count()).select_from(Issue)) or 0
        held = [q.reason for q in s.scalars(select(Quarantined))]
    return ids, issues, held


def expected_ids() -> list[str]:
    return sorted(f"<varied-{i}@example.nhs.scot>" for i in range(9))


def test_a_poison_message_fails_alone_and_its_neighbours_commit_together(
    app_on: tuple[Workspace, App], imap: ImapTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, app = app_on
    imap.deliver(mailbox_of_ten())

    def harm() -> None:
        raise RuntimeError("choked on the poison")

    choking_on_poison(monkeypatch, harm)
    per_commit = messages_per_commit(app.engine)
    summary, _ = runner.poll_once(app, send=False)
    assert (summary.new, summary.failed) == (9, 1)
    assert per_commit == [9]  # one transaction for the chunk, the poison's savepoint rolled back
    assert logged(app) == (expected_ids(), 9, [])
    assert (imap.count("INBOX"), imap.count("Processed")) == (1, 9)
    with app.factory() as s:
        (left,) = s.scalars(select(SourceAttempt)).all()  # the others' cleared in the same commit
    assert (left.attempts, left.last_error) == (1, "RuntimeError: choked on the poison")


def test_a_budget_expiry_mid_chunk_quarantines_only_that_message(
    app_on: tuple[Workspace, App], imap: ImapTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, app = app_on
    imap.deliver(mailbox_of_ten())
    choking_on_poison(monkeypatch, lambda: time.sleep(30))  # the budget (1 s) interrupts it
    per_commit = messages_per_commit(app.engine)
    summary, _ = runner.poll_once(app, send=False)
    assert (summary.new, summary.quarantined, summary.failed) == (9, 1, 0)
    assert per_commit == [9]
    ids, issues, (reason,) = logged(app)
    assert (ids, issues) == (expected_ids(), 9) and "longer than 1 seconds" in reason
    assert (imap.count("INBOX"), imap.count("Processed"), imap.count("Quarantine")) == (0, 9, 1)
    assert imap.message_ids("Quarantine") == ["<poison@example.nhs.scot>"]


def killing_poll(ws: Workspace) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", KILL_AT_POISON, "--config", str(ws.config), "-q", "poll", "--no-send"]
    env = {**os.environ, "MAILPROC_SECRET": SECRET}
    env.pop("MAILPROC_CONFIG", None)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_a_message_that_kills_the_process_mid_chunk_is_isolated_and_quarantined(
    tmp_path: Path, imap: ImapTestServer, db_url: str
) -> None:
    ws = imap_workspace(tmp_path / "ws", imap, db_url=db_url, intake={"max_attempts": 2})
    ws.cli("db", "upgrade")
    imap.deliver(mailbox_of_ten())
    app = ws.app()
    first_four = sorted(f"<varied-{i}@example.nhs.scot>" for i in range(4))
    try:
        assert killing_poll(ws).returncode == -signal.SIGKILL
        assert logged(app) == ([], 0, [])  # the chunk's one transaction died with the process
        # Retried, the chunk goes one message per transaction: the four before the poison commit.
        assert killing_poll(ws).returncode == -signal.SIGKILL
        assert logged(app) == (first_four, 4, [])
        assert imap.count("INBOX") == 10  # committed, not moved yet: found logged next time
        # Its second try (max_attempts = 2) kills the process once more; the third quarantines it.
        assert killing_poll(ws).returncode == -signal.SIGKILL
        done = killing_poll(ws)
        assert done.returncode == 0, done.stderr
        ids, issues, (reason,) = logged(app)
        assert (ids, issues) == (expected_ids(), 9) and reason.startswith("processing failed 2 times")
        with app.factory() as s:
            assert s.scalars(select(SourceAttempt)).all() == []
    finally:
        app.engine.dispose()
    assert (imap.count("INBOX"), imap.count("Processed"), imap.count("Quarantine")) == (0, 9, 1)
    assert sorted(imap.message_ids("Processed")) == expected_ids()
