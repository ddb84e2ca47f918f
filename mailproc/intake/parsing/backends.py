"""The two readers of a message: mail-parser first, Python's `email` when mail-parser fails.

Each returns the parsed tree, the date and the defects it noticed. Everything else,
the subject included, is read from the tree's raw headers the same way for both (see
`mailproc.intake.parsing.parser`): mail-parser drops bytes of unknown charsets and turns two Subject
headers into the text of a Python list, so its own subject is not used.
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import Message

import mailparser

from mailproc.intake.parsing.fields import as_utc, first, parse_date, raw_values

MAIL_PARSER = "mail-parser"
STDLIB = "email"
# Headers whose parsed form the fallback reads, and whose parse defects it reports.
_PARSED_HEADERS = ("from", "to", "cc", "reply-to", "subject", "date", "message-id")


@dataclass(frozen=True)
class Decoded:
    """A parsed tree and the fields its parser decoded."""

    tree: Message
    date: datetime | None
    defects: tuple[str, ...]
    parser: str


def with_mailparser(data: bytes, tree: Message | None = None) -> Decoded:
    """Parse with mail-parser; any exception it raises is left to the caller.

    Given `tree` (the compat32 parse of `data`, which is what mail-parser builds first), it
    reads that instead of parsing the bytes a second time: half the parsing, and no second
    whole-message copy (email's parsebytes holds one at 4 bytes a character)."""
    mail = mailparser.MailParser(tree) if tree is not None else mailparser.parse_from_bytes(data)
    tree = mail.message
    if not isinstance(tree, Message):
        raise TypeError("mail-parser returned no message")
    moment = mail.date
    return Decoded(
        tree=tree,
        date=as_utc(moment) if isinstance(moment, datetime) else None,
        defects=tuple(sorted({str(c) for c in mail.defects_categories})),
        parser=MAIL_PARSER,
    )


def with_email(data: bytes) -> Decoded:
    """Parse with the standard library's modern policy, reading each header defensively."""
    tree = email.message_from_bytes(data, policy=policy.default)
    defects = _tree_defects(tree)
    for name in _PARSED_HEADERS:
        defects.extend(_header_defects(tree, name))
    return Decoded(
        tree=tree,
        date=_date(tree),
        defects=tuple(sorted(set(defects))),
        parser=STDLIB,
    )


def _tree_defects(tree: Message) -> list[str]:
    found: list[str] = []
    stack = [tree]
    while stack:
        part = stack.pop()
        found.extend(type(d).__name__ for d in part.defects)
        if part.is_multipart():
            stack.extend(p for p in part.get_payload() if isinstance(p, Message))
    return found


def _header_defects(tree: Message, name: str) -> list[str]:
    # With the default policy a header is parsed when read, and reading can raise.
    try:
        values = tree.get_all(name) or []
        return [type(d).__name__ for v in values for d in getattr(v, "defects", ())]
    except Exception as exc:
        return [type(exc).__name__]


def _date(tree: Message) -> datetime | None:
    try:
        value = tree["date"]
        moment = getattr(value, "datetime", None)
    except Exception:
        moment = None
    if isinstance(moment, datetime):
        return as_utc(moment)
    return parse_date(first(raw_values(tree, "date")))
