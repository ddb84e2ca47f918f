"""Header fields: unfolding, RFC 2047 decoding, Message-IDs, dates and address lists.

Everything here works on the raw header strings of a parsed `email` tree (`raw_items()`),
so the mail-parser path and the stdlib fallback decode headers identically.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.message import Message

from mailproc.intake.parsing.charsets import decode_bytes, fix_surrogates

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_LINE_BREAKS = re.compile(r"[\r\n]+")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_BRACKETED_ID = re.compile(r"<([^<>]*)>")
# Characters that end a bare `local@domain` token. Bare ids are found by splitting on these
# (linear), not by a regex: `[^…]+@[^…]+` retried from every position of a long run without
# an "@" costs quadratic time (a 200 KB References took 75 s).
_ID_DELIMITERS = str.maketrans({c: " " for c in '<>,;"()\t\r\n\f\v'})
_INTERNAL_HEADER = "x-mailproc"
# RFC 5322's line limit; the database columns for Message-IDs are this long, and a longer
# id is hostile or broken: it is dropped (and a missing Message-ID is derived instead).
MAX_ID_LENGTH = 998


def clean_text(text: str) -> str:
    """Drop NUL characters, which PostgreSQL cannot store in text columns."""
    return text.replace("\x00", "")


def unfold(value: str) -> str:
    """One logical line: folding removed, stray line breaks become spaces, 8-bit bytes decoded."""
    text = fix_surrogates(value)
    if "\n" in text or "\r" in text:  # most values are one line already
        text = _LINE_BREAKS.sub(" ", _FOLD.sub("", text))
    return clean_text(text).strip()


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded-words in an unfolded header value; never raises.

    Adjacent encoded-words in one charset are decoded together, because senders split
    multi-byte characters across them; whitespace between encoded-words is dropped.
    """
    if "=?" not in value:  # no encoded-word can start: nothing to decode
        return clean_text(value)
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset = ""
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        adjacent = bool(pending) and not gap.strip()
        if pending and not (adjacent and match[1].lower() == pending_charset.lower()):
            out.append(decode_bytes(b"".join(pending), pending_charset))
            pending = []
        if not adjacent:
            out.append(gap)
        pending.append(_word_bytes(match[2], match[3]))
        pending_charset = match[1]
        pos = match.end()
    if pending:
        out.append(decode_bytes(b"".join(pending), pending_charset))
    out.append(value[pos:])
    return clean_text("".join(out))


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "bB":
        data = text.encode("ascii", "replace")
        data += b"=" * (-len(data) % 4)  # senders often drop the padding
        try:
            return base64.b64decode(data)
        except (binascii.Error, ValueError):
            return data
    data = text.replace("_", " ").encode("ascii", "replace")
    return _QP_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), data)


def header_pairs(tree: Message) -> list[tuple[str, str]]:
    """Every header as (name, decoded value), in order, without our internal X-Mailproc-* ones.

    Incoming mail must never be able to set the headers mailproc uses internally.
    """
    pairs: list[tuple[str, str]] = []
    for name, value in tree.raw_items():
        clean_name = unfold(str(name))
        if clean_name.lower().startswith(_INTERNAL_HEADER):
            continue
        pairs.append((clean_name, decode_words(unfold(str(value)))))
    return pairs


def raw_values(tree: Message, name: str) -> list[str]:
    """The unfolded, still encoded values of every header called `name` (case-insensitive)."""
    lname = name.lower()
    return [unfold(str(v)) for k, v in tree.raw_items() if str(k).strip().lower() == lname]


class FieldIndex:
    """The header of one tree, grouped by lower-cased name in one pass: `values(name)` is
    `raw_values(tree, name)` without a pass over every field for each name asked for."""

    def __init__(self, tree: Message) -> None:
        self._raw: dict[str, list[str]] = {}
        for key, value in tree.raw_items():
            self._raw.setdefault(str(key).strip().lower(), []).append(str(value))

    def values(self, name: str) -> list[str]:
        """The unfolded, still encoded values of every field called `name` (lower case)."""
        return [unfold(v) for v in self._raw.get(name, ())]


def message_ids(value: str) -> list[str]:
    """Message-IDs in a References/In-Reply-To value, as `<...>`, tolerant of sloppy syntax.

    Bracketed ids win; only when there are none are bare `local@domain` tokens taken.
    """
    found = [re.sub(r"\s+", "", inner) for inner in _BRACKETED_ID.findall(value)]
    found = [inner for inner in found if inner]
    if not found:
        found = _bare_ids(value)
    unique = dict.fromkeys(f"<{inner}>" for inner in found)
    return [mid for mid in unique if len(mid) <= MAX_ID_LENGTH]


def _bare_ids(value: str) -> list[str]:
    """`local@domain` tokens: an "@" with at least one character on each side."""
    return [token for token in value.translate(_ID_DELIMITERS).split() if "@" in token[1:-1]]


def normalise_message_id(value: str | None) -> str | None:
    """The first id of a Message-ID header as `<...>`, or None when there is none."""
    if not value:
        return None
    ids = message_ids(value)
    if ids:
        return ids[0]
    token = value.strip().split()
    inner = token[0].strip("<>") if token else ""
    return f"<{inner}>" if inner and len(inner) + 2 <= MAX_ID_LENGTH else None


def derived_message_id(canonical: bytes) -> str:
    """A stable Message-ID for mail that has none, from a digest of its canonical bytes."""
    return f"<{hashlib.sha256(canonical).hexdigest()[:32]}@mailproc.invalid>"


def parse_date(value: str | None) -> datetime | None:
    """An aware UTC datetime from a Date header, or None when it cannot be read."""
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return as_utc(moment)


def as_utc(moment: datetime | None) -> datetime | None:
    """`moment` in UTC; a naive one (a `-0000` zone) is taken to be UTC already."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def address_list(values: Iterable[str]) -> tuple[str, ...]:
    """Lower-cased addresses from To/Cc/Reply-To values; lenient, for information only."""
    try:
        pairs = email.utils.getaddresses(list(values))
    except (TypeError, ValueError, IndexError):
        return ()
    found = (addr.strip().lower() for _, addr in pairs)
    return tuple(dict.fromkeys(a for a in found if "@" in a))


def first(values: Sequence[str]) -> str | None:
    """The first value, or None."""
    return values[0] if values else None
