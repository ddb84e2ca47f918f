"""Outgoing transports: hand raw bytes to SMTP or drop them into a Maildir.

A transport reports per recipient, so that the outbox retries only the recipients a
server asked us to retry and never sends twice to one that already accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from mailproc.config import OutboundSettings
from mailproc.errors import TransportError

Status = Literal["sent", "retry", "failed"]


@dataclass(frozen=True)
class RecipientResult:
    """The outcome for one envelope recipient; `reply` is the server's code and text."""

    address: str
    status: Status
    reply: str


class Transport(Protocol):
    """Delivers messages to their envelope recipients, one send() each.

    send() raises TransportError only when nothing could be attempted for a reason that
    will not go away by itself (security or authentication set-up); transient trouble is
    reported as "retry" results. A transport may keep a connection between sends (SMTP
    logs in once for a batch): close() ends it.
    """

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> dict[str, RecipientResult]: ...

    def close(self) -> None: ...


def make_transport(settings: OutboundSettings) -> Transport:
    """The transport the configuration names."""
    # Imported here: the transport modules import RecipientResult from this package.
    from mailproc.outbound.transports.maildir import MaildirTransport
    from mailproc.outbound.transports.smtp import SmtpTransport

    if settings.transport == "maildir":
        return MaildirTransport(settings.maildir)
    if settings.transport == "smtp":
        if settings.smtp is None:
            raise TransportError("outbound.transport is smtp but [outbound.smtp] is missing")
        return SmtpTransport(settings.smtp)
    raise TransportError(f"unknown outbound transport {settings.transport!r}")
