"""Two pollers on one mailbox and one database: each message once, references gap-free."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from mailproc.store.models import Issue, Message, OutboxMessage
from tests.imapserver import ImapTestServer
from tests.samples import varied_message
from tests.test_intake_e2e import append_all, folder_count, imap_workspace
from tests.workspace import SECRET


def test_two_concurrent_pollers(tmp_path: Path, imap: ImapTestServer, db_url: str) -> None:
    ws = imap_workspace(tmp_path / "ws", imap, db_url=db_url)
    ws.cli("db", "upgrade")
    append_all(imap, [varied_message(i) for i in range(80)])
    env = {**os.environ, "MAILPROC_SECRET": SECRET}
    command = [sys.executable, "-m", "mailproc", "-q", "--config", str(ws.config), "poll"]
    procs = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)]
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
    assert folder_count(imap, "INBOX") == 0
    # Two sessions MOVE-ing the same UID at once can each copy it (Dovecot copies, then
    # expunges): the database still logged it once; Processed may hold a spare copy.
    assert len(_processed_ids(imap)) == 80


def _processed_ids(imap: ImapTestServer) -> set[bytes]:
    client = imap.client()
    try:
        client.select_folder("Processed", readonly=True)
        fetched = client.fetch(client.search("ALL"), ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        return {data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].strip() for data in fetched.values()}
    finally:
        client.logout()
