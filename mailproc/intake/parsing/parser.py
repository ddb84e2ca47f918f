"""Raw bytes → `Inbound`: the one way a message enters mailproc.

mail-parser reads the message first. It raises plain AttributeError (and others) on some
real bounces, so any exception from it falls back to Python's `email` package; only when
that fails too is the message refused with a `ParseError` for the quarantine record.
Before either sees the bytes, the MIME structure is measured against `ParseLimits`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from email.message import Message

from mailproc.intake.inbound import Inbound
from mailproc.intake.parsing import backends
from mailproc.intake.parsing.base import ParseError, ParseLimits
from mailproc.intake.parsing.charsets import fix_surrogates
from mailproc.intake.parsing.fields import (
    address_list,
    clean_text,
    decode_words,
    derived_message_id,
    first,
    header_pairs,
    message_ids,
    normalise_message_id,
    raw_values,
)
from mailproc.intake.parsing.parts import attachments, body_text, first_text, sanitise_filename, walk
from mailproc.intake.parsing.raw import canonical, check_fields, check_header, check_structure, normalise
from mailproc.intake.parsing.sender import read_sender

__all__ = [
    "ParseError",
    "ParseLimits",
    "message_id_for",
    "normalise",
    "parse",
    "sanitise_filename",
]

log = logging.getLogger(__name__)
# mail-parser logs attachment names and header values at DEBUG and INFO; those may hold
# patient identifiers, and mailproc's logs must never carry message content.
logging.getLogger("mailparser").setLevel(logging.ERROR)

# Each backend gets the normalised bytes and the compat32 tree check_structure built of them.
_BACKENDS: tuple[tuple[str, Callable[[bytes, Message], backends.Decoded]], ...] = (
    (backends.MAIL_PARSER, backends.with_mailparser),
    (backends.STDLIB, lambda data, _tree: backends.with_email(data)),
)


def parse(raw: bytes, limits: ParseLimits = ParseLimits()) -> Inbound:  # noqa: B008
    """Parse one raw message; raises `ParseError` (and nothing else) when it cannot.

    `sha256` and `size` describe `raw` exactly as given; parsing works on `normalise(raw)`.
    """
    try:
        data = normalise(raw)
        check_header(data, limits)
        check_fields(data, limits)
        tree = check_structure(data, limits)
        return _first_that_reads(raw, data, tree)
    except RecursionError as exc:
        raise ParseError("MIME structure nested too deeply to parse") from exc
    except ParseError:
        raise
    except Exception as exc:  # the poller must get a reason to quarantine, never a crash
        log.exception("unexpected failure while parsing a message")
        raise ParseError(f"internal error: {type(exc).__name__}: {exc}", internal=True) from exc


def message_id_for(raw: bytes) -> str:
    """A stable `<sha256-prefix@mailproc.invalid>` id for a message without a Message-ID.

    The digest is over the normalised bytes with LF line endings, so the IMAP (CRLF) and
    Maildir (LF) copies of one message get the same id.
    """
    return derived_message_id(canonical(raw))


def _first_that_reads(raw: bytes, data: bytes, tree: Message) -> Inbound:
    failures: list[str] = []
    for name, backend in _BACKENDS:
        try:
            return _assemble(raw, backend(data, tree))
        except (ParseError, RecursionError):
            raise
        except Exception as exc:  # mail-parser's failures are not a documented set
            log.info("%s could not read the message: %s: %s", name, type(exc).__name__, exc)
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    reason = "neither mail-parser nor Python's email could read it (" + "; ".join(failures) + ")"
    raise ParseError(reason, internal=True)


def _assemble(raw: bytes, decoded: backends.Decoded) -> Inbound:
    tree = decoded.tree
    sender = read_sender(raw_values(tree, "from"))
    message_id = normalise_message_id(first(raw_values(tree, "message-id")))
    replied_to = message_ids(" ".join(raw_values(tree, "in-reply-to")))
    types, leaves = walk(tree)
    return Inbound(
        message_id=message_id or message_id_for(raw),
        message_id_generated=message_id is None,
        sha256=hashlib.sha256(raw).hexdigest(),
        from_address=sender.address,
        from_name=sender.name,
        from_addresses=sender.seen,
        from_defects=sender.defective,
        reply_to=address_list(raw_values(tree, "reply-to")),
        to=address_list(raw_values(tree, "to")),
        cc=address_list(raw_values(tree, "cc")),
        subject=_one_line(decode_words(first(raw_values(tree, "subject")) or "")),
        date=decoded.date,
        in_reply_to=replied_to[0] if replied_to else None,
        references=tuple(message_ids(" ".join(raw_values(tree, "references")))),
        text=body_text(leaves),
        attachments=attachments(leaves),
        headers=tuple(header_pairs(tree)),
        content_types=tuple(types),
        defects=decoded.defects,
        parser=decoded.parser,
        first_text=first_text(leaves),
    )


def _one_line(text: str) -> str:
    return " ".join(clean_text(fix_surrogates(text)).split())
