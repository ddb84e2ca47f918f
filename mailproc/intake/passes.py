"""Passes over the mailbox: each message through the pipeline, then moved at the source."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from mailproc.app import App
from mailproc.cli.progress import Progress
from mailproc.errors import SourceError
from mailproc.intake import flow as pipeline
from mailproc.intake.flow import Outcome
from mailproc.intake.sources import Source, SourceMessage
from mailproc.store import attempts, messages
from mailproc.store.db import transaction

log = logging.getLogger(__name__)
DELIVER_EVERY_SECONDS = 30.0


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


_FIELD = {
    "new": "new", "reply": "replies", "command": "commands", "ignored": "ignored",
    "quarantined": "quarantined", "duplicate": "duplicates", "already": "duplicates",
}  # fmt: skip


def run_pass(
    app: App, source: Source, show_progress: bool = True, every_while: Callable[[], object] | None = None
) -> PassSummary:
    """Process every message waiting at the source once.

    `every_while` runs every DELIVER_EVERY_SECONDS during a long pass (delivery), so that on
    a first poll of a large mailbox the first acknowledgements do not wait for the last message.
    """
    counts: Counter[str] = Counter()
    total = source.count_pending()
    last = time.monotonic()
    with Progress(total, "Processing mail", enabled=show_progress) as progress:
        for item in source.pending():
            outcome = process_safely(app, item)
            if outcome is None:
                counts["failed"] += 1
            else:
                counts[_FIELD[outcome.result]] += 1
                move(source, item, outcome)
            progress.step()
            if every_while is not None and time.monotonic() - last >= DELIVER_EVERY_SECONDS:
                every_while()
                last = time.monotonic()
    return PassSummary(**counts)


def process_safely(app: App, item: SourceMessage) -> Outcome | None:
    """Run the pipeline in one transaction; None when it failed and should be retried.

    The attempt is counted (and committed) before the try, so a message that kills the
    process is counted too; past `max_attempts` it is quarantined with the last error.
    """
    tries = attempts.bump_attempt(app.factory, item.key, app.clock())
    limit = app.settings.intake.max_attempts
    if tries > limit:
        return _give_up(app, item, tries - 1)
    try:
        with transaction(app.factory) as session:
            outcome = pipeline.process(app, session, item)
            attempts.clear_attempts(session, item.key)  # in the same commit as the outcome
            return outcome
    except IntegrityError:
        # Another poller logged the same message first: its row decides the fate.
        with app.factory() as session:
            fate = messages.logged_fate(session, item.key)
        if fate is not None:
            return Outcome(fate="done" if fate == "done" else "quarantine", result="already")
        log.exception("message %s: database conflict; will retry", item.key)
        attempts.record_failure(app.factory, item.key, "database conflict")
    except Exception as exc:  # one bad message must never stop the messages behind it
        log.exception("message %s: processing failed (attempt %d of %d)", item.key, tries, limit)
        attempts.record_failure(app.factory, item.key, f"{type(exc).__name__}: {exc}")
    return None


def _give_up(app: App, item: SourceMessage, tries: int) -> Outcome:
    with transaction(app.factory) as session:
        last = attempts.last_failure(session, item.key)
        reason = f"processing failed {tries} times; last error: {last}"
        messages.quarantine_record(session, item.key, item.raw, reason, item.size, now=app.clock())
        attempts.clear_attempts(session, item.key)
    log.error("message %s quarantined: %s", item.key, reason)
    return Outcome(fate="quarantine", result="quarantined", reason=reason)


def move(source: Source, item: SourceMessage, outcome: Outcome) -> None:
    """Mark the message done at the source; a failure here is repaired on the next pass."""
    try:
        if outcome.fate == "quarantine":
            source.quarantine(item.key, outcome.reason)
        else:
            source.done(item.key)
    except SourceError:
        log.exception("message %s was logged but could not be moved; will move next pass", item.key)
