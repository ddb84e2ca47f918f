"""The Maildir transport: every message lands in `<dir>/new/` for a human to look at."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from email.parser import BytesHeaderParser
from pathlib import Path

from mailproc.outbound.headers import safe_header
from mailproc.outbound.transports import RecipientResult

log = logging.getLogger(__name__)

ENVELOPE_HEADER = b"X-Mailproc-Envelope-To"


class MaildirTransport:
    """Writes each message once, with its envelope recipients in a header on top.

    The file name is derived from the Message-ID and the recipients, so delivering the
    same message again after a crash (sent, but not yet marked sent) writes nothing new:
    unlike SMTP, this transport is exactly-once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> dict[str, RecipientResult]:
        """Store the message; every recipient counts as sent."""
        targets = list(dict.fromkeys(recipients))
        rcpt = safe_header(", ".join(targets), max_len=10_000).encode("ascii", "replace")
        # Maildir files use the local line ending; the outbox stores SMTP's CRLF.
        body = ENVELOPE_HEADER + b": " + rcpt + b"\n" + raw.replace(b"\r\n", b"\n")
        name = self._name(raw, targets)
        try:
            if self._exists(name):
                log.info("message %s already in maildir %s; not written again", name, self.path)
            else:
                self._write(name, body)
                log.debug("wrote %s to maildir %s for %d recipients", name, self.path, len(targets))
        except OSError as exc:  # a full disk or a missing mount: try again later, like a 4xx
            log.error("cannot write to outbox maildir %s: %s", self.path, exc)
            return {a: RecipientResult(address=a, status="retry", reply=f"451 {exc}") for a in targets}
        reply = f"250 stored in maildir as {name}"
        return {a: RecipientResult(address=a, status="sent", reply=reply) for a in targets}

    def close(self) -> None:
        """Nothing to release: every send() opens and closes its own file."""

    @staticmethod
    def _name(raw: bytes, targets: Sequence[str]) -> str:
        message_id = BytesHeaderParser().parsebytes(raw).get("Message-ID", "")
        seed = f"{message_id}|{','.join(targets)}".encode("utf-8", "replace")
        return f"mailproc.{hashlib.sha256(seed).hexdigest()[:32]}"

    def _exists(self, name: str) -> bool:
        if (self.path / "new" / name).exists():
            return True
        cur = self.path / "cur"
        return cur.is_dir() and any(p.name.split(":")[0] == name for p in cur.iterdir())

    def _write(self, name: str, body: bytes) -> None:
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        tmp = self.path / "tmp" / f"{name}.{os.getpid()}"
        with open(tmp, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / "new" / name)  # atomic: readers never see half a file
