"""The injected clock (`App.clock`) stamps every row that is later compared against it.

The clock here is set far from the real time: a row stamped with the wall clock instead would be
months off, so outbox mail would never fall due and purge would keep or drop the wrong mail.
"""

from __future__ import annotations

import dataclasses
import mailbox
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from mailproc.app import App
from mailproc.intake import runner as service
from mailproc.outbound import outbox
from mailproc.privacy import retention
from mailproc.store.db import transaction
from mailproc.store.models import Message, OutboxMessage, OutboxRecipient, Quarantined
from tests.support.mail import make_message
from tests.support.workspace import make_workspace

THEN = datetime(2024, 2, 5, 9, 30, tzinfo=UTC)  # long before any real run of these tests


def _at(app: App, when: datetime) -> App:
    return dataclasses.replace(app, clock=lambda: when)


def _workspace(tmp_path: Path) -> App:
    ws = make_workspace(
        tmp_path / "ws",
        intake={"max_message_bytes": 2048},
        outbound={"max_attempts": 1},
        privacy={"retention_days": 30},
    )
    box = mailbox.Maildir(ws.root / "inbox", create=True)
    box.add(make_message(subject="Discharge letters arriving late", message_id="<clock-1@example.nhs.scot>"))
    box.add(make_message(subject="Too big", body="x" * 4000, message_id="<clock-2@example.nhs.scot>"))
    return _at(ws.app(), THEN)


def test_rows_written_by_a_pass_carry_the_clocks_time(tmp_path: Path) -> None:
    app = _workspace(tmp_path)
    service.poll_once(app)
    with app.factory() as session:
        [message] = session.scalars(select(Message)).all()
        [held] = session.scalars(select(Quarantined)).all()
        queued = session.scalars(select(OutboxMessage)).all()
        recipients = session.scalars(select(OutboxRecipient)).all()
    assert message.received_at == THEN
    assert held.created_at == THEN
    assert {row.template for row in queued} == {"acknowledgement", "triage-request"}
    assert {row.created_at for row in queued} == {THEN}
    # Due at the clock's time, so the pass delivered them.
    assert {(row.state, row.sent_at) for row in queued} == {("sent", THEN)}
    assert {r.updated_at for r in recipients} == {THEN}
    app.engine.dispose()


def test_outbox_retry_makes_a_message_due_at_the_clocks_time(tmp_path: Path) -> None:
    app = _workspace(tmp_path)
    service.poll_once(app)
    later = THEN + timedelta(days=2)
    with transaction(app.factory) as session:
        row = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert row is not None
        row.state = "failed"
        retried = outbox.retry(session, row.id, now=later)
        assert (retried.state, retried.next_attempt_at) == ("pending", later)
    assert service.deliver(_at(app, later)).sent == 1
    app.engine.dispose()


def test_purge_decides_by_the_clock(tmp_path: Path) -> None:
    app = _workspace(tmp_path)
    service.poll_once(app)
    within = retention.purge(_at(app, THEN + timedelta(days=29)))
    assert (within.messages, within.quarantined) == (0, 0)
    past = retention.purge(_at(app, THEN + timedelta(days=31)))
    assert (past.messages, past.quarantined) == (1, 1)
    with app.factory() as session:
        assert all(
            m.raw is None and m.purged_at == THEN + timedelta(days=31)
            for m in session.scalars(select(Message))
        )
    app.engine.dispose()
