"""An ImapSource opened on the test IMAP server, and numbered messages to put in it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from mailproc.config import ImapSettings
from mailproc.intake.sources.imap import ImapSource
from tests.support.cursors import MemoryCursor
from tests.support.imapserver import ImapTestServer

BATCH = 7  # small, so a handful of messages crosses batch borders


def settings(server: ImapTestServer, **changes: Any) -> ImapSettings:
    base = ImapSettings(
        host=server.host,
        port=server.port,
        security="none",
        username=server.username,
        auth="password",
        password=server.password,
        token_command="",
        folder="INBOX",
        processed_folder="Processed",
        quarantine_folder="Quarantine",
        batch_size=BATCH,
        idle=True,
        poll_interval=60,
        timeout=10,
    )
    return replace(base, **changes)


def message(n: int, body: bytes = b"") -> bytes:
    return (
        f"From: gp{n}@example.nhs.scot\r\nTo: group@example.nhs.scot\r\n"
        f"Subject: Discharge letter {n}\r\nMessage-ID: <m{n}@example.test>\r\n\r\n"
    ).encode() + (body or f"Body of message {n}.\r\n".encode())


@contextmanager
def opened(
    server: ImapTestServer, cursor: MemoryCursor | None = None, max_bytes: int = 10**6, **kw: Any
) -> Iterator[ImapSource]:
    use_move = kw.pop("use_move", None)
    source = ImapSource(settings(server, **kw), cursor or MemoryCursor(), max_bytes, use_move=use_move)
    source.open()
    try:
        yield source
    finally:
        source.close()
