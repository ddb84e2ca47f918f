"""UNDO never overwrites a later change, and never reopens an issue whose outcome has gone out.

Commands go through `apply_commands` (what command emails and `mailproc triage` run) on a real
SQLite database; submissions and replies come in through the real Maildir intake, and the outbox
is delivered by the real Maildir transport.
"""

from __future__ import annotations

import dataclasses
import itertools
import mailbox
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mailproc.app import App
from mailproc.errors import MailprocError
from mailproc.intake import runner as service
from mailproc.outbound import delivery, outbox
from mailproc.store.db import transaction
from mailproc.store.models import Issue, OutboxMessage
from mailproc.triage.apply import Actor, Applied, TriageRefused, apply_commands
from mailproc.triage.commands import vocabulary
from mailproc.triage.grammar import parse_cli
from tests.support.mail import ADMIN, make_message
from tests.support.workspace import Workspace, make_workspace

LEAD = "lead@example.nhs.scot"
SUBMITTER = "clinician1@practice.example.nhs.scot"
START = datetime(2026, 3, 3, 14, 5, tzinfo=UTC)  # GMT in March: the group's clock shows 14:05


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)


@dataclasses.dataclass
class Desk:
    ws: Workspace
    app: App
    clock: Clock
    ref: str = ""

    def submit(self, n: int = 1) -> str:
        raw = make_message(
            from_=f"Dr Clinician <{SUBMITTER}>",
            subject=f"Repeat prescriptions after discharge, case {n}",
            message_id=f"<undo-{n}@practice.example.nhs.scot>",
        )
        mailbox.Maildir(self.ws.root / "inbox", create=True).add(raw)
        service.poll_once(self.app)
        with self.app.factory() as session:
            self.ref = session.scalars(select(Issue.reference).order_by(Issue.id.desc())).first() or ""
        return self.ref

    def reply_from_submitter(self, text: str) -> None:
        raw = make_message(
            from_=f"Dr Clinician <{SUBMITTER}>", subject=f"Re: [{self.ref}] Repeat prescriptions", body=text
        )
        mailbox.Maildir(self.ws.root / "inbox", create=True).add(raw)
        self.clock.tick()
        service.poll_once(self.app)

    def command(self, actor: str, *words: str) -> list[Applied]:
        """One command, as `mailproc triage REF WORDS…` by `actor` would apply it."""
        self.clock.tick()
        with transaction(self.app.factory) as session:
            issue = session.scalars(select(Issue).where(Issue.reference == self.ref)).one()
            cmd = parse_cli(list(words), vocabulary(self.app), self.app.today())
            via = f"cli:{next(_calls)}"
            return apply_commands(self.app, session, issue, [cmd], Actor(actor, via))

    def refused(self, actor: str, *words: str) -> str:
        with pytest.raises(TriageRefused) as caught:
            self.command(actor, *words)
        return caught.value.reason

    def state(self) -> dict[str, object]:
        with self.app.factory() as session:
            issue = session.scalars(select(Issue).where(Issue.reference == self.ref)).one()
            return {"status": issue.status, "area": issue.area, "outcome": issue.outcome}

    def outbox(self, template: str) -> list[OutboxMessage]:
        with self.app.factory() as session:
            query = select(OutboxMessage).where(OutboxMessage.template == template)
            return list(session.scalars(query.order_by(OutboxMessage.id)))

    def deliver(self) -> None:
        self.clock.tick()
        service.deliver(self.app)


_calls = itertools.count(1)


@pytest.fixture
def desk(tmp_path: Path, db_url: str) -> Iterator[Desk]:
    """An issue awaiting triage, on SQLite and on PostgreSQL."""
    ws = make_workspace(tmp_path / "ws", db_url=db_url, triage={"admins": [ADMIN, LEAD]})
    clock = Clock(START)
    app = dataclasses.replace(ws.app(), clock=clock)
    made = Desk(ws, app, clock)
    made.submit()
    yield made
    app.engine.dispose()


def test_undo_refuses_to_overwrite_another_admins_later_change(desk: Desk) -> None:
    desk.command(ADMIN, "ACCEPT", "prescribing")
    desk.command(LEAD, "AREA", "discharge")
    reason = desk.refused(ADMIN, "UNDO")
    assert reason == f"cannot undo ACCEPT: area was changed to discharge by {LEAD} at 03 Mar 2026 14:07"
    assert desk.state() == {"status": "accepted", "area": "discharge", "outcome": None}


def test_undo_refuses_when_the_flow_changed_the_status_since(desk: Desk) -> None:
    desk.command(ADMIN, "INFO", "Which ward was it?")
    desk.deliver()
    desk.reply_from_submitter("Ward 5, since January.")
    assert desk.state()["status"] == "awaiting-triage"
    reason = desk.refused(ADMIN, "UNDO")
    assert reason == (
        "cannot undo INFO: status was changed to awaiting-triage by mailproc at 03 Mar 2026 14:08"
        " (submitter replied)"
    )
    assert desk.state()["status"] == "awaiting-triage"


