"""Raw bytes → Inbound: decoding, hostile input, the mail-parser fallback and MIME-bomb caps."""

from __future__ import annotations

import email
import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import mailparser
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mailproc.intake.inbound import Inbound
from mailproc.intake.parsing.parser import (
    ParseError,
    ParseLimits,
    message_id_for,
    normalise,
    parse,
    sanitise_filename,
)
from tests.support.mail import (
    Attachment,
    encode_word,
    make_dsn,
    make_message,
    many_parts,
    nested_multipart,
)

# A DSN whose returned message declares a multipart body that has no parts: mail-parser 4.8
# dies on it with AttributeError ('NoneType' object has no attribute 'index'), as on the
# SendGrid bounces of the shared corpus.
MAILPARSER_KILLER = b"""From: MAILER-DAEMON@mx.example.org
To: a.example@example.nhs.scot
Subject: Undelivered Mail
Message-ID: <killer@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="outer"

--outer
Content-Type: text/plain

Delivery failed.

--outer
Content-Type: message/rfc822

From: a.example@example.nhs.scot
Subject: hello
Content-Type: multipart/alternative; boundary="inner"

This is a multi-part message in MIME format...
"""


def parsed(**kwargs: Any) -> Inbound:
    return parse(make_message(**kwargs))


# --- the ordinary case -----------------------------------------------------------------------


def test_plain_message_fields() -> None:
    raw = make_message(message_id="<m1@example.nhs.scot>", headers=[("Cc", "B <b@example.org>")])
    msg = parse(raw)
    assert msg.parser == "mail-parser"
    assert msg.from_address == "a.example@example.nhs.scot"
    assert msg.from_name == "Dr A Example"
    assert msg.sender_trusted
    assert msg.to == ("interface.group@example.nhs.scot",)
    assert msg.cc == ("b@example.org",)
    assert msg.subject == "Discharge letters arriving late"
    assert msg.date == datetime(2026, 3, 3, 9, 15, tzinfo=UTC)
    assert msg.message_id == "<m1@example.nhs.scot>"
    assert not msg.message_id_generated
    assert "reach us a week late" in msg.text
    assert msg.sha256 == hashlib.sha256(raw).hexdigest()
    assert msg.content_types == ("text/plain",)


def test_date_is_converted_to_utc() -> None:
    msg = parsed(date="Tue, 03 Mar 2026 10:15:00 +0100")
    assert msg.date == datetime(2026, 3, 3, 9, 15, tzinfo=UTC)


@pytest.mark.parametrize("date", [None, "yesterday", "Tue, 99 Foo 2026 99:99:99 +0000"])
def test_missing_or_bad_date_is_none(date: str | None) -> None:
    assert parsed(date=date).date is None


def test_sender_address_is_lower_cased() -> None:
    assert parsed(from_="Dr A <A.Example@Example.NHS.scot>").from_address == "a.example@example.nhs.scot"


# --- subjects and headers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (encode_word("Überweisung – Station 5"), "Überweisung – Station 5"),
        ("=?ISO-8859-1?Q?Caf=E9_au_lait?=", "Café au lait"),
        ("=?utf-8?B?w5w=?= =?utf-8?B?YmVy?=", "Über"),
        ("=?utf-8?B?4oK=?= =?utf-8?B?rA==?=", "€"),  # a character split across two words
        ("Re: =?utf-8?q?caf=C3=A9?= today", "Re: café today"),
        ("=?x-unknown?Q?caf=E9?=", "café"),
    ],
)
def test_encoded_subjects_are_decoded(header: str, expected: str) -> None:
    assert parsed(headers=[("Subject", header)], subject=None).subject == expected


def test_raw_utf8_subject_is_decoded() -> None:
    raw = make_message(subject=None).replace(b"From:", "Subject: Grüße\r\nFrom:".encode(), 1)
    assert parse(raw).subject == "Grüße"


def test_folded_subject_is_one_line() -> None:
    msg = parsed(subject=None, headers=[("Subject", "a long\r\n subject")])
    assert msg.subject == "a long subject"


