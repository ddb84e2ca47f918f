"""The memory ceiling's work, importing only imapclient and mail-parser (run by peak_rss.py)."""

from __future__ import annotations

import os

import mailparser
from imapclient import IMAPClient

CEILING_BATCH = 200


def fetch_and_parse(host: str, port: int, user: str) -> None:
    """Log in and do the ceiling's work (`read_inbox`)."""
    client = IMAPClient(host, port=port, ssl=False)
    client.login(user, os.environ["MAILPROC_IMAP_PASSWORD"])
    read_inbox(client)
    client.logout()


def read_inbox(client: IMAPClient) -> None:
    """FETCH every INBOX message 200 at a time and parse each with mail-parser: the ceiling
    of ingest (ingest.py times it) and of memory (memory.py measures its peak)."""
    client.select_folder("INBOX", readonly=True)
    uids = sorted(client.search("ALL"))
    for start in range(0, len(uids), CEILING_BATCH):
        fetched = client.fetch(uids[start : start + CEILING_BATCH], [b"BODY.PEEK[]"])
        for item in fetched.values():
            mailparser.parse_from_bytes(item[b"BODY[]"])
