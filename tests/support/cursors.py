"""A CursorStore in memory, for sources tested without a database."""

from __future__ import annotations


class MemoryCursor:
    """A CursorStore in a dict, recording every save (the real one lives in the database)."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[int, int]] = {}
        self.saves: list[tuple[str, int, int]] = []

    def load(self, source: str) -> tuple[int, int] | None:
        """(uidvalidity, last_uid) or None."""
        return self.data.get(source)

    def save(self, source: str, uidvalidity: int, last_uid: int) -> None:
        """Remember the position and the call."""
        self.data[source] = (uidvalidity, last_uid)
        self.saves.append((source, uidvalidity, last_uid))