def test_headers_keep_order_and_are_decoded() -> None:
    msg = parsed(headers=[("X-One", "1"), ("X-Two", encode_word("zwei²"))])
    names = [name for name, _ in msg.headers]
    assert names.index("X-One") < names.index("X-Two")
    assert msg.header("x-two") == "zwei²"


@pytest.mark.parametrize("name", ["X-Mailproc-Token", "x-mailproc-issue", "X-MAILPROC-Route", "X-Mailproc"])
def test_internal_headers_are_stripped(name: str) -> None:
    msg = parsed(headers=[(name, "forged"), ("X-Other", "kept")])
    assert msg.header(name) is None
    assert all("forged" not in value for _, value in msg.headers)
    assert msg.header("X-Other") == "kept"


# --- Message-ID, In-Reply-To, References -----------------------------------------------------


def test_missing_message_id_gets_a_stable_derived_id() -> None:
    raw = make_message(message_id=None)
    msg = parse(raw)
    assert msg.message_id_generated
    assert re.fullmatch(r"<[0-9a-f]{32}@mailproc\.invalid>", msg.message_id)
    assert msg.message_id == message_id_for(raw) == parse(raw).message_id
    # The IMAP (CRLF) and Maildir (LF) copies of one message get the same id.
    assert message_id_for(raw.replace(b"\r\n", b"\n")) == msg.message_id
    assert message_id_for(make_message(message_id=None, body="other")) != msg.message_id


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_message_id_is_replaced(value: str) -> None:
    msg = parsed(message_id=None, headers=[("Message-ID", value)])
    assert msg.message_id_generated
    assert msg.message_id.endswith("@mailproc.invalid>")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("<a@b>", "<a@b>"), ("a@b", "<a@b>"), ("  <a@b> (comment)", "<a@b>"), ("<a @ b>", "<a@b>")],
)
def test_message_id_is_normalised(value: str, expected: str) -> None:
    assert parsed(message_id=value).message_id == expected


def test_in_reply_to_and_references_are_tolerant() -> None:
    msg = parsed(
        in_reply_to="Your message of Monday <p2@example.org>",
        headers=[("References", "<p0@example.org>,<p1@example.org>\r\n\t<p2@example.org>")],
    )
    assert msg.in_reply_to == "<p2@example.org>"
    assert msg.references == ("<p0@example.org>", "<p1@example.org>", "<p2@example.org>")


def test_references_without_brackets() -> None:
    msg = parsed(headers=[("References", "p0@example.org, p1@example.org")], in_reply_to="p1@example.org")
    assert msg.references == ("<p0@example.org>", "<p1@example.org>")
    assert msg.in_reply_to == "<p1@example.org>"


# --- the sender, read strictly ---------------------------------------------------------------


@pytest.mark.parametrize(
    "from_",
    [
        "a@example.org, b@example.org",  # two addresses
        "alice@example.org)<bob@example.com>",  # CVE-2023-27043: legacy parsers pick alice
        "a@example.org <b@example.org>",  # which one?
        '"unbalanced <a@example.org>',
        "Someone <a@example.org",
        "no-at-sign",
        "undisclosed-recipients:;",
        "",
    ],
)
def test_ambiguous_sender_is_untrusted(from_: str) -> None:
    msg = parsed(from_=from_)
    assert msg.from_defects
    assert msg.from_address == ""
    assert not msg.sender_trusted


def test_untrusted_sender_still_lists_what_was_seen() -> None:
    msg = parsed(from_="alice@example.org)<bob@example.com>")
    assert set(msg.from_addresses) == {"alice@example.org", "bob@example.com"}


def test_two_from_headers_are_untrusted() -> None:
    msg = parsed(headers=[("From", "b@example.org")])
    assert msg.from_defects
    assert msg.from_addresses == ("a.example@example.nhs.scot", "b@example.org")


def test_missing_from_is_untrusted() -> None:
    msg = parsed(from_=None)
    assert msg.from_defects and msg.from_addresses == ()


