"""The contract every mailbox source keeps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class SourceMessage:
    """One message waiting at the source.

    `raw` holds the whole message, except when `oversize` is set: then it holds only the
    header block, so the message can be quarantined without downloading it.
    """

    key: str  # unique and stable per message: "imap:<folder>:<uidvalidity>:<uid>" or "maildir:<key>"
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

    name: str

    def open(self) -> None:
        """Connect (and create the Processed and Quarantine folders if missing)."""

    def close(self) -> None: ...

    def pending(self) -> Iterator[SourceMessage]:
        """Every message still waiting, oldest first, fetched in batches."""

    def count_pending(self) -> int: ...

    def done(self, key: str) -> None:
        """Move the message to Processed. Idempotent: a key already gone is not an error."""

    def quarantine(self, key: str, reason: str) -> None:
        """Move the message to Quarantine. Idempotent like done()."""

    def wait(self, timeout: float) -> bool:
        """Block until new mail may have arrived (IDLE) or timeout; True if woken by mail."""
