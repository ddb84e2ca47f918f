"""The send gate says why an email was not queued, and the flow records that reason."""

from __future__ import annotations

import dataclasses
import mailbox
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mailproc.app import App
from mailproc.governance import reminders
from mailproc.intake import flow
from mailproc.intake import runner as service
from mailproc.intake.classify import Classification, Kind
from mailproc.intake.parsing.parser import parse
from mailproc.intake.sources import SourceMessage
from mailproc.outbound import catalogue, gate
from mailproc.outbound.catalogue import Email, GroupView
from mailproc.store.db import transaction
from mailproc.store.models import Event, Issue, OutboxMessage
from mailproc.triage.apply import Actor, apply_commands
from mailproc.triage.commands import vocabulary
from mailproc.triage.grammar import parse_cli
from tests.support.mail import ADMIN, GROUP, make_message
from tests.support.workspace import make_workspace


def test_ack_to_our_own_address_is_withheld_with_the_real_reason(tmp_path: Path) -> None:
    # Classification keeps mail from the group address away from this path; call the
    # path directly to see what the flow records when the gate finds no one to write to.
    app = make_workspace(tmp_path / "ws").app()
    raw = make_message(from_=f"Interface Group <{GROUP}>", message_id="<own-1@example.nhs.scot>")
    item = SourceMessage(key="maildir:own-1", raw=raw, size=len(raw))
    route = Classification(kind=Kind.NEW, reason="new submission", reference=None, suppress_ack=False)
    with transaction(app.factory) as session:
        flow.new_submission(app, session, item, parse(raw), route, flow.LIVE)
    with transaction(app.factory) as session:
        events = session.scalars(select(Event).where(Event.action == "ack-withheld")).all()
        templates = session.scalars(select(OutboxMessage.template)).all()
    app.engine.dispose()
    assert "acknowledgement" not in templates
    assert [e.detail["reason"] for e in events] == [
        "no recipient left once the group's own address is removed"
    ]


def _email(to: tuple[str, ...], unique: str = "u-1", *, rate_limited: bool = False) -> Email:
    digest = catalogue.triage_digest(
        GroupView("NHS Test Interface Group", GROUP), ADMIN, (), date(2026, 3, 3)
    )
    return dataclasses.replace(digest, to=to, unique=unique, rate_limited=rate_limited)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    ws = make_workspace(tmp_path / "ws", outbound={"auto_per_address_per_day": 1})
    app = ws.app()
    yield app
    app.engine.dispose()


def test_the_gate_says_why_it_queued_nothing(app: App) -> None:
    morag = "morag@example.nhs.scot"
    with transaction(app.factory) as session:
        sent = gate.send(session, app, _email((GROUP.upper(), morag), rate_limited=True))
        row = session.get(OutboxMessage, sent.outbox_id)
        assert row is not None and [r.address for r in row.recipients] == [morag]  # never our own
        results = [
            gate.send(session, app, _email((), "u-4")),
            gate.send(session, app, _email((GROUP.upper(),), "u-2")),
            gate.send(session, app, _email((morag,), "u-3", rate_limited=True)),
            gate.send(session, app, _email((GROUP.upper(), morag))),
        ]
    assert sent.queued and sent.reason == ""
    assert [(r.queued, r.withheld) for r in results] == [
        (False, gate.Withheld.NO_RECIPIENTS),
        (False, gate.Withheld.OWN_ADDRESS),
        (False, gate.Withheld.DAILY_LIMIT),
        (False, gate.Withheld.ALREADY_QUEUED),
    ]
    assert results[2].reason == "daily limit of automatic replies reached for every recipient"


def test_a_reminder_the_gate_withholds_is_recorded_with_its_reason(tmp_path: Path) -> None:
    # A delegation target whose contact is the group's own address: nothing can be sent,
    # so no "reminded" is recorded (it would hold the next reminder back for a week).
    ws = make_workspace(tmp_path / "ws", groups__prescribing={"contact": [GROUP]})
    app = ws.app()
    raw = make_message(message_id="<late-1@example.nhs.scot>")
    box = mailbox.Maildir(ws.root / "inbox", create=True)
    box.add(raw)
    service.poll_once(app)
    with transaction(app.factory) as session:
        issue = session.scalars(select(Issue)).one()
        cmd = parse_cli(["DELEGATE", "prescribing", "by", "2026-01-02"], vocabulary(app), date(2026, 1, 1))
        apply_commands(app, session, issue, [cmd], Actor(ADMIN, "cli:test"))
    later = dataclasses.replace(app, clock=lambda: app.clock() + timedelta(days=400))
    report = reminders.remind(later)
    with transaction(app.factory) as session:
        events = {e.action: e.detail for e in session.scalars(select(Event))}
    app.engine.dispose()
    assert report.delegations == 0
    assert "reminded" not in events
    assert (
        events["reminder-withheld"]["reason"] == "no recipient left once the group's own address is removed"
    )
