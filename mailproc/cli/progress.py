"""Progress for long work: a click bar on a terminal, a log line every 30 s otherwise.

Core functions know nothing of this: they take `on_progress(done, total)` and call it after
each item; the commands hand them a reporter from `reporting()`.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

log = logging.getLogger(__name__)
LOG_EVERY_SECONDS = 30.0


class Reporter:
    """An `on_progress(done, total)` callback; the bar appears on the first call, when the
    total is known (a terminal only, and only for more than one item)."""

    def __init__(self, label: str, interactive: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.interactive = interactive
        self.clock = clock
        self.started = self.last_log = clock()
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.interactive and total > 1:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
                self.bar.__enter__()
            self.bar.update(done - self.bar.pos)
            return
        now = self.clock()
        if now - self.last_log >= LOG_EVERY_SECONDS:
            self.last_log = now
            rate = done / max(now - self.started, 1e-6)
            log.info("%s: %d of %d (%.1f/s)", self.label, done, total, rate)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@contextmanager
def reporting(label: str, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A reporter for one piece of work; the bar (if any) is finished when the block ends."""
    reporter = Reporter(label, interactive=enabled and sys.stderr.isatty())
    try:
        yield reporter
    finally:
        reporter.close()
