"""Progress for long work: a bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import click

log = logging.getLogger(__name__)
LOG_EVERY_SECONDS = 30.0


class Progress:
    """Counts steps of a known total; shows a click progress bar when stderr is a terminal."""

    def __init__(self, total: int, label: str, enabled: bool = True) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self.started = time.monotonic()
        self.last_log = self.started
        interactive = enabled and sys.stderr.isatty() and total > 1
        self.bar: Any = click.progressbar(length=total, label=label, file=sys.stderr) if interactive else None

    def __enter__(self) -> Progress:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, exc, tb)

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.monotonic()
        if now - self.last_log >= LOG_EVERY_SECONDS:
            self.last_log = now
            rate = self.done / max(now - self.started, 1e-6)
            log.info("%s: %d of %d (%.1f/s)", self.label, self.done, self.total, rate)


@contextmanager
def reporting(label: str, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A (done, total) callback for core code, which knows nothing of terminals or click."""
    shown: list[Progress] = []

    def report(done: int, total: int) -> None:
        if not shown:
            shown.append(Progress(total, label, enabled).__enter__())
        bar = shown[0]
        bar.step(done - bar.done)

    try:
        yield report
    finally:
        if shown:
            shown[0].__exit__(None, None, None)
