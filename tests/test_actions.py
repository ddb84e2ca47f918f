"""The action log (issue 9, must show 4): a DELEGATE is an action with an owner, a due date
and a state; the delegated group's reply, threaded by the delegation email, is recorded as
its response, marks the action answered and stops the overdue reminder."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from mailproc.app import App
from mailproc.governance import reminders
from mailproc.intake import runner as service
from mailproc.outbound import outbox
from mailproc.store.models import Event, Issue, OutboxMessage
from tests.support.mail import make_message, read_email
from tests.support.workspace import Workspace, make_workspace, triage

LEAD = "prescribing.lead@example.nhs.scot"
RESPONSE = "We have audited the ward's discharge process and changed the template."


def _delegated(tmp_path: Path) -> tuple[Workspace, App, list[str]]:
    """A workspace with two issues, both delegated to prescribing, due in five days."""
    ws = make_workspace(tmp_path / "ws")
    app = ws.app()
    ws.receive(
        *(make_message(subject=f"Medication lists missing, ward {n}", body=f"Ward {n}.\n") for n in (1, 2))
    )
    service.poll_once(app)
    due = (app.clock() + timedelta(days=5)).date().isoformat()
    with app.factory() as session:
        refs = list(session.scalars(select(Issue.reference).order_by(Issue.id)))
    for reference in refs:
        triage(app, reference, f"DELEGATE prescribing by {due}")
    return ws, app, refs


def _reply_to_delegation(ws: Workspace, app: App, reference: str, sender: str) -> None:
    """The group's lead answers the delegation email the way a mail client does."""
    with app.factory() as session:
        [row] = session.scalars(
            select(OutboxMessage)
            .join(Issue, Issue.id == OutboxMessage.issue_id)
            .where(Issue.reference == reference, OutboxMessage.template == "delegated")
        ).all()
        sent = read_email(outbox.message_bytes(row) or b"")
    body = f"{RESPONSE}\n\nRegards\n\nOn 3 Mar 2026, the group wrote:\n> The group has delegated..."
    reply = make_message(
        from_=f"Prescribing Lead <{sender}>",
        subject=f"RE: {sent['Subject']}",
        body=body,
        in_reply_to=str(sent["Message-ID"]),
        references=[str(sent["Message-ID"])],
    )
    ws.receive(reply)
    service.poll_once(app)


def _events(app: App, reference: str, action: str) -> list[Event]:
    with app.factory() as session:
        issue = session.scalars(select(Issue).where(Issue.reference == reference)).one()
        return list(session.scalars(select(Event).where(Event.issue_id == issue.id, Event.action == action)))


def test_the_delegated_groups_reply_is_its_response_and_stops_the_overdue_reminder(tmp_path: Path) -> None:
    ws, app, (answered, silent) = _delegated(tmp_path)
    _reply_to_delegation(ws, app, answered, LEAD)

    [response] = _events(app, answered, "group-response")
    assert (response.actor, response.detail["group"]) == (LEAD, "prescribing")
    assert str(response.detail["text"]).startswith(RESPONSE) and "> The group" not in response.detail["text"]
    overdue = dataclasses.replace(app, clock=lambda: app.clock() + timedelta(days=6))
    assert reminders.remind(overdue).delegations == 1  # only the silent one is chased
    assert [e.action for e in _events(app, answered, "reminded")] == []
    assert len(_events(app, silent, "reminded")) == 1

    listing = json.loads(ws.cli("actions", "--json").stdout)
    states = {a["reference"]: a for a in listing}
    assert states[answered]["state"] == "answered" and states[answered]["group"] == "prescribing"
    assert states[answered]["response_date"] == app.today().isoformat()
    assert states[silent]["state"] == "open" and states[silent]["response_date"] is None
    open_only = ws.cli("actions", "--open").stdout
    assert silent in open_only and answered not in open_only


def test_a_reply_from_anyone_else_is_no_response(tmp_path: Path) -> None:
    ws, app, (ref, _) = _delegated(tmp_path)
    _reply_to_delegation(ws, app, ref, "someone.else@example.nhs.scot")
    assert _events(app, ref, "group-response") == []
    assert len(_events(app, ref, "reply")) == 1  # threaded all the same
