"""Building outgoing messages: headers, deterministic Message-IDs and Outlook threading.

Only plain strings reach the new message, each through `safe_header`/`safe_address`;
a header object parsed from inbound mail is never copied, so whatever it carried
(folded line breaks, odd encodings) cannot travel into our mail.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP
from email.utils import format_datetime

from mailproc.outbound import mime
from mailproc.outbound.headers import format_address, safe_address, safe_header
from mailproc.outbound.render import Rendered
from mailproc.vocabulary import parse_our_message_id

log = logging.getLogger(__name__)

AUTO_VALUES = ("auto-replied", "auto-generated")
MAX_REFERENCES = 20
_MSG_ID = re.compile(r"<[^<>\s\"\\]{1,250}>")
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Envelope:
    """Who gets the message and how it threads. Addresses are plain addr-specs."""

    to: tuple[str, ...]
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto: str = "auto-replied"  # or "auto-generated" (RFC 3834)
    thread_topic: str | None = None
    # Outlook's Thread-Index; pass thread_index(reference, issue.created_at) so every
    # message about one issue carries the same value. None: derived from this message.
    thread_index: str | None = None
    list_id: str | None = None  # RFC 2919 List-Id of list mail


@dataclass(frozen=True)
class CalendarPart:
    """An iCalendar object (RFC 5545) sent with an email as its third alternative (iMIP,
    RFC 6047): `method` is the object's METHOD (REQUEST, CANCEL), repeated on the MIME part
    because Outlook and Gmail read it there."""

    method: str
    ics: str


def thread_index(seed: str, when: datetime) -> str:
    """Outlook's Thread-Index header: base64 of 22 bytes, the top 48 bits of the FILETIME
    of `when` (100 ns ticks since 1601, big-endian) and a GUID derived from `seed`."""
    delta = _aware(when) - _FILETIME_EPOCH
    ticks = (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10
    header = (ticks >> 16).to_bytes(6, "big")
    guid = hashlib.sha256(seed.encode("utf-8", errors="surrogatepass")).digest()[:16]
    return base64.b64encode(header + guid).decode("ascii")


def compose(
    rendered: Rendered,
    envelope: Envelope,
    from_name: str,
    from_addr: str,
    message_id: str,
    when: datetime,
    calendar: CalendarPart | None = None,
) -> EmailMessage:
    """The outgoing message as an `EmailMessage`, to read it (`compose_bytes` is what is sent)."""
    raw = compose_bytes(rendered, envelope, from_name, from_addr, message_id, when, calendar)
    return BytesParser(policy=SMTP).parsebytes(raw)


def compose_bytes(
    rendered: Rendered,
    envelope: Envelope,
    from_name: str,
    from_addr: str,
    message_id: str,
    when: datetime,
    calendar: CalendarPart | None = None,
) -> bytes:
    """The outgoing message: multipart/alternative text + HTML (+ a calendar object) with our
    standard headers. The same arguments always give the same bytes."""
    check(envelope, message_id, when, calendar)
    subject = safe_header(rendered.subject, 250)
    headers = [
        ("From", format_address(from_name, from_addr)),
        ("To", ", ".join(safe_address(a) for a in envelope.to)),
        ("Subject", subject),
        ("Date", format_datetime(_aware(when))),
        ("Message-ID", message_id),
        *_threading_headers(envelope, subject, message_id, when),
        ("Auto-Submitted", envelope.auto),
    ]
    if envelope.list_id:
        headers.append(("List-Id", safe_header(envelope.list_id, 250)))
    # Tells Exchange not to answer us with out-of-office or delivery receipts. No
    # "Precedence: bulk": some servers then drop genuine replies; Auto-Submitted suffices.
    headers.append(("X-Auto-Response-Suppress", "All"))
    parsed = parse_our_message_id(message_id)
    headers.append(("X-Mailproc-Ref", (parsed.reference if parsed else None) or "none"))
    # Quoted-printable (in `mime`) keeps the message 7-bit clean: no reliance on 8BITMIME.
    parts = [mime.Part("plain", rendered.text), mime.Part("html", rendered.html)]
    if calendar is not None:
        # An alternative, not an attachment: calendar clients then offer accept/decline in
        # place; METHOD is repeated on the part because Outlook and Gmail read it there.
        parts.append(mime.Part("calendar", calendar.ics, (("method", calendar.method),)))
    # A boundary derived from the content: every attempt at delivery sends the same bytes.
    # "=_" never occurs in quoted-printable text, so the boundary cannot occur in a part.
    seed = "\0".join((message_id, rendered.text, rendered.html, calendar.ics if calendar else ""))
    boundary = "=_" + hashlib.sha256(seed.encode("utf-8", errors="surrogatepass")).hexdigest()[:32]
    return mime.message_bytes(headers, parts, boundary)


def check(envelope: Envelope, message_id: str, when: datetime, calendar: CalendarPart | None = None) -> None:
    """Raise ValueError for what `compose` refuses, so that the outbox refuses it at enqueue."""
    if envelope.auto not in AUTO_VALUES:
        raise ValueError(f"Auto-Submitted must be one of {AUTO_VALUES}, not {envelope.auto!r}")
    if not envelope.to:
        raise ValueError("a message needs at least one To address")
    if not _MSG_ID.fullmatch(message_id):
        raise ValueError(f"not a Message-ID: {safe_header(message_id, 80)!r}")
    _aware(when)
    if calendar is not None and calendar.method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"calendar method must be REQUEST or CANCEL, not {calendar.method!r}")


def _threading_headers(
    envelope: Envelope, subject: str, message_id: str, when: datetime
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    parent = _clean_msg_id(envelope.in_reply_to) if envelope.in_reply_to else None
    refs = [r for r in (_clean_msg_id(x) for x in envelope.references) if r]
    if parent and parent not in refs:
        refs.append(parent)
    refs = list(dict.fromkeys(r for r in refs if r != message_id))
    if parent:
        out.append(("In-Reply-To", parent))
    if refs:
        # The oldest id is the thread root that clients key on; keep it plus the newest.
        kept = refs if len(refs) <= MAX_REFERENCES else [refs[0], *refs[-(MAX_REFERENCES - 1) :]]
        out.append(("References", " ".join(kept)))
    out.append(("Thread-Topic", safe_header(envelope.thread_topic or subject, 250)))
    parsed = parse_our_message_id(message_id)
    seed = parsed.reference if parsed and parsed.reference else message_id
    out.append(("Thread-Index", envelope.thread_index or thread_index(seed, when)))
    return out


def _clean_msg_id(value: str) -> str | None:
    """A msg-id from inbound data, or None when it does not look like one."""
    text = safe_header(value, 300)
    if _MSG_ID.fullmatch(text):
        return text
    log.debug("dropped a malformed message id from threading headers")
    return None


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime (UTC)")
    return when
