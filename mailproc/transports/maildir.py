"""The Maildir transport: every message lands in `<dir>/new/` for a human to look at."""

from __future__ import annotations

import logging
import mailbox
from collections.abc import Sequence
from pathlib import Path

from mailproc.headers import safe_header
from mailproc.transports import RecipientResult

log = logging.getLogger(__name__)

ENVELOPE_HEADER = b"X-Mailproc-Envelope-To"


class MaildirTransport:
    """Writes each message once, with its envelope recipients in a header on top."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> dict[str, RecipientResult]:
        """Store the message; every recipient counts as sent."""
        targets = list(dict.fromkeys(recipients))
        rcpt = safe_header(", ".join(targets), max_len=10_000).encode("ascii", "replace")
        # Maildir files use the local line ending; the outbox stores SMTP's CRLF.
        body = ENVELOPE_HEADER + b": " + rcpt + b"\n" + raw.replace(b"\r\n", b"\n")
        box = mailbox.Maildir(self.path, create=True)
        key = box.add(body)
        log.info("message written to maildir %s as %s for %d recipients", self.path, key, len(targets))
        reply = f"250 stored in maildir as {key}"
        return {a: RecipientResult(address=a, status="sent", reply=reply) for a in targets}
