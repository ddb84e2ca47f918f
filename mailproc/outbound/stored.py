"""The stored form of an outgoing email: what the outbox keeps, and the bytes built from it.

The gate renders and redacts inside the transaction that caused the email, and the outbox
row keeps those redacted parts with the envelope, the Message-ID and the Date as plain JSON.
MIME composition waits for delivery, out of the ingest transaction. Everything the bytes
depend on is fixed at enqueue (the MIME boundary is derived from the content), so every
attempt sends the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailproc.outbound.compose import CalendarPart, Envelope, check, compose_bytes
from mailproc.outbound.render import Rendered

FORMAT = 1  # the version of the JSON below; a later change adds a version, old rows still build


@dataclass(frozen=True)
class Outgoing:
    """One email as the gate queues it: parts already redacted, headers as plain values."""

    rendered: Rendered
    envelope: Envelope
    from_name: str
    from_addr: str
    message_id: str
    date: datetime  # the Date header, fixed at enqueue so that a retry sends the same bytes
    calendar: CalendarPart | None = None

    def check(self) -> None:
        """Raise ValueError now for what compose() would refuse at delivery."""
        check(self.envelope, self.message_id, self.date, self.calendar)


def message_bytes(outgoing: Outgoing) -> bytes:
    """The message as sent (CRLF line ends), the same on every call."""
    return compose_bytes(
        outgoing.rendered,
        outgoing.envelope,
        outgoing.from_name,
        outgoing.from_addr,
        outgoing.message_id,
        outgoing.date,
        outgoing.calendar,
    )


def to_content(outgoing: Outgoing) -> dict[str, Any]:
    """The JSON the outbox row keeps (the Message-ID has its own column)."""
    r, e, c = outgoing.rendered, outgoing.envelope, outgoing.calendar
    return {
        "v": FORMAT,
        "subject": r.subject,
        "text": r.text,
        "html": r.html,
        "from_name": outgoing.from_name,
        "from_addr": outgoing.from_addr,
        "date": outgoing.date.isoformat(),
        "to": list(e.to),
        "in_reply_to": e.in_reply_to,
        "references": list(e.references),
        "auto": e.auto,
        "thread_topic": e.thread_topic,
        "thread_index": e.thread_index,
        "list_id": e.list_id,
        "calendar": {"method": c.method, "ics": c.ics} if c else None,
    }


def from_content(content: dict[str, Any], message_id: str) -> Outgoing:
    """The email an outbox row's JSON describes."""
    if content.get("v") != FORMAT:
        raise ValueError(f"outbox content of unknown format {content.get('v')!r}")
    cal = content["calendar"]
    return Outgoing(
        rendered=Rendered(subject=content["subject"], text=content["text"], html=content["html"]),
        envelope=Envelope(
            to=tuple(content["to"]),
            in_reply_to=content["in_reply_to"],
            references=tuple(content["references"]),
            auto=content["auto"],
            thread_topic=content["thread_topic"],
            thread_index=content["thread_index"],
            list_id=content["list_id"],
        ),
        from_name=content["from_name"],
        from_addr=content["from_addr"],
        message_id=message_id,
        date=datetime.fromisoformat(content["date"]),
        calendar=CalendarPart(method=cal["method"], ics=cal["ics"]) if cal else None,
    )


def row_bytes(raw: bytes | None, content: dict[str, Any] | None, message_id: str) -> bytes | None:
    """An outbox row's message: its stored bytes (rows queued before 0007 kept them), else
    built from its content; None once purged."""
    if raw is not None:
        return raw
    if content is None:
        return None
    return message_bytes(from_content(content, message_id))