def test_undo_leaves_alone_what_nobody_else_touched(desk: Desk) -> None:
    desk.command(ADMIN, "ACCEPT", "prescribing")
    desk.command(LEAD, "PRIORITY", "high")
    desk.command(ADMIN, "AREA", "discharge")
    desk.command(LEAD, "AREA", "results")
    desk.command(LEAD, "UNDO")  # the lead takes their own change back: no conflict any more
    [undone] = desk.command(ADMIN, "UNDO")
    assert undone.summary.startswith("undid AREA")
    [undone] = desk.command(ADMIN, "UNDO")
    assert undone.summary.startswith("undid ACCEPT")
    assert desk.state() == {"status": "awaiting-triage", "area": None, "outcome": None}


def test_undo_refuses_to_reopen_an_issue_whose_outcome_has_been_sent(desk: Desk) -> None:
    desk.command(ADMIN, "CLOSE", "The ward now sends the list.")
    desk.clock.tick(10)  # past the hold window of the outcome emails
    desk.deliver()
    reason = desk.refused(ADMIN, "UNDO")
    lists = ("gp-subgroup@example.nhs.scot", "cmg@example.nhs.scot", "cmg2@example.nhs.scot")
    # One outcome message per list address (issue 9), so each is named on its own.
    assert reason == "cannot undo CLOSE: " + "; ".join(
        f"the outcome email to {whom} was sent at 03 Mar 2026 14:17" for whom in ("the submitter", *lists)
    )
    assert desk.state()["status"] == "closed"


def test_undo_refuses_once_delivery_of_the_outcome_has_started(desk: Desk) -> None:
    desk.command(ADMIN, "DECLINE", "Out of scope for the group.")
    [declined] = desk.outbox("declined")
    # A delivery worker claims the message (the attempt is counted before it sends a byte).
    lease = timedelta(seconds=desk.app.settings.outbound.claim_lease_seconds)
    claimed = delivery.claim(desk.app.factory, desk.clock(), lease, limit=100)
    assert declined.id in [c.outbox_id for c in claimed]
    reason = desk.refused(ADMIN, "UNDO")
    assert reason == "cannot undo DECLINE: delivery of the declined email to the submitter has started"
    assert desk.state()["status"] == "declined"


def test_undo_cancels_outcome_emails_still_waiting_and_they_are_never_sent(desk: Desk) -> None:
    desk.command(ADMIN, "CLOSE", "The ward now sends the list.")
    queued = desk.outbox("outcome")
    assert len(queued) == 4  # the submitter, and one per list address
    [undone] = desk.command(ADMIN, "UNDO")
    assert undone.summary == "undid CLOSE; 4 email(s) not yet sent were cancelled"
    assert desk.state() == {"status": "awaiting-triage", "area": None, "outcome": None}
    desk.deliver()
    assert [row.state for row in desk.outbox("outcome")] == ["cancelled"] * 4
    sent = list((desk.ws.root / "outbox" / "new").iterdir())
    assert not [p for p in sent if b"The ward now sends the list." in p.read_bytes()]
    listing = desk.ws.cli("outbox", "list").stdout
    assert listing.count(" cancelled ") == 4, listing


def test_a_cancelled_email_cannot_be_retried_into_delivery(desk: Desk) -> None:
    desk.command(ADMIN, "CLOSE", "The ward now sends the list.")
    desk.command(ADMIN, "UNDO")
    first = desk.outbox("outcome")[0]
    with transaction(desk.app.factory) as session, pytest.raises(MailprocError, match="was cancelled"):
        outbox.retry(session, first.id, now=desk.clock())
    assert desk.outbox("outcome")[0].state == "cancelled"


def test_undo_of_a_command_whose_email_went_out_says_so(desk: Desk) -> None:
    desk.command(ADMIN, "INFO", "Which ward was it?")
    desk.deliver()
    [undone] = desk.command(ADMIN, "UNDO")
    assert undone.summary == (
        "undid INFO; the info-request email to the submitter was sent at 03 Mar 2026 14:07"
        " and cannot be recalled"
    )
    assert desk.state()["status"] == "awaiting-triage"


def test_undo_cancels_an_outcome_email_that_failed_before_anyone_got_it(desk: Desk) -> None:
    desk.command(ADMIN, "CLOSE", "The ward now sends the list.")
    to_lists = desk.outbox("outcome")[1]
    with transaction(desk.app.factory) as session:  # the list address refused it, for good
        row = session.get_one(OutboxMessage, to_lists.id)
        row.state, row.attempts = "failed", 1
        for rcpt in row.recipients:
            rcpt.state = "failed"
    [undone] = desk.command(ADMIN, "UNDO")
    assert undone.summary == "undid CLOSE; 4 email(s) not yet sent were cancelled"
    assert [row.state for row in desk.outbox("outcome")] == ["cancelled"] * 4
