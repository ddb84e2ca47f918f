"""The contract every mailbox source keeps, and how its messages are named."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

KEY_MAX = 255  # source keys and cursor names live in String(255) columns
PART_MAX = 120  # a longer mailbox or file name goes into a key as a digest (two fit in KEY_MAX)
# The longest single wait(): RFC 2177 wants IDLE re-issued at least every 29 minutes (servers
# may drop it at 30, some sooner); we stay well under, and watch never asks for more.
IDLE_RENEW_SECONDS = 540


def key_part(text: str) -> str:
    """`text` as it is, or a short stable digest of it when longer than PART_MAX."""
    if len(text) <= PART_MAX:
        return text
    return "sha256-" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@dataclass(frozen=True)
class SourceMessage:
    """One message waiting at the source.

    `raw` holds the whole message, except when `oversize` is set: then it holds only the
    header block, so the message can be quarantined without downloading it.
    """

    # Unique and stable per message, and naming its mailbox, so that another mailbox that
    # reuses UIDVALIDITY and UIDs (or file names) is never taken as already logged:
    # "imap:<user>@<host>:<port>/<folder>:<uidvalidity>:<uid>" or "maildir:<path>:<file>".
    key: str
    raw: bytes = field(repr=False)
    size: int
    oversize: bool = False


class CursorStore(Protocol):
    """Persistence for a source's position (kept in the database by the caller)."""

    def load(self, source: str) -> tuple[int, int] | None:
        """(uidvalidity, last_uid) or None."""

    def save(self, source: str, uidvalidity: int, last_uid: int) -> None: ...


class Source(Protocol):
    """A mailbox: yields pending messages; a message leaves it only by done/quarantine."""

    name: str  # "imap:<user>@<host>:<port>/<folder>" or "maildir:<path>": its keys start so

    def open(self) -> None:
        """Connect (and create the Processed and Quarantine folders if missing)."""

    def close(self) -> None: ...

    def pending(self) -> Iterator[SourceMessage]:
        """Every message still waiting, oldest first, fetched in batches."""

    def count_pending(self) -> int: ...

    def done(self, key: str) -> None:
        """Move the message to Processed. Idempotent: a key already gone is not an error."""

    def done_many(self, keys: Sequence[str]) -> None:
        """done() for many keys, in as few commands as the source allows."""

    def quarantine(self, key: str, reason: str) -> None:
        """Move the message to Quarantine. Idempotent like done()."""

    def wait(self, timeout: float) -> bool:
        """Block until new mail may have arrived (IDLE) or timeout; True if woken by mail."""
