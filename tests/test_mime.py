"""The MIME writer (`mailproc.outbound.mime` through `compose_bytes`): whatever the text, the
bytes are 7-bit, CRLF, within line limits, and read back as the values that went in."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailproc.outbound import mime
from mailproc.outbound.compose import CalendarPart, Envelope, compose_bytes
from mailproc.outbound.headers import safe_header
from mailproc.outbound.render import Rendered
from mailproc.vocabulary import make_message_id

WHEN = datetime(2026, 11, 21, 14, 5, tzinfo=UTC)
MID = make_message_id("IFG-2026-0042", "ack", "<in@gp.example>", "example.nhs.scot")
# Letters from several scripts, spaces, punctuation, line breaks and a few hostile characters.
TEXT = st.text(
    st.sampled_from([*"abc XYZ 019 =?_:;,.-\"'<>\t\r\n", *"éł€—中😀", "\u202e", "\x00"]),
    max_size=300,
)


def _read(raw: bytes) -> EmailMessage:
    return BytesParser(policy=default).parsebytes(raw)


def _check_wire_form(raw: bytes) -> None:
    assert raw.isascii()
    lines = raw.split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert max(len(line) for line in lines) <= 998


@settings(max_examples=150, deadline=None)
@given(subject=TEXT, name=TEXT, text=TEXT, html=TEXT, topic=TEXT)
def test_any_text_reads_back_as_it_went_in(subject: str, name: str, text: str, html: str, topic: str) -> None:
    envelope = Envelope(to=("gp@example.org",), thread_topic=topic or None, list_id="<cmg.example.nhs.scot>")
    calendar = CalendarPart("REQUEST", "BEGIN:VCALENDAR\r\nSUMMARY:" + text + "\r\nEND:VCALENDAR\r\n")
    raw = compose_bytes(
        Rendered(subject, text, html), envelope, name, "ifg@example.nhs.scot", MID, WHEN, calendar
    )
    _check_wire_form(raw)
    msg = _read(raw)
    assert str(msg["Subject"]) == safe_header(subject, 250)
    assert str(msg["Thread-Topic"]) == safe_header(topic or subject, 250)
    assert msg["From"].addresses[0].addr_spec == "ifg@example.nhs.scot"
    assert msg["From"].addresses[0].display_name == safe_header(name)
    assert msg["Bcc"] is None and msg["Cc"] is None
    parts = [p for p in msg.iter_parts()]
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html", "text/calendar"]
    # Line ends become CRLF on the wire (an empty text is one empty line, as in the stdlib).
    body = "\n".join(line.decode() for line in text.encode().splitlines()) + "\n"
    assert parts[0].get_content().replace("\r\n", "\n") == body
    assert parts[2].get_param("method") == "REQUEST"


def test_long_headers_fold_at_spaces_and_ids_stay_whole() -> None:
    refs = tuple(f"<r{i}.{'x' * 40}@gp.example>" for i in range(20))
    envelope = Envelope(to=tuple(f"reader{i}@example.org" for i in range(12)), references=refs)
    subject = "Discharge letters " * 20
    raw = compose_bytes(
        Rendered(subject, "t\n", "<p>t</p>"), envelope, "IFG", "ifg@example.nhs.scot", MID, WHEN
    )
    _check_wire_form(raw)
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    assert max(len(line) for line in head.split("\r\n")) <= mime.FOLD_AT
    msg = _read(raw)
    assert str(msg["References"]).split() == list(refs)
    assert len(msg["To"].addresses) == 12 and str(msg["Subject"]) == safe_header(subject, 250)


def test_same_values_same_bytes_and_a_change_shows() -> None:
    def build(text: str) -> bytes:
        envelope = Envelope(to=("gp@example.org",))
        return compose_bytes(Rendered("s", text, "<p/>"), envelope, "IFG", "ifg@example.nhs.scot", MID, WHEN)

    assert build("one\n") == build("one\n")
    assert build("one\n") != build("two\n")


def test_a_line_break_in_a_header_value_is_refused() -> None:
    with pytest.raises(ValueError):
        mime.header_line("Subject", "Hello\r\nBcc: evil@x.org")
