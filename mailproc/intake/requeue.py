"""`mailproc quarantine retry`: run a quarantined message through the flow again."""

from __future__ import annotations

from mailproc.app import App
from mailproc.errors import MailprocError
from mailproc.intake import flow
from mailproc.intake.flow import LIVE, Outcome
from mailproc.intake.sources import SourceMessage
from mailproc.store.db import transaction
from mailproc.store.models import Quarantined
from mailproc.vocabulary import QuarantineState


def retry(app: App, quarantine_id: int) -> Outcome:
    """Process the stored copy again (the original stays in the Quarantine folder)."""
    with transaction(app.factory) as session:
        row = session.get(Quarantined, quarantine_id)
        if row is None:
            raise MailprocError(f"no quarantined message {quarantine_id}; see `mailproc quarantine list`")
        if row.status != QuarantineState.HELD:
            raise MailprocError(f"quarantined message {quarantine_id} was already retried")
        if row.raw is None or len(row.raw) < row.raw_size:
            raise MailprocError(
                f"quarantined message {quarantine_id} was too large to download ({row.raw_size} bytes); "
                "raise intake.max_message_bytes and move it from the Quarantine folder back to the inbox"
            )
        row.status = QuarantineState.RETRIED
        row.resolved_at = app.clock()
        item = SourceMessage(key=f"retry:{row.id}:{row.source_key}"[:255], raw=row.raw, size=row.raw_size)
        return flow.route(app, session, item, LIVE)
