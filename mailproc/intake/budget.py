"""A wall-clock budget for one message (`intake.message_budget_seconds`).

Why an alarm signal rather than a worker process: the work to bound is parsing, reply
trimming and identifier detection, pure Python (the `email` package) and the C regex engine,
which checks for signals every few thousand steps; a signal handler interrupts both in
place. A worker process would need the settings and a database connection of its own per
message, and a second transaction whose commit must then be coordinated with ours. `poll`
and `watch` run in the main thread, where Python delivers signals (`watch` handles SIGTERM
the same way). Elsewhere (another thread, a platform without SIGALRM) the budget cannot be
kept, and that is logged once rather than silently ignored.

`BudgetExceeded` is a BaseException on purpose: the parsers fall back from one library to
the other on any `Exception`, which would swallow an ordinary exception raised inside them.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger(__name__)
_warned: list[bool] = []


class BudgetExceeded(BaseException):
    """The message took longer than its budget; its work so far is rolled back."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"processing took longer than {seconds:g} seconds (intake.message_budget_seconds)")
        self.seconds = seconds


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def message_budget(seconds: float) -> Iterator[None]:
    """Raise `BudgetExceeded` inside the block once `seconds` of wall-clock time have passed."""
    if seconds <= 0 or not _can_alarm():
        if seconds > 0 and not _warned:
            _warned.append(True)
            log.warning("the per-message time budget is not enforced outside the main thread")
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise BudgetExceeded(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
