"""Checks on the raw bytes before any real parser sees them: shape, header, MIME-bomb caps."""

from __future__ import annotations

import re
from email import policy
from email.message import Message
from email.parser import BytesParser

from mailproc.intake.parsing.base import ParseError, ParseLimits

_BOM = b"\xef\xbb\xbf"
_BLANK_LINES = re.compile(rb"\A(?:[ \t]*(?:\r\n|\n|\r))+")
# An mbox separator: "From " then the envelope sender; "From  :" is an (obsolete) header.
_MBOX_FROM = re.compile(rb"\AFrom [^\s:][^\r\n]*(?:\r\n|\n|\r)")
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


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


def check_structure(data: bytes, limits: ParseLimits) -> None:
    """Count MIME depth and parts with the cheap compat32 parser (no decoding), before the
    real parsers see the message; over a cap, or too deep for Python, it is a ParseError.
    """
    try:
        tree = BytesParser(policy=policy.compat32).parsebytes(data)
        _measure(tree, limits)
    except RecursionError as exc:
        raise ParseError("MIME structure nested too deeply to parse") from exc


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
