"""Moving handled messages out of the source, after their commits.

Processed mail moves in batches: Dovecot's cost per MOVE grows with the folder, so one
command per message makes a first poll quadratic; one per batch keeps it linear. Quarantined
mail (rare, with a reason to log) moves at once. A message committed but not yet moved (a
crash, a failed move) is still at the source: the next pass finds it logged (flow.route
answers "already") and moves it then, so it is logged once and moved once.
"""

from __future__ import annotations

import logging

from mailproc.errors import SourceError
from mailproc.intake.flow import Outcome
from mailproc.intake.sources import Source, SourceMessage

log = logging.getLogger(__name__)

MOVE_BATCH = 100  # committed messages moved to Processed by one command


class Mover:
    """Collects committed messages and moves them out of `source` batch by batch."""

    def __init__(self, source: Source, batch: int = MOVE_BATCH) -> None:
        self._source = source
        self._batch = max(1, batch)
        self._done: list[str] = []

    def settle(self, item: SourceMessage, outcome: Outcome) -> None:
        """Move a message whose outcome is committed: quarantine now, Processed in a batch."""
        if outcome.fate == "quarantine":
            try:
                self._source.quarantine(item.key, outcome.reason)
            except SourceError:
                log.exception("message %s was logged but could not be moved; will move next pass", item.key)
            return
        self._done.append(item.key)
        if len(self._done) >= self._batch:
            self.flush()

    def flush(self) -> None:
        """Move every collected message to Processed now (one command per batch)."""
        keys, self._done = self._done, []
        if not keys:
            return
        try:
            self._source.done_many(keys)
        except SourceError:
            log.exception(
                "%d message(s) from %s on were logged but could not be moved; will move next pass",
                len(keys),
                keys[0],
            )
