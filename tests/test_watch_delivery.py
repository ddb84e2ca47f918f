"""`watch` delivers between stretches of intake no longer than `poll` does (issue 8).

A long outbox (a slow SMTP server, a backlog of acknowledgements) must not keep new mail
waiting: delivery runs for a bounded time, intake takes its turn, delivery goes on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailproc.intake.runner import DELIVER_BETWEEN_SECONDS
from mailproc.store.models import Issue, OutboxMessage
from tests.imapserver import ImapTestServer, intake_tables
from tests.samples import varied_message
from tests.smtpserver import SmtpTestServer
from tests.workspace import SECRET, Workspace, make_workspace

SEND_SECONDS = 0.5  # per message at the SMTP server: 60 messages take 30 s


def rows(ws: Workspace, model: type[Issue] | type[OutboxMessage]) -> int:
    app = ws.app()
    try:
        with app.factory() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        app.engine.dispose()


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_new_mail_is_taken_in_while_a_long_outbox_drains(
    tmp_path: Path, imap: ImapTestServer, smtp_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILPROC_IMAP_PASSWORD", imap.password)
    smtp = {"host": smtp_server.host, "port": smtp_server.port, "security": "none"}
    ws = make_workspace(
        tmp_path / "ws",
        **intake_tables(imap, poll_interval=300),  # only IDLE, not a timer, wakes watch for mail
        outbound={"transport": "smtp"},
        outbound__smtp=smtp,
    )
    ws.cli("db", "upgrade")
    smtp_server.slow_data(SEND_SECONDS)
    imap.deliver([varied_message(i) for i in range(30)])  # 60 to send: acknowledgements, triage
    env = {**os.environ, "MAILPROC_SECRET": SECRET}
    command = [sys.executable, "-m", "mailproc", "--config", str(ws.config), "watch"]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: rows(ws, Issue) == 30, 90), "the first pass did not finish"
        assert wait_for(lambda: len(smtp_server.messages) > 0, 30), "delivery did not start"
        imap.deliver([varied_message(100)])
        taken_in = wait_for(lambda: rows(ws, Issue) == 31, DELIVER_BETWEEN_SECONDS + 10)
        sent, queued = len(smtp_server.messages), rows(ws, OutboxMessage)
        # ... and delivery goes on at once, without waiting for more mail or poll_interval.
        goes_on = wait_for(lambda: len(smtp_server.messages) >= sent + 2, 10)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert taken_in, f"new mail waited for the outbox ({len(smtp_server.messages)} sent)"
    assert sent < queued  # it was taken in while the outbox was still draining
    assert goes_on
    assert proc.returncode == 0, err
