"""The CLI as an operator uses it: watch, issues, quarantine retry, check, db upgrade."""

from __future__ import annotations

import json
import mailbox
import os
import signal
import subprocess
import time
from pathlib import Path

from alembic.script import ScriptDirectory

from mailproc.store.db import MIGRATIONS
from mailproc.store.models import Issue
from tests.support.imapserver import ImapTestServer
from tests.support.mail import make_message, varied_message
from tests.support.net import catches, free_port, wait_until
from tests.support.smtpserver import SmtpTestServer
from tests.support.workspace import Workspace, imap_workspace, make_workspace


def _start_watch(ws: Workspace) -> subprocess.Popen[str]:
    """`mailproc watch` in a child process; its log goes to `watch.log` in the workspace."""
    with (ws.root / "watch.log").open("w") as log:
        return ws.start("watch", stderr=log)


def _wait_for_log(ws: Workspace, text: str, timeout: float = 60) -> str:
    """The watch log once it contains `text` (on a loaded machine a start can take seconds)."""
    log = ws.root / "watch.log"
    wait_until(lambda: text in log.read_text(), timeout)
    return log.read_text()


def _stop_watch(ws: Workspace, proc: subprocess.Popen[str]) -> str:
    assert wait_until(lambda: catches(proc.pid, signal.SIGTERM), 30), "watch never started"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    return (ws.root / "watch.log").read_text()


