"""`mailproc watch`: pass, deliver, wait for mail (IDLE or poll), reconnect with backoff."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType

from sqlalchemy.exc import OperationalError

from mailproc.app import App
from mailproc.errors import SourceError, StorageUnavailable
from mailproc.intake.passes import run_pass
from mailproc.intake.sources import Source
from mailproc.intake.sources.base import IDLE_RENEW_SECONDS
from mailproc.outbound.outbox import DeliveryReport
from mailproc.store.instance_lock import mailbox_held

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 300


class _Stop(BaseException):
    """Raised from the signal handler to end a wait; a BaseException so that no
    `except Exception` on the way (network error wrappers) can swallow it."""


class Watcher:
    """Runs until SIGTERM or SIGINT; a signal during a pass lets that pass finish."""

    def __init__(
        self, app: App, open_source: Callable[[], Source], deliver: Callable[[], DeliveryReport]
    ) -> None:
        """`deliver` sends what is due for a bounded time and says whether more is left."""
        self.app = app
        self.open_source = open_source
        self.deliver = deliver
        self.stopping = False
        self.waiting = False

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; stopping after the current step", signal.Signals(signum).name)
        self.stopping = True
        if self.waiting:
            raise _Stop  # only interrupts a wait, never a message half-way through

    def run(self, max_passes: int | None = None) -> int:
        """Loop until stopped; returns the number of passes made."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        passes, failures = 0, 0
        try:
            while not self.stopping and (max_passes is None or passes < max_passes):
                try:
                    passes += self._session(max_passes, passes)
                    failures = 0
                except (SourceError, StorageUnavailable, OperationalError) as exc:  # mailbox or database away
                    failures += 1
                    delay = min(MAX_BACKOFF_SECONDS, 2 ** min(failures, 9))
                    what = "mailbox" if isinstance(exc, SourceError) else "database"
                    log.warning("%s unavailable (%s); reconnecting in %d s", what, exc, delay)
                    self._sleep(delay)
        except _Stop:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("watch stopped after %d pass(es)", passes)
        return passes

    def _session(self, max_passes: int | None, done: int) -> int:
        """One connection: passes until stopped or the connection fails."""
        source = self.open_source()
        passes = 0
        try:
            while not self.stopping and (max_passes is None or done + passes < max_passes):
                # Another instance on this mailbox and database makes this one wait its turn.
                with mailbox_held(self.app.engine, source.name, self._sleep):
                    summary = run_pass(self.app, source, every_while=self.deliver)
                passes += 1
                if summary.new or summary.replies or summary.commands or summary.quarantined:
                    log.info("pass: %s", summary.line())
                more = self.deliver().unfinished
                if max_passes is not None and done + passes >= max_passes:
                    break
                if not more:  # else straight on: a short look for mail, then more delivery
                    self._wait(source)
        finally:
            try:
                source.close()
            except SourceError:
                log.debug("error while closing the mailbox", exc_info=True)
        return passes

    def _wait(self, source: Source) -> None:
        settings = self.app.settings.intake
        # With IDLE, new mail ends the wait at once; the timeout only renews IDLE (and
        # catches mail a server failed to announce), so poll_interval serves both.
        timeout = settings.imap.poll_interval if settings.imap and settings.source == "imap" else 10
        self.waiting = True
        try:
            if self.stopping:
                raise _Stop
            source.wait(float(max(timeout, 1) if timeout < IDLE_RENEW_SECONDS else IDLE_RENEW_SECONDS))
        finally:
            self.waiting = False

    def _sleep(self, seconds: float) -> None:
        self.waiting = True
        try:
            if self.stopping:
                raise _Stop
            time.sleep(seconds)
        finally:
            self.waiting = False
