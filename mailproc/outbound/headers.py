"""Header values built from untrusted data: the one gate every such value passes through.

A header injection needs a line break; a spoofed display needs bidi overrides or invisible
characters. `safe_header` removes both after decoding RFC 2047 encoded-words, because the
dangerous characters are usually hidden inside an encoded-word (`=?utf-8?q?a=0D=0ABcc:...?=`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from email.errors import HeaderParseError
from email.header import Header, decode_header, make_header
from email.utils import formataddr

log = logging.getLogger(__name__)

ELLIPSIS = "…"

# RFC 5322 atext plus dots for the local part; a conservative host name for the domain.
# Quoted local parts, comments, IP literals and non-ASCII are refused on purpose: the
# outbox only ever needs plain addresses and anything else is a likely injection.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
_ADDR_SPEC = re.compile(rf"{_LOCAL}@{_DOMAIN}")
_MAX_ADDRESS = 254


def safe_header(value: object, max_len: int = 200) -> str:
    """A single-line, printable, length-capped string for use as (part of) a header.

    Accepts str, bytes, `email.header.Header` or anything with `str()`. Encoded-words are
    decoded (an unknown charset degrades to replacement characters, never an exception);
    control and format characters (CR, LF, NUL, U+2028/9, bidi overrides, zero-width
    characters) are removed; runs of whitespace become one space; the result is cut to
    `max_len` characters ending in "…".
    """
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    text = _decode_words(_to_text(value))
    text = " ".join(_strip_controls(text).split())
    if len(text) > max_len:
        text = text[: max_len - 1].rstrip() + ELLIPSIS
    return text


def safe_address(addr: str) -> str:
    """`addr` stripped, if it is exactly one plain addr-spec (`name@example.org`).

    Raises ValueError for anything else: display names, angle brackets, lists, comments,
    quoted local parts, whitespace or control characters.
    """
    candidate = addr.strip() if isinstance(addr, str) else ""
    if len(candidate) > _MAX_ADDRESS or not _ADDR_SPEC.fullmatch(candidate):
        raise ValueError(f"not a single plain email address: {safe_header(addr, 80)!r}")
    return candidate


def format_address(name: str, addr: str) -> str:
    """`"Display Name" <addr>` with the name made safe and quoted or encoded as needed."""
    return formataddr((safe_header(name), safe_address(addr)))


def _to_text(value: object) -> str:
    if isinstance(value, bytes):
        # Raw 8-bit headers are nearly always UTF-8 today; anything else degrades visibly
        # to U+FFFD rather than failing.
        return value.decode("utf-8", errors="replace")
    if isinstance(value, Header):
        return str(value)
    return value if isinstance(value, str) else str(value)


def _decode_words(text: str) -> str:
    if "=?" not in text:
        return text
    try:
        chunks = decode_header(text)
    except (HeaderParseError, ValueError):
        log.debug("undecodable encoded-word kept as text")
        return text
    try:
        return str(make_header(chunks))
    except (LookupError, UnicodeError, HeaderParseError):
        # Unknown or lying charset: decode chunk by chunk, degrading to U+FFFD.
        return "".join(_decode_chunk(part, charset) for part, charset in chunks)


def _decode_chunk(part: bytes | str, charset: str | None) -> str:
    if isinstance(part, str):
        return part
    try:
        return part.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return part.decode("utf-8", errors="replace")


def _strip_controls(text: str) -> str:
    out: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp"):
            out.append(" ")  # line and paragraph breaks separate words: keep a space
        elif category == "Cf":
            continue  # invisible: bidi overrides, zero-width space/joiners, BOM
        elif category == "Cs":
            out.append("\ufffd")  # lone surrogate from surrogateescape'd bytes
        else:
            out.append(ch)
    return "".join(out)