def test_watch_processes_new_mail_and_stops_cleanly_on_sigterm(tmp_path: Path, imap: ImapTestServer) -> None:
    ws = imap_workspace(tmp_path / "ws", imap)
    # A long poll interval: only IDLE can wake the watcher in time.
    config = ws.config.read_text().replace("batch_size = 50", "batch_size = 50\npoll_interval = 300")
    ws.config.write_text(config)
    ws.cli("db", "upgrade")
    proc = _start_watch(ws)
    try:
        time.sleep(2)  # mail that arrives before the first pass is found by it; after it, IDLE wakes us
        imap.deliver([varied_message(i) for i in range(3)])
        wait_until(lambda: ws.rows(Issue) >= 3, timeout=30, interval=0.3)
        assert ws.rows(Issue) == 3
        err = _stop_watch(ws, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "watch stopped" in err
    assert imap.count("INBOX") == 0


def test_same_message_under_a_new_source_key_is_not_logged_twice(tmp_path: Path) -> None:
    """What a UIDVALIDITY change (or a copy put back in the inbox) looks like to the pipeline."""
    ws = make_workspace(tmp_path / "ws")
    raw = varied_message(7)
    box = mailbox.Maildir(ws.root / "inbox", create=True)
    box.add(raw)
    assert ws.cli("poll").stdout.startswith("1 new issue(s)")
    box.add(raw)
    out = ws.cli("poll").stdout
    assert out.startswith("0 new issue(s)") and "1 already logged" in out
    assert ws.rows(Issue) == 1


def test_issues_list_and_show_json(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    box = mailbox.Maildir(ws.root / "inbox", create=True)
    for i in range(3):
        box.add(varied_message(i))
    ws.cli("poll")
    listed = json.loads(ws.cli("issues", "list", "--json").stdout)
    assert [i["status"] for i in listed] == ["awaiting-triage"] * 3
    ref = listed[0]["reference"]
    shown = json.loads(ws.cli("issues", "show", ref, "--json").stdout)
    assert shown["reference"] == ref
    assert shown["messages"][0]["kind"] == "new"
    assert [e["action"] for e in shown["events"]] == ["submitted"]
    text = ws.cli("issues", "list", "--status", "awaiting-triage").stdout
    assert text.count("awaiting-triage") == 3
    missing = ws.cli("issues", "show", "IFG-1999-0001", check=False)
    assert missing.returncode == 1 and "no issue IFG-1999-0001" in missing.stderr


def test_quarantine_retry_after_the_cause_is_fixed(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", intake={"max_attempts": 1})
    box = mailbox.Maildir(ws.root / "inbox", create=True)
    box.add(b"Subject only, no blank line and no body")
    box.add(make_message(subject="A real one", message_id="<real-1@example.nhs.scot>"))
    out = ws.cli("poll").stdout
    assert "1 new issue(s)" in out and "1 quarantined" in out
    listing = ws.cli("quarantine", "list").stdout
    qid = listing.split()[0]
    assert "could not be parsed" in listing
    retried = ws.cli("quarantine", "retry", qid, check=False)
    assert retried.returncode == 1 and "quarantined again" in retried.stderr
    assert "quarantine is empty" not in ws.cli("quarantine", "list", "--all").stdout


def test_check_and_db_upgrade(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert f"schema: empty -> {head}" in ws.cli("db", "upgrade").stdout
    assert "up to date" in ws.cli("db", "upgrade").stdout
    out = ws.cli("check").stdout
    assert out.startswith("ok:") and "acknowledgement" in out and "triage-request" in out
    broken = tmp_path / "override" / "email" / "acknowledgement"
    broken.mkdir(parents=True)
    (broken / "body.txt.j2").write_text("{% if %}", encoding="utf-8")
    bad = make_workspace(tmp_path / "ws2", group={"templates_dir": str(tmp_path / "override")})
    result = bad.cli("check", check=False)
    assert result.returncode == 2
    assert "acknowledgement" in result.stderr


def test_backlog_import_logs_without_writing_to_anyone(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    box = mailbox.Maildir(ws.root / "inbox", create=True)
    for i in range(4):
        box.add(varied_message(i))
    out = ws.cli("poll", "--backlog").stdout
    assert out.startswith("4 new issue(s)") and "sent 0," in out
    shown = json.loads(ws.cli("issues", "show", f"IFG-{ws.year()}-0001", "--json").stdout)
    withheld = [e for e in shown["events"] if e["action"] == "ack-withheld"]
    assert withheld and "backlog" in withheld[0]["detail"]["reason"]
    box.add(varied_message(10))
    assert "sent 2," in ws.cli("poll").stdout  # new mail after the import: acknowledged and triaged


def test_watch_keeps_retrying_an_unreachable_mailbox_and_stops_on_sigterm(tmp_path: Path) -> None:
    os.environ["MAILPROC_IMAP_PASSWORD"] = "x"
    imap = {"host": "127.0.0.1", "port": free_port(), "security": "none", "username": "u", "timeout": 2}
    ws = make_workspace(tmp_path / "ws", intake={"source": "imap"}, intake__imap=imap)
    proc = _start_watch(ws)
    try:
        _wait_for_log(ws, "reconnecting in 4 s")
        assert proc.poll() is None  # still trying, not crashed
        err = _stop_watch(ws, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert (
        err.count("mailbox unavailable") >= 2
        and "reconnecting in 2 s" in err
        and "reconnecting in 4 s" in err
    )


def test_check_connect_logs_in_to_mailbox_and_smtp(
    tmp_path: Path, imap: ImapTestServer, smtp_server: SmtpTestServer
) -> None:
    os.environ["MAILPROC_IMAP_PASSWORD"] = imap.password
    mailbox_settings = {"host": imap.host, "port": imap.port, "security": "none", "username": imap.username}
    smtp = {"host": "127.0.0.1", "port": smtp_server.port, "security": "none"}
    ws = make_workspace(
        tmp_path / "ws", intake={"source": "imap"}, intake__imap=mailbox_settings,
        outbound={"transport": "smtp"}, outbound__smtp=smtp,
    )  # fmt: skip
    out = ws.cli("check", "--connect").stdout
    assert "mailbox: connected" in out and f"SMTP 127.0.0.1:{smtp_server.port} (none) answered 250" in out
    assert smtp_server.messages == []  # nothing was sent

    closed = {**smtp, "port": free_port()}
    broken = make_workspace(tmp_path / "ws2", outbound={"transport": "smtp"}, outbound__smtp=closed)
    result = broken.cli("check", "--connect", check=False)
    assert result.returncode == 1 and f"SMTP server 127.0.0.1:{closed['port']}" in result.stderr
