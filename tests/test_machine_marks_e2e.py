"""Weakly marked machines through a real poll (issue 11, point 4, must-show 4), and the
daily digest that lists spam-marked mail and a flooding sender's held triage mail."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from mailproc.governance import reminders
from mailproc.intake import runner as service
from mailproc.outbound import outbox
from mailproc.store.models import Event, Issue, Message, OutboxMessage
from mailproc.vocabulary import TRIAGE_HELD_EVENT, MessageKind
from tests.support.machines import human_mail, machine_corpus
from tests.support.mail import make_message, read_email
from tests.support.workspace import Workspace, make_workspace


def _acknowledged(ws: Workspace) -> set[str]:
    app = ws.app()
    with app.factory() as s:
        acks = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "acknowledgement")).all()
        found = {r.address for o in acks for r in o.recipients}
    app.engine.dispose()
    return found


def _digest_text(ws: Workspace) -> str:
    app = ws.app()
    with app.factory() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "triage-reminder")).all()
        raws = [outbox.message_bytes(o) or b"" for o in rows]
    app.engine.dispose()
    assert len(raws) == 1
    body = read_email(raws[0]).get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_machine_corpus_is_logged_and_never_acknowledged(tmp_path: Path) -> None:
    corpus = machine_corpus()
    assert len(corpus) >= 30
    humans = human_mail()
    ws = make_workspace(tmp_path / "ws")
    ws.receive(*corpus.values(), *humans)
    app = ws.app()
    summary, _ = service.poll_once(app)
    assert (summary.new, summary.ignored) == (len(humans), len(corpus)), summary.line()
    with app.factory() as s:
        machine_rows = s.scalars(select(Message).where(Message.kind == MessageKind.AUTOMATIC)).all()
        routes = {row.from_address: str(row.detail["route"]) for row in machine_rows}
        issues = s.scalars(select(Issue.submitter_email)).all()
    app.engine.dispose()
    acked = _acknowledged(ws)
    machine_senders = set(routes)  # every sender has an address of its own
    assert len(machine_senders) == len(corpus)
    assert not acked & machine_senders, sorted(acked & machine_senders)
    assert not set(issues) & machine_senders
    spam_routes = [routes[a] for a in machine_senders if a.startswith("spam.")]
    assert spam_routes and all(r.startswith("spam-marked: ") for r in spam_routes)
    assert acked == {f"human.{i}@example-mail.org" for i in range(len(humans))}


def test_spam_marked_mail_is_listed_in_the_daily_digest(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    spam = make_message(
        from_="pills@spam.example", subject="Cheap medicines", headers=[("X-Spam-Flag", "YES")]
    )
    away = make_message(from_="gp@example.org", subject="AUTO: Dr Smith is out of the office")
    ws.receive(spam, away)
    app = ws.app()
    service.poll_once(app)
    assert reminders.remind(app).listed == 1
    text = _digest_text(ws)
    app.engine.dispose()
    assert "pills@spam.example: Cheap medicines" in text and "spam-marked: X-Spam-Flag" in text
    assert "out of the office" not in text  # only spam is listed, not every machine
    later = dataclasses.replace(app, clock=lambda: app.clock() + timedelta(days=2))
    assert reminders.remind(later).listed == 0  # the last day's only


def test_a_flooding_sender_gets_no_more_triage_mail_than_the_cap(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", triage={"requests_per_sender_per_day": 3})
    flood = [
        make_message(from_="flood@example.org", subject=f"Problem {i}", body=f"Case {i}\n") for i in range(5)
    ]
    other = make_message(from_="calm@example.org", subject="One problem")
    ws.receive(*flood, other)
    app = ws.app()
    summary, _ = service.poll_once(app)
    assert summary.new == 6
    with app.factory() as s:
        requests = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "triage-request")).all()
        held = s.scalars(select(Event).where(Event.action == TRIAGE_HELD_EVENT)).all()
        issues = s.scalars(select(Issue)).all()
    assert len(issues) == 6  # every message is still an issue
    assert len(requests) == 4  # three from the flood, one from the calm sender
    assert [e.actor for e in held] == ["flood@example.org"] * 2
    assert reminders.remind(app).listed == 2
    text = _digest_text(ws)
    app.engine.dispose()
    assert text.count("triage request held: more than 3 emails from this sender") == 2
