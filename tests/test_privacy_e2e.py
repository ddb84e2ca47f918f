"""Patient-identifiable data end to end: warn, redact at the one outgoing gate, retain, purge."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mailproc.app import App
from mailproc.intake import runner as service
from mailproc.outbound import outbox
from mailproc.privacy import retention
from mailproc.privacy.detector import find_pid
from mailproc.store.models import Attachment, Event, Issue, Message, OutboxMessage, PidFinding
from tests.support.mail import Attachment as Attach
from tests.support.mail import make_message
from tests.support.pid_samples import CHI
from tests.support.workspace import Workspace, make_workspace, triage

SPELLINGS = ("0101011237", "010 101 1237", "010101 1237", "010-101-1237")
SUBMITTER = "gp@example-practice.scot.nhs.uk"


def _digits_in(raw: bytes) -> bool:
    """Whether the CHI's digits are anywhere in the decoded message: every header
    (Subject, Thread-Topic, …) and every text part."""
    text = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [part.get_content() for part in text.walk() if part.get_content_maintype() == "text"]
    headers = [f"{value}" for part in text.walk() for _name, value in part.items()]
    return any(CHI in "".join(ch for ch in chunk if ch.isdigit()) for chunk in [*parts, *headers])


def _submit(ws: Workspace, spelling: str, n: int) -> None:
    body = f"Patient CHI {spelling} was discharged without a letter.\nThe ward did not phone.\n"
    raw = make_message(
        from_=f"Dr GP <{SUBMITTER.replace('@', f'+{n}@')}>", subject=f"Missing letter {n}, CHI {spelling}",
        body=body, message_id=f"<pid-{n}@example.nhs.scot>",
        attachments=[Attach(f"letter for {spelling}.pdf", b"%PDF-1.4 test", "application/pdf")],
    )  # fmt: skip
    ws.receive(raw)


def _close_all(app: App, outcome: str) -> None:
    with app.factory() as session:
        references = list(session.scalars(select(Issue.reference)))
    for reference in references:
        triage(app, reference, "DELEGATE prescribing", f"CLOSE {outcome}")


def test_chi_number_never_leaves_the_core(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ws = make_workspace(tmp_path / "ws")
    app = ws.app()
    for n, spelling in enumerate(SPELLINGS):
        _submit(ws, spelling, n)
    with caplog.at_level(logging.DEBUG):
        service.poll_once(app)
    # The administrator typed the number into the outcome too: the gate still removes it.
    _close_all(app, f"Fixed; the ward apologised to the family of {CHI}.")
    service.deliver(app)
    with app.factory() as session:
        issues = list(session.scalars(select(Issue)))
        outgoing = list(session.scalars(select(OutboxMessage)))
        findings = list(session.scalars(select(PidFinding)))
        originals = list(session.scalars(select(Message)))
    assert len(issues) == len(SPELLINGS) and all(i.pid_detected for i in issues)
    templates = {o.template for o in outgoing}
    assert {"acknowledgement", "triage-request", "delegated", "outcome"} <= templates
    leaked = [o.template for o in outgoing if _digits_in(outbox.message_bytes(o) or b"")]
    assert leaked == [], f"CHI digits in outgoing {leaked}"
    for raw in ws.sent():
        assert CHI not in "".join(ch for ch in raw.decode(errors="replace") if ch.isdigit())
    acks = [o for o in outgoing if o.template == "acknowledgement"]
    assert all(b"patient-identifiable information" in (outbox.message_bytes(a) or b"") for a in acks)
    # Findings say where, never what; the original stays for the administrator.
    assert {f.part for f in findings} >= {"text", "attachment:0"}
    assert all(CHI in "".join(c for c in m.text if c.isdigit()) for m in originals)
    assert all(m.raw is not None and CHI not in m.redacted_text for m in originals)
    # Our own digests (outbox file names, Message-IDs) are long hex runs whose digits can pass a
    # check-digit test by chance; they are not patient data, so they are masked before looking.
    logged = [re.sub(r"[0-9a-f]{16,}", "<digest>", r.getMessage()) for r in caplog.records]
    assert not [line for line in logged if find_pid(line) or any(sp in line for sp in SPELLINGS)]
    assert not any("was discharged without a letter" in r.getMessage() for r in caplog.records)


def test_admins_may_opt_out_of_redaction(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", privacy={"redact_for_admins": False})
    app = ws.app()
    _submit(ws, CHI, 1)
    service.poll_once(app)
    with app.factory() as session:
        rows = session.scalars(select(OutboxMessage))
        by_template = {o.template: outbox.message_bytes(o) or b"" for o in rows}
    assert _digits_in(by_template["triage-request"])  # admins only: kept, as configured
    assert not _digits_in(by_template["acknowledgement"])  # the submitter's copy: always redacted


def test_purge_removes_old_raw_mail_but_keeps_held_issues(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", privacy={"retention_days": 30})
    app = ws.app()
    for n in range(3):
        _submit(ws, CHI, n)
    service.poll_once(app)
    ws.cli("issues", "hold", f"IFG-{app.clock().year}-0002")
    later = dataclasses.replace(app, clock=lambda: app.clock() + timedelta(days=31))
    dry = retention.purge(later, dry_run=True)
    assert (dry.messages, dry.held_skipped, dry.dry_run) == (2, 1, True)
    with app.factory() as session:
        assert all(m.raw is not None for m in session.scalars(select(Message)))
    report = retention.purge(later)
    assert (report.messages, report.attachments, report.held_skipped) == (2, 2, 1)
    with app.factory() as session:
        messages = {m.issue.reference[-4:]: m for m in session.scalars(select(Message)) if m.issue}
        assert messages["0002"].raw is not None
        assert messages["0001"].raw is None and messages["0003"].raw is None
        assert CHI not in messages["0001"].text and "[CHI removed]" in messages["0001"].text
        purged = messages["0001"]
        assert "[CHI removed]" in purged.subject and CHI not in purged.issue.subject
        assert all(CHI not in a.filename for a in purged.attachments)
        kept = session.scalars(select(Attachment).where(Attachment.data.is_not(None))).all()
        assert len(kept) == 1
        actions = [e.action for e in session.scalars(select(Event))]
        issues = session.scalars(select(Issue)).all()
    assert actions.count("purged") == 2 and "purge-run" in actions and "held" in actions
    assert len(issues) == 3  # issues and their events stay
    # Sent mail keeps no body past retention, except about an issue on hold.
    assert report.outgoing > 0 and report.outgoing == dry.outgoing
    with app.factory() as session:
        about = select(Issue.reference, OutboxMessage).join(Issue, OutboxMessage.issue_id == Issue.id)
        rows = session.execute(about)
        bodies = {(ref[-4:], outbox.message_bytes(o) is not None) for ref, o in rows}
        subjects = [o.subject for o in session.scalars(select(OutboxMessage))]
    assert bodies == {("0001", False), ("0002", True), ("0003", False)}
    assert all(CHI not in subject for subject in subjects)
    assert "outbox is empty" not in ws.cli("outbox", "list").stdout
    again = retention.purge(later)
    assert (again.messages, again.outgoing) == (0, 0)  # nothing left to do


def test_only_a_redaction_that_changed_something_is_stored(tmp_path: Path) -> None:
    """Mail that names no patient keeps one copy of its text (no redacted copy, no empty
    detail fields); purge then redacts the visible text itself, with the same result."""
    ws = make_workspace(tmp_path / "ws", privacy={"retention_days": 30})
    app = ws.app()
    _submit(ws, CHI, 1)
    ws.receive(
        make_message(subject="Late letter", body="The letter came late.\n\n> quoted\n", message_id="<p@x>")
    )
    service.poll_once(app)
    with app.factory() as session:
        rows = {m.message_id: m for m in session.scalars(select(Message))}
        plain, named = rows["<p@x>"], rows["<pid-1@example.nhs.scot>"]
        assert plain.redacted_text == "" and "[CHI removed]" in named.redacted_text
        assert "pid_findings" not in plain.detail and named.detail["pid_findings"] > 0
        assert not {"cc", "reply_to", "defects", "message_id_generated"} & set(plain.detail)
        assert plain.detail["route"] and plain.detail["to"] and plain.detail["parser"]
        visible = plain.visible_text
    later = dataclasses.replace(app, clock=lambda: app.clock() + timedelta(days=31))
    assert retention.purge(later).messages == 2
    with app.factory() as session:
        purged = {m.message_id: m for m in session.scalars(select(Message))}
        assert purged["<p@x>"].text == visible and "quoted" not in visible
        assert CHI not in purged["<pid-1@example.nhs.scot>"].text
