"""Intake end to end against a real IMAP server and the real CLI (issue: intake, must show 2-4)."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from mailproc.store.db import transaction
from mailproc.store.models import Issue, Message, OutboxMessage, Quarantined
from tests.support.imapserver import ImapTestServer
from tests.support.mail import many_parts, message_id, nested_multipart, varied_message
from tests.support.workspace import Workspace, imap_workspace


def counts(ws: Workspace) -> tuple[int, int, int]:
    app = ws.app()
    with app.factory() as s:
        issues = s.scalar(select(func.count()).select_from(Issue)) or 0
        messages = s.scalar(select(func.count(func.distinct(Message.message_id)))) or 0
        acks = s.scalar(select(func.count()).where(OutboxMessage.template == "acknowledgement")) or 0
    app.engine.dispose()
    return issues, messages, acks


@pytest.mark.slow
def test_500_messages_each_logged_once(tmp_path: Path, imap: ImapTestServer) -> None:
    ws = imap_workspace(tmp_path / "ws", imap)
    imap.deliver([varied_message(i) for i in range(500)])
    first = ws.cli("poll")
    assert first.stdout.startswith("500 new issue(s)"), first.stdout
    assert "sent 1000, retrying 0, failed 0" in first.stdout  # every ack and triage request, not a batch
    assert counts(ws) == (500, 500, 500)
    assert imap.count("INBOX") == 0
    assert imap.count("Processed") == 500
    second = ws.cli("poll")
    assert second.stdout.startswith("0 new issue(s), 0 reply(ies), 0 command(s), 0 ignored, 0 quarantined")
    assert counts(ws) == (500, 500, 500)
    assert imap.count("Processed") == 500


def test_postgresql_poll(tmp_path: Path, imap: ImapTestServer, db_url: str) -> None:
    ws = imap_workspace(tmp_path / "ws", imap, db_url=db_url)
    imap.deliver([varied_message(i) for i in range(40)])
    ws.cli("poll")
    assert counts(ws) == (40, 40, 40)
    app = ws.app()
    with app.factory() as s:
        refs = sorted(s.scalars(select(Issue.seq)))
    assert refs == list(range(1, 41))  # gap-free


@pytest.mark.slow
def test_sigkill_during_poll_loses_and_duplicates_nothing(tmp_path: Path, imap: ImapTestServer) -> None:
    total = 120
    ws = imap_workspace(tmp_path / "ws", imap, intake={"max_attempts": 50})
    imap.deliver([varied_message(i) for i in range(total)])
    ws.cli("db", "upgrade")
    rng = random.Random(20261121)
    kills = 0
    while kills < 12:
        proc = ws.start("-q", "poll", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        if imap.count("INBOX") == 0:
            imap.deliver([varied_message(total + kills * 10 + j) for j in range(10)])
            total += 10
    ws.cli("poll")
    ws.cli("poll")
    assert imap.count("INBOX") == 0
    assert imap.count("Processed") == total
    issues, messages, acks = counts(ws)
    assert (issues, messages, acks) == (total, total, total)
    # A delivery killed mid-send is held back (so a slow send is never doubled); once the
    # hold has passed, everything is delivered, and nothing twice.
    app = ws.app()
    with transaction(app.factory) as s:
        assert not list(s.scalars(select(OutboxMessage).where(OutboxMessage.state == "failed")))
        s.execute(update(OutboxMessage).values(next_attempt_at=app.clock() - timedelta(seconds=1)))
    app.engine.dispose()
    ws.cli("send")
    ids = [message_id(raw) for raw in ws.sent()]
    assert len(ids) == len(set(ids)) == 2 * total  # an acknowledgement and a triage request each


def test_malformed_and_oversize_are_quarantined_with_reason(tmp_path: Path, imap: ImapTestServer) -> None:
    ws = imap_workspace(tmp_path / "ws", imap, intake={"max_message_bytes": 200_000})
    good = [varied_message(i) for i in range(6)]
    oversize = varied_message(99).replace(b"Regards", b"Regards\r\n" + b"x" * 76 * 4000)
    bad = [b"no headers here, only text\r\n", nested_multipart(100), many_parts(3000), oversize]
    imap.deliver([good[0], bad[0], good[1], bad[1], good[2], bad[2], good[3], bad[3], good[4], good[5]])
    out = ws.cli("poll").stdout
    assert out.startswith("6 new issue(s)") and "4 quarantined" in out, out
    assert imap.count("Quarantine") == 4
    assert imap.count("INBOX") == 0
    app = ws.app()
    with app.factory() as s:
        reasons = sorted(q.reason for q in s.scalars(select(Quarantined)))
    assert len(reasons) == 4
    assert any("exceeds 200000 bytes" in r for r in reasons)
    assert sum("could not be parsed" in r for r in reasons) == 3
    listing = ws.cli("quarantine", "list").stdout
    assert "exceeds" in listing and "could not be parsed" in listing


def test_poll_no_send_ingests_only(tmp_path: Path, imap: ImapTestServer) -> None:
    ws = imap_workspace(tmp_path / "ws", imap)
    imap.deliver([varied_message(i) for i in range(5)])
    out = ws.cli("poll", "--no-send").stdout
    assert out.startswith("5 new issue(s)") and "nothing sent (--no-send)" in out, out
    assert (imap.count("INBOX"), imap.count("Processed")) == (0, 5)
    assert counts(ws) == (5, 5, 5)  # acknowledgements queued ...
    assert ws.sent() == []  # ... and not sent
    assert "sent 10, retrying 0, failed 0" in ws.cli("send").stdout  # an ack and a triage request each