@pytest.mark.parametrize(
    ("from_", "address", "name"),
    [
        ('"boss@example.nhs.scot" <c@example.org>', "c@example.org", "boss@example.nhs.scot"),
        ("Joe Q. Public <john.q.public@example.com>", "john.q.public@example.com", "Joe Q. Public"),
        (f"{encode_word('Jörg Müller')} <j@example.de>", "j@example.de", "Jörg Müller"),
        ('"=?windows-1251?B?wPLo6u7iYQ==?=" <y@example.net>', "y@example.net", "Атиковa"),
    ],
)
def test_display_name_does_not_change_the_address(from_: str, address: str, name: str) -> None:
    msg = parsed(from_=from_)
    assert (msg.from_address, msg.from_name, msg.from_defects) == (address, name, False)


# --- bodies ----------------------------------------------------------------------------------


def test_html_only_body_is_converted_to_text() -> None:
    html = "<html><body><h1>Referral</h1><p>Patient <b>seen</b> twice.</p><ul><li>one</li></ul></body></html>"
    msg = parsed(body=None, html=html)
    assert "Referral" in msg.text and "Patient seen twice." in msg.text and "one" in msg.text
    assert "<" not in msg.text


def test_plain_text_wins_over_html() -> None:
    msg = parsed(body="plain words\n", html="<p>html words</p>")
    assert "plain words" in msg.text and "html words" not in msg.text
    assert msg.content_types == ("multipart/alternative", "text/plain", "text/html")


@pytest.mark.parametrize(
    ("charset", "payload", "expected"),
    [
        ("iso-8859-1", "café".encode("latin-1"), "café"),
        ("us-ascii", "café".encode(), "café"),  # mislabelled UTF-8
        ("x-no-such-charset", "café".encode(), "café"),
        ("x-no-such-charset", "café".encode("latin-1"), "café"),
        ("utf-8", b"caf\xe9", "caf\ufffd"),  # one bad byte must not garble the valid rest
        ("koi8-r", "привет".encode("koi8-r"), "привет"),
    ],
)
def test_body_charsets_are_decoded_leniently(charset: str, payload: bytes, expected: str) -> None:
    head = make_message(body=None).split(b"Content-Type:")[0]
    raw = (
        head
        + f"Content-Type: text/plain; charset={charset}\r\n".encode()
        + b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    assert parse(raw + payload).text.strip() == expected


def test_text_is_never_none() -> None:
    msg = parsed(body=None, attachments=[Attachment("a.pdf", b"%PDF", "application/pdf")])
    assert msg.text == ""


def test_nul_characters_are_removed() -> None:
    assert "\x00" not in parsed(body="a\x00b\n").text


# --- attachments -----------------------------------------------------------------------------


def test_attachments_are_decoded_with_sanitised_names() -> None:
    msg = parsed(
        attachments=[
            Attachment("../../etc/passwd", b"root:x:0:0", "text/plain"),
            Attachment("report.pdf", b"%PDF-1.4 \x00\xff", "application/pdf"),
        ]
    )
    assert [(a.filename, a.content_type, a.data) for a in msg.attachments] == [
        ("passwd", "text/plain", b"root:x:0:0"),
        ("report.pdf", "application/pdf", b"%PDF-1.4 \x00\xff"),
    ]
    assert "root:x" not in msg.text


def test_hostile_attachment_names() -> None:
    long_name = "x" * 300 + ".pdf"
    msg = parsed(
        attachments=[
            Attachment("evil\x07\x1bname.pdf", b"1"),
            Attachment(long_name, b"2"),
            Attachment("C:\\Windows\\system32\\cmd.exe", b"3"),
        ]
    )
    names = [a.filename for a in msg.attachments]
    assert names[0] == "evilname.pdf"
    assert len(names[1]) == 120 and names[1].endswith(".pdf")
    assert names[2] == "cmd.exe"


def test_enclosed_message_becomes_an_eml_attachment() -> None:
    inner = make_message(subject="Original question", body="inner words\n")
    msg = parsed(body="see attached\n", attachments=[Attachment(None, inner, "message/rfc822")])
    (eml,) = msg.attachments
    assert eml.filename == "Original question.eml"
    assert eml.content_type == "message/rfc822"
    assert b"inner words" in eml.data
    assert "inner words" not in msg.text
    # The enclosed message's own parts are its sender's, not this message's.
    assert msg.content_types == ("multipart/mixed", "text/plain", "message/rfc822")


def test_attachment_without_a_name_is_named_from_its_type() -> None:
    msg = parsed(attachments=[Attachment(None, b"\x89PNG", "image/png", disposition="inline")])
    assert [a.filename for a in msg.attachments] == ["attachment.png"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("report\x00.pdf", "report.pdf"),
        ("photo\u202egpj.exe", "photogpj.exe"),  # right-to-left override hides ".exe"
        ("...hidden", "hidden"),
        ("a<b>c|d?.txt", "a_b_c_d_.txt"),
        ("Cafe\u0301.pdf", "Café.pdf"),  # NFC
        ("   ", "attachment.bin"),
        ("", "attachment.bin"),
        ("/", "attachment.bin"),
        ("con.txt", "_con.txt"),
        ("résumé (final).docx", "résumé (final).docx"),
    ],
)
def test_sanitise_filename(name: str, expected: str) -> None:
    assert sanitise_filename(name) == expected


