"""Passes over the mailbox: every waiting message through the flow, delivering as it goes."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from mailproc.app import App
from mailproc.intake.chunks import chunks, handle_chunk
from mailproc.intake.flow import LIVE, PassOptions
from mailproc.intake.moves import Mover
from mailproc.intake.sources import Source

log = logging.getLogger(__name__)
DELIVER_EVERY_SECONDS = 30.0

ProgressFn = Callable[[int, int], None]  # (done, total), after each message


@dataclass(frozen=True)
class PassSummary:
    new: int = 0
    replies: int = 0
    commands: int = 0
    ignored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    failed: int = 0

    def line(self) -> str:
        return (
            f"{self.new} new issue(s), {self.replies} reply(ies), {self.commands} command(s), "
            f"{self.ignored} ignored, {self.quarantined} quarantined"
            + (f", {self.duplicates} already logged" if self.duplicates else "")
            + (f", {self.failed} failed (will retry)" if self.failed else "")
        )

    @property
    def busy(self) -> bool:
        """Whether the pass did anything worth a log line."""
        return bool(self.new or self.replies or self.commands or self.quarantined)


_FIELD = {
    "new": "new", "reply": "replies", "command": "commands", "ignored": "ignored",
    "quarantined": "quarantined", "duplicate": "duplicates", "already": "duplicates",
}  # fmt: skip


def run_pass(
    app: App,
    source: Source,
    options: PassOptions = LIVE,
    on_progress: ProgressFn | None = None,
    every_while: Callable[[], object] | None = None,
) -> PassSummary:
    """Process every message waiting at the source once.

    `every_while` runs every DELIVER_EVERY_SECONDS during a long pass (delivery), so that on
    a first poll of a large mailbox the first acknowledgements do not wait for the last message.
    A `StorageUnavailable` from the flow ends the pass: the messages behind it wait untouched.
    Messages go through the flow in chunks of `intake.batch_size` (intake/chunks.py); committed
    messages are moved out in batches, and always before the pass returns or raises.
    """
    counts: Counter[str] = Counter()
    total = source.count_pending()
    last = time.monotonic()
    mover = Mover(source)
    done = 0
    try:
        for chunk in chunks(source.pending(), app.settings.intake.batch_size):
            for item, outcome in handle_chunk(app, chunk, options):
                if outcome is not None:
                    mover.settle(item, outcome)
                counts["failed" if outcome is None else _FIELD[outcome.result]] += 1
                done += 1
                if on_progress is not None:
                    on_progress(done, max(total, done))
            if every_while is not None and time.monotonic() - last >= DELIVER_EVERY_SECONDS:
                mover.flush()
                every_while()
                last = time.monotonic()
    finally:
        mover.flush()
    return PassSummary(**counts)
