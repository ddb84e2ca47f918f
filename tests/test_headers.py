"""safe_header / safe_address / format_address: the gate for header values."""

from __future__ import annotations

from email.header import Header

import pytest

from mailproc.outbound.headers import format_address, safe_address, safe_header


def test_encoded_word_line_break_is_removed() -> None:
    value = safe_header("=?utf-8?q?Hello=0D=0ABcc:_evil@x.org?=")
    assert "\r" not in value and "\n" not in value
    assert value == "Hello Bcc: evil@x.org"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain  subject\t here", "plain subject here"),
        ("a\x00b\x07c", "a b c"),
        ("line\u2028sep\u2029para", "line sep para"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # right-to-left override
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("=?iso-8859-1?q?caf=E9?=", "café"),
        ("=?utf-8?b?8J+SiiBSZXBvcnQ=?=", "💊 Report"),
        ("  =?utf-8?q?a?= =?utf-8?q?b?=  ", "ab"),  # whitespace between words is dropped
    ],
)
def test_cleaning(raw: str, expected: str) -> None:
    assert safe_header(raw) == expected


def test_unknown_charset_degrades_instead_of_failing() -> None:
    assert safe_header("=?x-nonsense?q?Hi=21?=") == "Hi!"


def test_bytes_header_and_other_objects() -> None:
    assert safe_header(b"caf\xc3\xa9\r\nX: y") == "café X: y"
    assert safe_header(b"bad \xff byte") == "bad \ufffd byte"
    assert safe_header(Header("Grüße\r\n", "utf-8")) == "Grüße"
    assert safe_header(42) == "42"


def test_surrogates_become_replacement_characters() -> None:
    assert safe_header("a\udcffb") == "a\ufffdb"


def test_length_cap() -> None:
    value = safe_header("x" * 500, max_len=50)
    assert len(value) == 50 and value.endswith("…")
    assert safe_header("short", max_len=50) == "short"


@pytest.mark.parametrize("good", ["a@example.org", " A.B+tag@mail.example.nhs.scot ", "x@localhost"])
def test_safe_address_accepts_plain_addresses(good: str) -> None:
    assert safe_address(good) == good.strip()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "no-at-sign",
        "a@b@c.org",
        "Name <a@example.org>",
        "a@example.org, b@example.org",
        "a@example.org\r\nBcc: c@example.org",
        "a b@example.org",
        '"quoted"@example.org',
        "a@example.org>",
        ".a@example.org",
        "a@-example.org",
        "é@example.org",
    ],
)
def test_safe_address_refuses_anything_else(bad: str) -> None:
    with pytest.raises(ValueError):
        safe_address(bad)


def test_format_address() -> None:
    assert format_address("Dr A Example", "a@example.org") == "Dr A Example <a@example.org>"
    assert format_address("Example, Dr A", "a@example.org") == '"Example, Dr A" <a@example.org>'
    assert format_address("Evil\r\nBcc: x@y.org", "a@example.org") == ('"Evil Bcc: x@y.org" <a@example.org>')
    assert format_address("", "a@example.org") == "a@example.org"
    with pytest.raises(ValueError):
        format_address("x", "a@example.org\nBcc: b@example.org")
