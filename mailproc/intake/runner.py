"""The main jobs as functions: one poll pass with delivery, delivery alone, watching."""

from __future__ import annotations

import time

from mailproc.app import App
from mailproc.intake.flow import LIVE, PassOptions
from mailproc.intake.passes import PassSummary, ProgressFn, run_pass
from mailproc.intake.sources import Source
from mailproc.intake.sources.factory import open_source
from mailproc.intake.watch import Watcher
from mailproc.outbound import outbox
from mailproc.outbound.outbox import DeliveryReport
from mailproc.outbound.transports import make_transport
from mailproc.store.cursors import DbCursorStore
from mailproc.store.instance_lock import mailbox_held


def connect(app: App) -> Source:
    """Open the configured mailbox (creating its Processed and Quarantine folders).

    `open_source` has logged in already: one login per connection, not two.
    """
    return open_source(app.settings.intake, DbCursorStore(app.factory))


# Messages per delivery call: one SMTP session each (claimed 100 to a transaction), so that
# a long outbox costs a connection and a login per thousand messages, not per hundred.
BATCH = 1000
DELIVERY_BUDGET_SECONDS = 300.0  # at the end of `poll`, which has nothing else to do
# Delivery between stretches of intake (during a long poll pass, and in watch): no longer
# than this, so that new mail is never kept waiting by a long outbox.
DELIVER_BETWEEN_SECONDS = 10.0


def deliver(app: App, budget: float = DELIVERY_BUDGET_SECONDS) -> DeliveryReport:
    """Send every outbox message that is due, batch by batch, starting none after `budget`
    seconds; what is left goes next time (the report says `unfinished`)."""
    s = app.settings
    transport = make_transport(s.outbound)
    total = DeliveryReport(sent=0, retrying=0, failed=0)
    deadline = time.monotonic() + budget
    while True:
        batch = outbox.deliver_due(
            app.factory, transport, s.outbound, s.group.address, app.clock, BATCH, deadline
        )
        total = _added([total, batch])
        # A short batch means nothing more is due, the transport is down, or time is up.
        if batch.sent + batch.retrying + batch.failed < BATCH or batch.unfinished:
            return total


def poll_once(
    app: App, options: PassOptions = LIVE, on_progress: ProgressFn | None = None, *, send: bool = True
) -> tuple[PassSummary, DeliveryReport]:
    """One pass over the mailbox, delivering as it goes and at the end.

    `send=False` (`poll --no-send`) ingests only: outgoing mail is queued in the outbox as
    always, and waits there for the next `send`, `poll` or `watch`."""
    reports: list[DeliveryReport] = []

    def meanwhile() -> None:
        reports.append(deliver(app, DELIVER_BETWEEN_SECONDS))

    source = connect(app)
    try:
        with mailbox_held(app.engine, source.name, time.sleep):  # one instance's pass at a time
            summary = run_pass(app, source, options, on_progress, every_while=meanwhile if send else None)
    finally:
        source.close()
    if send:
        reports.append(deliver(app))
    return summary, _added(reports)


def _added(reports: list[DeliveryReport]) -> DeliveryReport:
    return DeliveryReport(
        sent=sum(r.sent for r in reports),
        retrying=sum(r.retrying for r in reports),
        failed=sum(r.failed for r in reports),
        unfinished=reports[-1].unfinished if reports else False,
    )


def watch(app: App, max_passes: int | None = None) -> int:
    """Process mail as it arrives until SIGTERM/SIGINT; returns the number of passes.

    Delivery between passes is bounded like poll's, so new mail waits for it no longer."""
    return Watcher(app, lambda: connect(app), lambda: deliver(app, DELIVER_BETWEEN_SECONDS)).run(max_passes)
