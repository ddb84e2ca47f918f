"""`watch` delivers between stretches of intake no longer than `poll` does (issue 8).

A long outbox (a slow SMTP server, a backlog of acknowledgements) must not keep new mail
waiting: delivery runs for a bounded time, intake takes its turn, delivery goes on.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from mailproc.intake.runner import DELIVER_BETWEEN_SECONDS
from mailproc.store.models import Issue, OutboxMessage
from tests.support.imapserver import ImapTestServer
from tests.support.mail import varied_message
from tests.support.net import wait_until
from tests.support.smtpserver import SmtpTestServer
from tests.support.workspace import intake_tables, make_workspace

SEND_SECONDS = 0.5  # per message at the SMTP server: 60 messages take 30 s


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
    proc = ws.start("watch", stderr=subprocess.PIPE)
    try:
        assert wait_until(lambda: ws.rows(Issue) == 30, 90), "the first pass did not finish"
        assert wait_until(lambda: len(smtp_server.messages) > 0, 30), "delivery did not start"
        imap.deliver([varied_message(100)])
        taken_in = wait_until(lambda: ws.rows(Issue) == 31, DELIVER_BETWEEN_SECONDS + 10)
        sent, queued = len(smtp_server.messages), ws.rows(OutboxMessage)
        # ... and delivery goes on at once, without waiting for more mail or poll_interval.
        goes_on = wait_until(lambda: len(smtp_server.messages) >= sent + 2, 10)
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
