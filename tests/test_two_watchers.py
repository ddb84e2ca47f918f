"""Two `watch` processes on one mailbox and one database: each message processed once, each
acknowledgement sent once, and one pass at a time (the mailbox lock), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import signal
import subprocess
import time
from email.utils import parseaddr
from pathlib import Path

from sqlalchemy import create_engine, func, select

from mailproc.store.instance_lock import MailboxLock
from mailproc.store.models import Issue, Message
from tests.support.imapserver import ImapTestServer
from tests.support.mail import SENDERS, varied_message
from tests.support.net import wait_until
from tests.support.smtpserver import SmtpTestServer
from tests.support.workspace import imap_workspace

ROUNDS, PER_ROUND = 3, 4


def test_two_watchers_share_one_mailbox(
    tmp_path: Path, imap: ImapTestServer, smtp_server: SmtpTestServer, db_url: str
) -> None:
    # poll_interval long: only IDLE wakes the watchers, so both wake together for each round.
    ws = imap_workspace(
        tmp_path / "ws", imap, db_url=db_url, smtp=smtp_server, intake__imap={"poll_interval": 300}
    )
    ws.cli("db", "upgrade")
    procs = [ws.start("watch", stderr=subprocess.PIPE) for _ in range(2)]
    total = ROUNDS * PER_ROUND
    try:
        time.sleep(2)  # both are connected and idling
        for r in range(ROUNDS):  # mail arrives while both run, in bursts both see at once
            imap.deliver([varied_message(r * PER_ROUND + i) for i in range(PER_ROUND)])
            time.sleep(0.5)
        submitters = {varied_message_sender(i) for i in range(total)}
        assert wait_until(lambda: ws.rows(Issue) == total, 60), "the watchers did not take in the mail"
        assert wait_until(lambda: submitters <= {r for d in smtp_server.messages for r in d.rcpt_tos}, 60)
    finally:
        errs = []
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            errs.append(proc.communicate(timeout=60)[1])
    assert [p.returncode for p in procs] == [0, 0], errs
    app = ws.app()
    try:
        with app.factory() as s:
            seqs = sorted(s.scalars(select(Issue.seq)))
            messages = s.scalar(select(func.count()).select_from(Message))
    finally:
        app.engine.dispose()
    assert seqs == list(range(1, total + 1)) and messages == total  # each logged once
    for sender in submitters:  # each acknowledgement accepted by the SMTP server exactly once
        assert len(smtp_server.received_by(sender)) == 1, sender
    # One pass at a time: no instance fetched what the other was processing (no "already
    # logged"), and no two MOVEs of one message left a spare copy in Processed.
    assert not any("already logged" in err for err in errs), errs
    assert sorted(imap.message_ids("Processed")) == sorted(set(imap.message_ids("Processed")))
    assert imap.count("Processed") == total and imap.count("INBOX") == 0
    assert not any("Traceback" in err or "ERROR" in err for err in errs), errs


def varied_message_sender(i: int) -> str:
    """The From address of varied_message(i)."""
    return parseaddr(SENDERS[i % len(SENDERS)])[1].replace("@", f"+{i}@")


def test_the_mailbox_lock_admits_one_holder_at_a_time(db_url: str) -> None:
    # Two engines: as two processes would, each with its own connections (or open files).
    first, second = create_engine(db_url), create_engine(db_url)
    try:
        a, b = MailboxLock(first, "imap:u@h:143/INBOX"), MailboxLock(second, "imap:u@h:143/INBOX")
        other = MailboxLock(second, "imap:u@h:143/Other")
        assert a.try_acquire()
        assert not b.try_acquire()  # held by the other "process"
        assert other.try_acquire()  # another mailbox is not held up
        a.release()
        assert b.try_acquire()  # released at the end of the pass
        b.release()
        other.release()
    finally:
        first.dispose()
        second.dispose()
