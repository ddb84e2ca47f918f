"""`mailproc remind`: overdue delegations are chased weekly; admins get a daily digest."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from mailproc.governance import reminders
from mailproc.intake import runner as service
from mailproc.store.models import Event, Issue, OutboxMessage
from tests.support.mail import ADMIN, varied_message
from tests.support.workspace import make_workspace, triage


def test_overdue_delegation_and_waiting_digest(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    app = ws.app()
    ws.receive(*(varied_message(i) for i in range(3)))
    service.poll_once(app)
    due = (app.clock() + timedelta(days=5)).date().isoformat()
    with app.factory() as session:
        first = session.scalars(select(Issue.reference).order_by(Issue.id)).first()
    assert first is not None
    triage(app, first, f"DELEGATE prescribing by {due}")
    assert reminders.remind(app) == reminders.ReminderReport(delegations=0, waiting=0)

    later = dataclasses.replace(app, clock=lambda: app.clock() + timedelta(days=6))
    assert reminders.remind(later) == reminders.ReminderReport(delegations=1, waiting=2)
    assert reminders.remind(later) == reminders.ReminderReport(delegations=0, waiting=2)  # not again
    with app.factory() as session:
        sent = [
            (o.template, [r.address for r in o.recipients]) for o in session.scalars(select(OutboxMessage))
        ]
        actions = [e.action for e in session.scalars(select(Event))]
    assert sent.count(("delegation-reminder", ["prescribing.lead@example.nhs.scot"])) == 1
    assert sent.count(("triage-reminder", [ADMIN])) == 1  # one digest a day, however often it runs
    assert actions.count("reminded") == 1

    week_later = dataclasses.replace(app, clock=lambda: app.clock() + timedelta(days=14))
    assert reminders.remind(week_later).delegations == 1
    assert "overdue delegation" in ws.cli("remind").stdout
