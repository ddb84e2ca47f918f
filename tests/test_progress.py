"""Submitters hear progress (issue 9): ACCEPT, MEETING and DELEGATE each tell the submitter
briefly what is happening, one email per change, through the send gate; nothing goes to a
sender whose address could not be trusted."""

from __future__ import annotations

import email
import mailbox
from datetime import timedelta
from email import policy
from pathlib import Path

from sqlalchemy import select

from mailproc.app import App
from mailproc.intake import runner as service
from mailproc.store.models import Issue, OutboxMessage
from mailproc.triage.apply import Actor, apply_commands
from mailproc.triage.commands import vocabulary
from mailproc.triage.grammar import parse_cli
from tests.support.mail import make_message
from tests.support.workspace import ADMIN, make_workspace

SUBMITTER = "dr.who@practice.example.nhs.scot"


def _issue(tmp_path: Path, sender: str) -> tuple[App, str]:
    ws = make_workspace(tmp_path / "ws")
    app = ws.app()
    mailbox.Maildir(ws.root / "inbox", create=True).add(
        make_message(from_=sender, subject="Insulin <b>doses</b>")
    )
    service.poll_once(app)
    with app.factory() as session:
        return app, session.scalars(select(Issue)).one().reference


def _command(app: App, reference: str, *words: str) -> None:
    with app.factory() as session, session.begin():
        issue = session.scalars(select(Issue).where(Issue.reference == reference)).one()
        cmd = parse_cli(list(words), vocabulary(app), app.today())
        apply_commands(app, session, issue, [cmd], Actor(ADMIN, f"cli:{'-'.join(words)}"))


def _progress(app: App) -> list[email.message.EmailMessage]:
    with app.factory() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "progress").order_by(OutboxMessage.id)
        )
        found = [(r.raw or b"", [x.address for x in r.recipients]) for r in rows]
    assert all(to == [SUBMITTER] for _, to in found)
    return [email.message_from_bytes(raw, policy=policy.default) for raw, _ in found]  # type: ignore[misc]


def _text(message: email.message.EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def test_accept_meeting_and_delegate_each_tell_the_submitter_once(tmp_path: Path) -> None:
    app, ref = _issue(tmp_path, f"Dr Who <{SUBMITTER}>")
    meeting, due = app.today() + timedelta(days=30), app.today() + timedelta(days=60)
    _command(app, ref, "ACCEPT", "prescribing")
    _command(app, ref, "MEETING", meeting.isoformat())
    _command(app, ref, "DELEGATE", "prescribing", "by", due.isoformat())
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
    _command(app, ref, "ACCEPT", "prescribing")
    _command(app, ref, "DELEGATE", "prescribing")
    assert _progress(app) == []
