"""CPU time of one call, for the linear-time checks: other processes on a busy machine (or
another pytest worker) do not count, and a run past its limit is stopped, so that a quadratic
pattern on a megabyte fails in seconds instead of running for half an hour."""

from __future__ import annotations

import gc
import signal
import time
from collections.abc import Callable


class TooSlow(Exception):
    """A timed call ran past its CPU-time limit."""


def best_cpu_time(fn: Callable[[str], object], text: str, runs: int, limit: float) -> float:
    """The fastest of `runs` calls of `fn(text)`, in CPU seconds of this process; raises
    TooSlow when one call uses more than `limit` CPU seconds."""

    def stop(signum: int, frame: object) -> None:
        raise TooSlow

    best = float("inf")
    previous = signal.signal(signal.SIGPROF, stop)
    gc.disable()
    try:
        for _ in range(runs):
            start = time.process_time()
            signal.setitimer(signal.ITIMER_PROF, limit)
            try:
                fn(text)
            finally:
                signal.setitimer(signal.ITIMER_PROF, 0)
            best = min(best, time.process_time() - start)
    finally:
        gc.enable()
        signal.signal(signal.SIGPROF, previous)
    return best
