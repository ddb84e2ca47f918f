"""Two pollers on one mailbox and one database: each message once, references gap-free."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import func, select

from mailproc.store.models import Issue, Message, OutboxMessage
from tests.support.imapserver import ImapTestServer
from tests.support.mail import varied_message
from tests.support.workspace import imap_workspace


def test_two_concurrent_pollers(tmp_path: Path, imap: ImapTestServer, db_url: str) -> None:
    ws = imap_workspace(tmp_path / "ws", imap, db_url=db_url)
    ws.cli("db", "upgrade")
    imap.deliver([varied_message(i) for i in range(80)])
    procs = [ws.start("-q", "poll", stderr=subprocess.PIPE) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    ws.cli("poll")  # a message moved by neither (a lost race on the move) goes now
    app = ws.app()
    with app.factory() as s:
        seqs = sorted(s.scalars(select(Issue.seq)))
        messages = s.scalar(select(func.count()).select_from(Message))
        acks = s.scalar(select(func.count()).where(OutboxMessage.template == "acknowledgement"))
    assert seqs == list(range(1, 81))  # unique and gap-free
    assert (messages, acks) == (80, 80)
    assert imap.count("INBOX") == 0
    # Two sessions MOVE-ing the same UID at once can each copy it (Dovecot copies, then
    # expunges): the database still logged it once; Processed may hold a spare copy.
    assert len(set(imap.message_ids("Processed"))) == 80
