"""The main jobs as functions: one poll pass with delivery, delivery alone, watching."""

from __future__ import annotations

from mailproc import outbox
from mailproc.app import App
from mailproc.outbox import DeliveryReport
from mailproc.poller import PassSummary, run_pass
from mailproc.sources import Source
from mailproc.sources.factory import open_source
from mailproc.store import DbCursorStore
from mailproc.transports import make_transport
from mailproc.watcher import Watcher


def connect(app: App) -> Source:
    """Open the configured mailbox (creating its Processed and Quarantine folders)."""
    source = open_source(app.settings.intake, DbCursorStore(app.factory))
    source.open()
    return source


def deliver(app: App) -> DeliveryReport:
    """Send every outbox message that is due."""
    s = app.settings
    transport = make_transport(s.outbound)
    return outbox.deliver_due(app.factory, transport, s.outbound, s.group.address, now=app.clock)


def poll_once(app: App, show_progress: bool = True) -> tuple[PassSummary, DeliveryReport]:
    """One pass over the mailbox, then delivery of what it queued."""
    source = connect(app)
    try:
        summary = run_pass(app, source, show_progress=show_progress)
    finally:
        source.close()
    return summary, deliver(app)


def watch(app: App, max_passes: int | None = None) -> int:
    """Process mail as it arrives until SIGTERM/SIGINT; returns the number of passes."""
    return Watcher(app, lambda: connect(app), lambda: _deliver_quietly(app)).run(max_passes)


def _deliver_quietly(app: App) -> None:
    deliver(app)
