"""Submitters hear progress (issue 9): ACCEPT, MEETING and DELEGATE each tell the submitter
briefly what is happening, one email per change, through the send gate; nothing goes to a
sender whose address could not be trusted."""

from __future__ import annotations

import email
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from mailproc.app import App
from mailproc.intake import runner as service
from mailproc.outbound import outbox
from mailproc.store.models import Issue, OutboxMessage
from tests.support.mail import make_message, read_email
from tests.support.workspace import make_workspace, triage

SUBMITTER = "dr.who@practice.example.nhs.scot"


def _issue(tmp_path: Path, sender: str) -> tuple[App, str]:
    ws = make_workspace(tmp_path / "ws")
    app = ws.app()
    ws.receive(make_message(from_=sender, subject="Insulin <b>doses</b>"))
    service.poll_once(app)
    with app.factory() as session:
        return app, session.scalars(select(Issue)).one().reference


def _progress(app: App) -> list[email.message.EmailMessage]:
    with app.factory() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "progress").order_by(OutboxMessage.id)
        )
        found = [(outbox.message_bytes(r) or b"", [x.address for x in r.recipients]) for r in rows]
    assert all(to == [SUBMITTER] for _, to in found)
    return [read_email(raw) for raw, _ in found]


def _text(message: email.message.EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def test_accept_meeting_and_delegate_each_tell_the_submitter_once(tmp_path: Path) -> None:
    app, ref = _issue(tmp_path, f"Dr Who <{SUBMITTER}>")
    meeting, due = app.today() + timedelta(days=30), app.today() + timedelta(days=60)
    triage(app, ref, "ACCEPT prescribing")
    triage(app, ref, f"MEETING {meeting.isoformat()}")
    triage(app, ref, f"DELEGATE prescribing by {due.isoformat()}")
    accepted, scheduled, delegated = _progress(app)
    assert f"[{ref}]" in str(accepted["Subject"]) and "accepted" in _text(accepted)
    assert f"{meeting.day} {meeting:%B %Y}" in _text(scheduled)
    assert "Prescribing Operational Group" in _text(delegated) and f"{due.day} {due:%B %Y}" in _text(
        delegated
    )
    html = delegated.get_body(("html",))
    assert html is not None and "&lt;b&gt;doses&lt;/b&gt;" in str(html.get_content())  # type: ignore[attr-defined]
    for message in (accepted, scheduled, delegated):
        assert str(message["To"]) == SUBMITTER


def test_an_untrusted_sender_hears_nothing(tmp_path: Path) -> None:
    app, ref = _issue(tmp_path, f"{SUBMITTER}, other@example.org")
    triage(app, ref, "ACCEPT prescribing")
    triage(app, ref, "DELEGATE prescribing")
    assert _progress(app) == []
