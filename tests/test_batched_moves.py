"""Processed mail leaves the source in batches, after the commits: a kill between the commits
and the batched move still ends with every message logged once and moved once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from mailproc.store.db import make_engine
from mailproc.store.models import Issue, Message, OutboxMessage
from tests.support.imapserver import ImapTestServer
from tests.support.imapsource import message, opened
from tests.support.mail import varied_message
from tests.support.workspace import SECRET, Workspace, imap_workspace

# The real CLI, killed by SIGKILL the moment it first asks the source to move a batch of
# Processed mail: every message before it is committed, none of that batch moved yet.
KILL_AT_BATCHED_MOVE = """
import os, signal, sys
from mailproc.intake.sources.imap import ImapSource
def killed(self, keys):
    os.kill(os.getpid(), signal.SIGKILL)
ImapSource.done_many = killed
sys.argv = ["mailproc", *sys.argv[1:]]
from mailproc.cli import main
main()
"""


def logged(ws: Workspace) -> tuple[int, int, int]:
    app = ws.app()
    with app.factory() as s:
        issues = s.scalar(select(func.count()).select_from(Issue)) or 0
        rows = s.scalar(select(func.count()).select_from(Message)) or 0
        acks = s.scalar(select(func.count()).where(OutboxMessage.template == "acknowledgement")) or 0
    app.engine.dispose()
    return issues, rows, acks


def test_sigkill_between_commits_and_batched_move(tmp_path: Path, imap: ImapTestServer, db_url: str) -> None:
    total = 30  # under one batch: the kill comes at the move that ends the pass
    ws = imap_workspace(tmp_path / "ws", imap, db_url=db_url)
    imap.deliver([varied_message(i) for i in range(total)])
    ws.cli("db", "upgrade")
    cmd = [sys.executable, "-c", KILL_AT_BATCHED_MOVE, "--config", str(ws.config), "-q", "poll"]
    env = {**os.environ, "MAILPROC_SECRET": SECRET}
    env.pop("MAILPROC_CONFIG", None)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert logged(ws) == (total, total, total)  # all committed ...
    assert (imap.count("INBOX"), imap.count("Processed")) == (total, 0)  # ... none moved
    out = ws.cli("poll").stdout
    assert out.startswith("0 new issue(s)") and f"{total} already logged" in out, out
    assert logged(ws) == (total, total, total)
    assert (imap.count("INBOX"), imap.count("Processed")) == (0, total)
    assert len(set(imap.message_ids("Processed"))) == total


@pytest.mark.parametrize("use_move", [True, False], ids=["move", "copy-expunge"])
def test_done_many_moves_exactly_the_given_messages(imap: ImapTestServer, use_move: bool) -> None:
    imap.deliver([message(n) for n in range(6)])
    with imap.client() as client:
        client.select_folder("INBOX")
        marked = client.search("ALL")[5]
        client.add_flags([marked], [b"\\Deleted"])  # someone else's pending deletion
    with opened(imap, use_move=use_move) as source:
        first, second, third, fourth, *_ = list(source.pending())
        source.done_many([first.key, second.key])
        source.done_many([first.key, third.key, fourth.key])  # one already gone: no error
        source.done_many([])
    assert (imap.count("INBOX"), imap.count("Processed")) == (2, 4)
    assert sorted(imap.message_ids("Processed")) == [f"<m{n}@example.test>" for n in range(4)]
    with imap.client() as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search("ALL")[-1] == marked  # never expunged with the batch


def test_sqlite_commits_are_durable(tmp_path: Path) -> None:
    # A message leaves the mailbox only after its commit; under synchronous=NORMAL (WAL) a power
    # cut could undo that commit after the move, and the message would be lost without trace.
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        for _ in range(2):  # every pooled connection, not only the first
            with engine.connect() as first, engine.connect() as second:
                for conn in (first, second):
                    assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
                    assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    finally:
        engine.dispose()
