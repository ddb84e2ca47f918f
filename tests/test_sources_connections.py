"""How often mailproc logs in to the mailbox, counted in Dovecot's own log (issue 8)."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.support.imapserver import ImapTestServer
from tests.support.mail import varied_message
from tests.support.net import wait_until
from tests.support.workspace import Workspace, intake_tables, make_workspace


def fresh_account(server: ImapTestServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new account of its own, so that no other test's logins are counted."""
    if server.kind != "dovecot":
        pytest.skip("counting logins needs Dovecot's log")
    user = f"count-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MAILPROC_IMAP_PASSWORD", server.password)
    return user


def test_one_poll_logs_in_once(
    tmp_path: Path, imap_server: ImapTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = fresh_account(imap_server, monkeypatch)
    imap_server.deliver([varied_message(1), varied_message(2)], user=user)
    ws = make_workspace(tmp_path / "ws", **intake_tables(imap_server, user))
    ws.cli("db", "upgrade")
    before = imap_server.logins(user)
    assert ws.cli("poll").stdout.startswith("2 new issue(s)")
    assert imap_server.logins(user) - before == 1
    ws.cli("check", "--connect")
    assert imap_server.logins(user) - before == 2


def start_watch(ws: Workspace) -> subprocess.Popen[str]:
    return ws.start("watch", stderr=subprocess.PIPE)


def test_watch_logs_in_once_per_connection(
    tmp_path: Path, imap_server: ImapTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = fresh_account(imap_server, monkeypatch)
    ws = make_workspace(tmp_path / "ws", **intake_tables(imap_server, user, poll_interval=300))
    ws.cli("db", "upgrade")
    proc = start_watch(ws)
    try:
        assert wait_until(lambda: imap_server.logins(user) >= 1, 20), "watch never logged in"
        time.sleep(1.5)  # settled in IDLE (a second login would have come by now)
        first = imap_server.logins(user)
        imap_server.kick(user)  # the connection drops: watch backs off 2 s and reconnects
        assert wait_until(lambda: imap_server.logins(user) > first, 20), "watch never reconnected"
        time.sleep(1.5)
        total = imap_server.logins(user)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "mailbox unavailable" in err and "reconnecting in 2 s" in err
    assert (first, total) == (1, 2), err