def test_sanitise_filename_keeps_the_extension_of_long_names() -> None:
    name = sanitise_filename("y" * 500 + ".docx")
    assert len(name) == 120 and name.endswith(".docx")
    assert len(sanitise_filename("z" * 500)) == 120


# --- normalise -------------------------------------------------------------------------------


def test_bom_blank_lines_and_cr_only_line_endings() -> None:
    raw = b"\xef\xbb\xbf\r\r" + make_message(subject="Mac mail").replace(b"\r\n", b"\r")
    msg = parse(raw)
    assert msg.subject == "Mac mail"
    assert "reach us a week late" in msg.text
    assert msg.sha256 == hashlib.sha256(raw).hexdigest()


def test_mbox_from_line_is_removed() -> None:
    raw = b"From a.example@example.nhs.scot Tue Mar  3 09:15:00 2026\n" + make_message()
    assert normalise(raw) == make_message()
    assert parse(raw).from_address == "a.example@example.nhs.scot"


def test_normalise_keeps_an_obsolete_from_header() -> None:
    raw = b"From  : a@example.org\r\nSubject: x\r\n\r\nbody"
    assert normalise(raw) == raw


def test_normalise_strips_leading_whitespace_before_the_first_header() -> None:
    assert normalise(b"\n\n  \t From: a@b\n\nx") == b"From: a@b\n\nx"


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\n\n",
        b"Lorem ipsum dolor sit amet\n\nMore text",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200),
    ],
)
def test_no_headers_is_a_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse(raw)
    assert caught.value.reason == "no email headers found"


def test_huge_header_section_is_refused() -> None:
    raw = make_message(headers=[("X-Padding", "x" * 2000)])
    with pytest.raises(ParseError, match="header section larger than 1000 bytes"):
        parse(raw, ParseLimits(max_header_bytes=1000))


