"""The per-message budget itself: it interrupts the regex engine and pure Python in place,
restores what it replaced, and says so when it cannot be kept (outside the main thread)."""

from __future__ import annotations

import logging
import re
import signal
import threading
import time

import pytest

from mailproc.intake import budget
from mailproc.intake.budget import BudgetExceeded, message_budget

CATASTROPHIC = re.compile(r"(a+)+$")  # exponential on "aaa…a!": never ends in practice


def test_a_runaway_regex_is_interrupted() -> None:
    start = time.monotonic()
    with pytest.raises(BudgetExceeded, match=r"longer than 0\.3 seconds"), message_budget(0.3):
        CATASTROPHIC.match("a" * 60 + "!")
    assert time.monotonic() - start < 30  # stopped, not run to its end (centuries)


def test_it_is_not_an_exception_that_a_parser_fallback_could_swallow() -> None:
    caught: list[str] = []
    with pytest.raises(BudgetExceeded), message_budget(0.2):
        try:
            while True:
                pass
        except Exception:  # what the parsers' fallbacks catch
            caught.append("swallowed")
    assert caught == []


def test_a_quick_block_is_untouched_and_the_old_handler_restored() -> None:
    def mine(signum: int, frame: object) -> None:
        pass

    previous = signal.signal(signal.SIGALRM, mine)
    try:
        with message_budget(5):
            sum(range(1000))
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert signal.getsignal(signal.SIGALRM) is mine
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_outside_the_main_thread_the_budget_is_not_kept_and_that_is_logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budget, "_warned", [])  # the warning is once per process
    done: list[bool] = []

    def work() -> None:
        with message_budget(0.1):
            time.sleep(0.3)
        done.append(True)

    with caplog.at_level(logging.WARNING, logger="mailproc.intake.budget"):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert done == [True]
    assert "not enforced outside the main thread" in caplog.text
