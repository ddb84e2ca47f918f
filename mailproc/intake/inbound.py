"""The parsed form of one inbound email, as every later step sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class AttachmentPart:
    """One attachment: its sanitised original name and its decoded bytes."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Inbound:
    """What mailproc knows about an inbound message once parsed.

    `from_address` is only set when the From header held exactly one address without
    parse defects; otherwise the sender is untrusted and `sender_trusted` is False.
    """

    message_id: str  # always "<...>"; derived from the bytes when the header is missing
    message_id_generated: bool
    sha256: str
    from_address: str
    from_name: str
    from_addresses: tuple[str, ...]
    from_defects: bool
    reply_to: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str
    attachments: tuple[AttachmentPart, ...]
    headers: tuple[tuple[str, str], ...]  # decoded, in order, X-Mailproc-* removed
    content_types: tuple[str, ...]  # every MIME part's type, top-level first
    defects: tuple[str, ...]
    parser: str  # "mail-parser" or "email" (the fallback)
    # The first text part alone: triage commands are read only from it, never from
    # forwarded or attached messages further down.
    first_text: str = ""

    @property
    def sender_trusted(self) -> bool:
        return bool(self.from_address) and not self.from_defects

    def header(self, name: str) -> str | None:
        """The first value of a header (case-insensitive), or None."""
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)

    def headers_named(self, name: str) -> tuple[str, ...]:
        """Every value of a header, top-most first."""
        lname = name.lower()
        return tuple(v for k, v in self.headers if k.lower() == lname)