@pytest.mark.parametrize(
    ("raw", "reason"), [(nested_multipart(100), "deeper than 20"), (many_parts(5000), "more than 500")]
)
def test_mime_bombs_are_parse_errors(raw: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse(raw)


def test_nesting_deeper_than_python_can_recurse_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse(nested_multipart(5000), ParseLimits(max_depth=100_000, max_parts=100_000))


def test_limits_can_be_raised() -> None:
    msg = parse(nested_multipart(30), ParseLimits(max_depth=40))
    assert msg.text == "bottom"


# --- the fallback to Python's email ----------------------------------------------------------


def test_mailparser_failure_falls_back_to_the_standard_library(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = parse(make_message(attachments=[Attachment("a.pdf", b"%PDF")]))

    def broken(tree: object) -> None:
        raise AttributeError("'NoneType' object has no attribute 'index'")

    # parse hands mail-parser the tree its structure check built (MailParser(tree)).
    monkeypatch.setattr(mailparser, "MailParser", broken)
    msg = parse(make_message(attachments=[Attachment("a.pdf", b"%PDF")]))
    assert msg.parser == "email"
    fields = (
        "message_id",
        "from_address",
        "subject",
        "date",
        "text",
        "attachments",
        "headers",
        "content_types",
    )
    assert all(getattr(msg, f) == getattr(expected, f) for f in fields)


def test_fallback_decodes_subject_and_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mailparser, "MailParser", lambda tree: 1 / 0)
    msg = parsed(subject="Grüße aus der Praxis", date="Tue, 03 Mar 2026 10:15:00 +0100")
    assert (msg.parser, msg.subject) == ("email", "Grüße aus der Praxis")
    assert msg.date == datetime(2026, 3, 3, 9, 15, tzinfo=UTC)


def test_real_mailparser_crash_is_survived() -> None:
    msg = parse(MAILPARSER_KILLER)
    assert msg.subject == "Undelivered Mail"
    assert msg.content_types == ("multipart/report", "text/plain", "message/rfc822")
    assert "Delivery failed." in msg.text
    assert "StartBoundaryNotFoundDefect" in msg.defects
    try:
        mailparser.parse_from_bytes(MAILPARSER_KILLER)
    except AttributeError:
        assert msg.parser == "email"  # mail-parser 4.8: the fallback did the work


def test_both_parsers_failing_is_an_internal_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mailparser, "MailParser", lambda tree: 1 / 0)
    monkeypatch.setattr(email, "message_from_bytes", lambda *a, **k: 1 / 0)
    with pytest.raises(ParseError) as caught:
        parse(make_message())
    assert caught.value.internal and "ZeroDivisionError" in caught.value.reason


# --- defects and structure -------------------------------------------------------------------


def test_python_email_defects_are_reported() -> None:
    raw = make_message(attachments=[Attachment("a.pdf", b"%PDF")])
    truncated = raw[: raw.rindex(b"--==part-0==--")]
    assert "CloseBoundaryNotFoundDefect" in parse(truncated).defects


def test_dsn_structure() -> None:
    msg = parse(make_dsn())
    assert msg.content_types == (
        "multipart/report",
        "text/plain",
        "message/delivery-status",
        "message/rfc822",
    )
    assert [a.filename for a in msg.attachments] == ["Discharge letters arriving late.eml"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_anything_but_parse_error(raw: bytes) -> None:
    # Behind a header line the bytes are nearly always read (the whole parser runs); alone they
    # are nearly always refused for want of headers.
    for label, data in (("behind a header", b"Subject: fuzz\r\n" + raw), ("alone", raw)):
        try:
            parse(data)
        except ParseError as exc:
            event(f"{label}: refused")
            assert not exc.internal, exc.reason
        else:
            event(f"{label}: read")


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0), st.binary(min_size=1, max_size=8))
def test_corrupted_messages_never_raise_anything_but_parse_error(where: int, junk: bytes) -> None:
    raw = make_message(html="<p>x</p>", attachments=[Attachment("a.pdf", b"%PDF")])
    at = where % len(raw)
    try:
        parse(raw[:at] + junk + raw[at:])
    except ParseError as exc:
        event("refused")
        assert not exc.internal, exc.reason
    else:
        event("read")


def test_hostile_charset_parameter_is_survived() -> None:
    # get_payload() of this part raises ValueError (embedded null character) in Python's email.
    raw = (
        b'From: a@example.org\nSubject: x\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b'--b\nContent-Type: text/plain; charset="a\x00b"\nContent-Transfer-Encoding: 8bit\n\n'
        b"caf\xc3\xa9\n--b--\n"
    )
    msg = parse(raw)
    assert msg.text.strip() == "café"
    assert msg.content_types == ("multipart/mixed", "text/plain")


def test_overlong_values_are_dropped_not_stored() -> None:
    long_id = "<" + "i" * 1200 + "@example.org>"
    msg = parsed(
        message_id=long_id,
        in_reply_to=long_id,
        references=[long_id, "<ok@example.org>"],
        from_="x" * 300 + "@example.org",
        attachments=[Attachment("a.bin", b"1", "application/" + "y" * 300)],
    )
    assert msg.message_id_generated and len(msg.message_id) < 100
    assert msg.in_reply_to is None
    assert msg.references == ("<ok@example.org>",)
    assert msg.from_defects and msg.from_address == ""
    assert msg.attachments[0].content_type == "application/octet-stream"
