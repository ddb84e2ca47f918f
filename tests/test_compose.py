"""Outgoing message construction: ids, Outlook threading, headers, injection safety."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default

import pytest

from mailproc.outbound.compose import (
    Envelope,
    compose,
    thread_index,
)
from mailproc.outbound.render import Rendered
from mailproc.vocabulary import make_message_id

WHEN = datetime(2026, 11, 21, 14, 5, tzinfo=UTC)
INJECTED = "=?utf-8?q?Hello=0D=0ABcc:_evil@x.org?="


def test_thread_index_shape() -> None:
    value = thread_index("IFG-2026-0042", WHEN)
    raw = base64.b64decode(value, validate=True)
    assert len(raw) == 22
    ticks = int.from_bytes(raw[:6], "big") << 16
    seconds = ticks / 10_000_000 - 11_644_473_600  # FILETIME → Unix time
    assert abs(seconds - WHEN.timestamp()) < 0.01
    assert thread_index("IFG-2026-0042", WHEN) == value
    assert thread_index("IFG-2026-0043", WHEN)[8:] != value[8:]


def make(envelope: Envelope, subject: str = "[IFG-2026-0042] Received") -> EmailMessage:
    rendered = Rendered(subject=subject, text="Thank you — noted.\n", html="<p>Thank you</p>")
    mid = make_message_id("IFG-2026-0042", "ack", "<in@gp.example>", "example.nhs.scot")
    return compose(rendered, envelope, "Interface Group", "ifg@example.nhs.scot", mid, WHEN)


def test_injected_subject_and_name_never_become_headers() -> None:
    envelope = Envelope(
        to=("gp@example.org",),
        in_reply_to="<in@gp.example>\r\nBcc: evil@x.org",
        references=("<root@gp.example>", "not an id", "<in@gp.example>"),
        thread_topic=INJECTED,
    )
    msg = make(envelope, subject=INJECTED)
    raw = msg.as_bytes(policy=SMTP)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["Bcc"] is None and b"\nBcc" not in raw
    assert [k for k in parsed] == [
        "From", "To", "Subject", "Date", "Message-ID", "References", "Thread-Topic",
        "Thread-Index", "Auto-Submitted", "X-Auto-Response-Suppress", "X-Mailproc-Ref",
        "MIME-Version", "Content-Type",
    ]  # fmt: skip
    assert str(parsed["Subject"]) == "Hello Bcc: evil@x.org"
    assert str(parsed["Thread-Topic"]) == "Hello Bcc: evil@x.org"
    assert "In-Reply-To" not in parsed  # the malformed parent id was dropped
    assert str(parsed["References"]) == "<root@gp.example> <in@gp.example>"


def test_headers_and_parts() -> None:
    envelope = Envelope(
        to=("gp@example.org", "nurse@example.org"),
        in_reply_to="<in@gp.example>",
        references=("<root@gp.example>",),
        auto="auto-generated",
    )
    parsed = message_from_bytes(make(envelope).as_bytes(policy=SMTP), policy=default)
    assert str(parsed["From"]) == "Interface Group <ifg@example.nhs.scot>"
    assert str(parsed["To"]) == "gp@example.org, nurse@example.org"
    assert parsed["Cc"] is None  # every recipient is in To: our mail never copies anyone in
    assert str(parsed["In-Reply-To"]) == "<in@gp.example>"
    assert str(parsed["References"]) == "<root@gp.example> <in@gp.example>"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert parsed["X-Mailproc-Ref"] == "IFG-2026-0042"
    assert parsed["Precedence"] is None
    assert parsed["Thread-Index"] == thread_index("IFG-2026-0042", WHEN)
    assert parsed["Date"].datetime == WHEN
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and html is not None
    # get_content() keeps the wire's CRLF line endings
    assert text.get_content() == "Thank you — noted.\r\n"
    assert html.get_content() == "<p>Thank you</p>\r\n"
    assert text["Content-Transfer-Encoding"] == "quoted-printable"


def test_references_are_capped_keeping_the_root() -> None:
    refs = tuple(f"<r{i}@x.org>" for i in range(40))
    parsed = make(Envelope(to=("gp@example.org",), references=refs))
    kept = str(parsed["References"]).split()
    assert len(kept) == 20 and kept[0] == "<r0@x.org>" and kept[-1] == "<r39@x.org>"


def test_bad_envelopes_are_refused() -> None:
    with pytest.raises(ValueError):
        make(Envelope(to=()))
    with pytest.raises(ValueError):
        make(Envelope(to=("a@x.org, b@y.org",)))
    with pytest.raises(ValueError):
        make(Envelope(to=("a@x.org",), auto="no"))
