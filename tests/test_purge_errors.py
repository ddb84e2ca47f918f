"""Purge redacts the error texts it keeps, not only the mail: an identifier typed into a bad
command is echoed in the error, and the error is stored in several places."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import mailbox
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from mailproc.app import App
from mailproc.intake import runner as service
from mailproc.outbound import outbox
from mailproc.privacy import retention
from mailproc.store import attempts, messages
from mailproc.store.db import transaction
from mailproc.store.issues import add_event
from mailproc.store.models import Event, Issue, Message, OutboxMessage, Quarantined, SourceAttempt
from tests.support.mail import ADMIN, make_message
from tests.support.pid_samples import CHI
from tests.support.workspace import make_workspace


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _command_with_a_chi(app: App, inbox: mailbox.Maildir) -> None:
    """The administrator replies to the triage request with the CHI where the area goes."""
    with app.factory() as session:
        query = select(OutboxMessage).where(OutboxMessage.template == "triage-request")
        sent = outbox.message_bytes(session.scalars(query).one()) or b""
        request = email.message_from_bytes(sent, policy=email.policy.default)
    mid = str(request["Message-ID"])
    inbox.add(
        make_message(
            from_=f"Jane Admin <{ADMIN}>", subject=f"Re: {request['Subject']}", body=f"ACCEPT {CHI}\n",
            in_reply_to=mid, references=[mid], message_id="<bad-command@example.nhs.scot>",
        )
    )  # fmt: skip
    service.poll_once(app)


def _errors_elsewhere(app: App) -> None:
    """The other places an error text is kept, written as the code that keeps them writes them."""
    now = app.clock()
    attempts.bump_attempt(app.factory, "maildir:stuck", now)
    attempts.record_failure(app.factory, "maildir:stuck", f"ValueError: no patient {CHI}")
    with transaction(app.factory) as session:
        issue = session.scalars(select(Issue)).one()
        add_event(session, issue, ADMIN, "<x@example.nhs.scot>", "command-rejected", now,
                  reason=f"token refused for {CHI}")  # fmt: skip
        messages.quarantine_record(
            session, "maildir:bad", b"Subject: x\r\n\r\n", f"unparsable {CHI}", 16, now=now
        )
        ack = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "acknowledgement")).one()
        ack.last_error = f"{issue.submitter_email}: 550 no mailbox for patient {CHI}"


def _stored_texts(app: App) -> dict[str, list[str]]:
    with app.factory() as session:
        return {
            "events": [json.dumps(e.detail) for e in session.scalars(select(Event))],
            "message details": [json.dumps(m.detail) for m in session.scalars(select(Message))],
            "attempts": [a.last_error for a in session.scalars(select(SourceAttempt))],
            "outbox": [o.last_error for o in session.scalars(select(OutboxMessage))],
            "quarantine": [q.reason for q in session.scalars(select(Quarantined))],
        }


def test_purge_redacts_command_errors_and_every_stored_error_text(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", privacy={"retention_days": 30})
    app = ws.app()
    inbox = mailbox.Maildir(ws.root / "inbox", create=True)
    inbox.add(make_message(subject="Discharge letters arriving late", message_id="<first@example.nhs.scot>"))
    service.poll_once(app)
    _command_with_a_chi(app, inbox)
    _errors_elsewhere(app)
    before = _stored_texts(app)
    for place, texts in before.items():
        assert any(CHI in text for text in texts), f"no CHI in {place} to start with"

    later = dataclasses.replace(app, clock=lambda: app.clock() + timedelta(days=31))
    retention.purge(later)

    for place, texts in _stored_texts(app).items():
        assert not [t for t in texts if CHI in _digits(t)], f"CHI left in {place}: {texts}"
    with app.factory() as session:
        error = session.scalars(select(Event).where(Event.action == "command-error")).one()
    assert str(error.detail["error"]).startswith('Line 1 ("ACCEPT [CHI removed]"): ACCEPT "[CHI removed]"')
    app.engine.dispose()
