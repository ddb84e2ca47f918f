"""Checks on the raw bytes before any real parser sees them: shape, header, MIME-bomb caps."""

from __future__ import annotations

import re
from email import policy
from email.feedparser import BytesFeedParser
from email.message import Message

from mailproc.intake.parsing.base import ParseError, ParseLimits

_BOM = b"\xef\xbb\xbf"
_BLANK_LINES = re.compile(rb"\A(?:[ \t]*(?:\r\n|\n|\r))+")
# An mbox separator: "From " then the envelope sender; "From  :" is an (obsolete) header.
_MBOX_FROM = re.compile(rb"\AFrom [^\s:][^\r\n]*(?:\r\n|\n|\r)")
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# Where a header field ends: a line break not followed by a continuation line.
_FIELD_END = re.compile(rb"\r?\n(?![ \t])")
# A Content-* field at the start of a line after the message's header: a MIME part's header
# (found without parsing, so that no parser sees an oversized one). A body line that looks
# like one is measured too; one over the cap is no ordinary text either.
_PART_FIELD = re.compile(rb"^content-", re.IGNORECASE | re.MULTILINE)


def normalise(raw: bytes) -> bytes:
    """Bytes a mail parser can read: leading BOM, blank lines and mbox "From " line removed,
    CR-only line endings turned into LF, leading whitespace before the first header dropped.
    """
    data = raw.removeprefix(_BOM)
    if b"\r" in data and b"\n" not in data:
        data = data.replace(b"\r", b"\n")  # classic Mac OS line endings
    data = _BLANK_LINES.sub(b"", data)
    data = _MBOX_FROM.sub(b"", data, count=1)
    data = _BLANK_LINES.sub(b"", data)
    # A first line starting with whitespace cannot continue a header; it is the header.
    return data.lstrip(b" \t")


def canonical(raw: bytes) -> bytes:
    """The normalised bytes with LF line endings: equal for IMAP (CRLF) and Maildir (LF) copies."""
    return normalise(raw).replace(b"\r\n", b"\n")


def check_header(data: bytes, limits: ParseLimits) -> None:
    """Refuse a blob that does not start with a header line, or whose header is too large."""
    if not _HEADER_LINE.match(data):
        raise ParseError("no email headers found")
    end = _HEADER_END.search(data)
    header_bytes = end.start() if end else len(data)
    if header_bytes > limits.max_header_bytes:
        raise ParseError(f"header section larger than {limits.max_header_bytes} bytes")


def check_fields(data: bytes, limits: ParseLimits) -> None:
    """Refuse a header field longer than `max_field_bytes`: any field of the message's header,
    and the Content-* fields of its MIME parts. Linear: fields are measured, never parsed."""
    end = _HEADER_END.search(data)
    header_end = end.start() if end else len(data)
    start = 0
    while start < header_end:
        start = _measure_field(data, start, limits, "")
    for match in _PART_FIELD.finditer(data, header_end):
        _measure_field(data, match.start(), limits, "a MIME part's ")


def _measure_field(data: bytes, start: int, limits: ParseLimits, where: str) -> int:
    """Check the field starting at `start`; returns where the next one starts."""
    found = _FIELD_END.search(data, start)
    stop = found.start() if found else len(data)
    if stop - start > limits.max_field_bytes:
        name = data[start : min(stop, start + 40)].partition(b":")[0].decode("ascii", "replace")
        raise ParseError(
            f"{where}{name.strip() or 'header'} field is {stop - start} bytes"
            f" (at most {limits.max_field_bytes} are read)"
        )
    return found.end() if found else len(data)


_FEED_BYTES = 1 << 16


def check_structure(data: bytes, limits: ParseLimits) -> Message:
    """Count MIME depth and parts with the cheap compat32 parser (no decoding), before the
    real parsers see the message; over a cap, or too deep for Python, it is a ParseError.

    Returns the compat32 tree: the one mail-parser would build again from the same bytes.
    """
    try:
        tree = _compat_tree(data)
        _measure(tree, limits)
        return tree
    except RecursionError as exc:
        raise ParseError("MIME structure nested too deeply to parse") from exc


def _compat_tree(data: bytes) -> Message:
    # Fed in slices: BytesParser.parsebytes(data) decodes the whole message into one str
    # and wraps it in a StringIO (4 bytes a character), over 5 × the message at once:
    # the largest allocation of a pass over a 25 MB message.
    parser = BytesFeedParser(policy=policy.compat32)
    for start in range(0, len(data), _FEED_BYTES):
        parser.feed(data[start : start + _FEED_BYTES])
    return parser.close()


def _measure(tree: Message, limits: ParseLimits) -> None:
    # An explicit stack: Message.walk() recurses, which is what a bomb exploits.
    stack: list[tuple[Message, int]] = [(tree, 0)]
    parts = 0
    while stack:
        part, depth = stack.pop()
        parts += 1
        if parts > limits.max_parts:
            raise ParseError(f"more than {limits.max_parts} MIME parts")
        if depth > limits.max_depth:
            raise ParseError(f"MIME nesting deeper than {limits.max_depth} levels")
        # is_multipart() first: get_payload() of a leaf decodes, and can raise on hostile bytes.
        if part.is_multipart():
            children = part.get_payload()
            stack.extend((child, depth + 1) for child in children if isinstance(child, Message))
