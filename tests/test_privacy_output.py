"""What mailproc itself prints and sends about identifiers: the acknowledgement names the kinds
found, CLI errors and log lines never carry one, and a site's unit-number pattern sees the
same hidden spellings as the built-in kinds."""

from __future__ import annotations

import email
import email.policy
import logging
from pathlib import Path

from sqlalchemy import select

from mailproc.intake import runner as service
from mailproc.outbound import outbox
from mailproc.privacy import logfilter
from mailproc.privacy.detector import ExtraPattern, describe_kinds, redact
from mailproc.store.models import Issue, OutboxMessage
from tests.support.mail import make_message
from tests.support.workspace import make_workspace, triage

SUBMISSION = (
    "Hello,\n\nMrs Agnes Wilson (CHI 010101 1237, DOB 01/01/1941) of 12 High Street, Anytown "
    "AB1 2CD, tel 0131 496 0123, was discharged without a letter.\n"
)


def _text(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_acknowledgement_names_every_kind_found_and_no_value(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    ws.receive(make_message(subject="Discharge letter", body=SUBMISSION))
    app = ws.app()
    service.poll_once(app)
    with app.factory() as session:
        sent = {o.template: outbox.message_bytes(o) or b"" for o in session.scalars(select(OutboxMessage))}
    ack = _text(sent["acknowledgement"] or b"")
    expected = "(CHI numbers, dates of birth, phone numbers, postcodes, street addresses, titled names)"
    assert expected in " ".join(ack.split())
    for value in ("Agnes", "Wilson", "1941", "High Street", "AB1 2CD", "496 0123", "1237"):
        assert value not in ack and value not in _text(sent["triage-request"] or b""), value
    app.engine.dispose()


def test_describe_kinds_orders_by_sensitivity_and_names_extra_patterns() -> None:
    assert describe_kinds(["name", "chi-like", "unit-number", "chi", "dob"]) == [
        "CHI numbers", "dates of birth", "titled names", "unit-number",
    ]  # fmt: skip


def test_cli_error_does_not_echo_an_identifier(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    ws.cli("db", "upgrade")
    proc = ws.cli("issues", "show", "010101-1237", check=False)
    assert proc.returncode != 0 and "mailproc: error:" in proc.stderr
    assert "1237" not in proc.stderr and "[CHI removed]" in proc.stderr


def test_log_lines_are_redacted_whoever_wrote_them() -> None:
    logger = logging.getLogger("test.privacy.output")
    handler = logging.Handler()
    records: list[str] = []
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        logfilter.install(logger)
        logger.warning("server said: no such mailbox %s", "CHI 010101\u20131237")
        logger.warning("plain line")
    finally:
        logger.removeHandler(handler)
    assert records == ["server said: no such mailbox CHI [CHI removed]", "plain line"]


def test_unit_number_pattern_sees_hidden_spellings() -> None:
    unit = ExtraPattern("unit-number", r"\bRX[0-9]{6}\b")
    assert redact("Unit RX12\u200b3456 and RX654321.", [unit]) == (
        "Unit [unit-number removed] and [unit-number removed]."
    )


ISSUE_10 = {  # the submission of issue 10, and every value in it that identifies the patient
    "subject": "Referral for Mrs Agnes Wilson, DOB 01/01/1941",
    # (Not bare digits such as "1237": a Message-ID's random hex digest may hold them.)
    "values": ("Agnes", "Wilson", "01/01/1941", "12 High Street", "AB1 2CD", "0131 496 0123", "010101 1237"),
}


def test_issue_10_submission_reaches_no_list_group_or_committee(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    ws.receive(make_message(subject=ISSUE_10["subject"], body=SUBMISSION))
    app = ws.app()
    service.poll_once(app)
    reference = f"IFG-{app.clock().year}-0001"
    triage(app, reference, "DELEGATE prescribing")
    triage(app, reference, "ESCALATE Mrs Agnes Wilson (DOB 01/01/1941) again")
    triage(app, reference, "CLOSE Fixed for Mrs Agnes Wilson of 12 High Street, AB1 2CD.")
    service.deliver(app)
    with app.factory() as session:
        templates = {o.template for o in session.scalars(select(OutboxMessage))}
    app.engine.dispose()
    assert {"acknowledgement", "triage-request", "delegated", "escalated", "outcome"} <= templates
    sent = ws.sent()
    assert sent
    for raw in sent:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        texts = [str(v) for _, v in message.items()]
        texts += [str(p.get_content()) for p in message.walk() if p.get_content_maintype() == "text"]
        flat = " ".join(" ".join(texts).split())
        assert [v for v in ISSUE_10["values"] if v in flat] == [], message["Subject"]


def test_the_senders_own_signature_is_no_finding(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    body = "Hello,\n\nletters from ward 5 arrive late.\n\nDr J. Smith\nJane Smith, GP\n"
    ws.receive(make_message(from_="Dr Jane Smith <jane@practice.example>", subject="Late letters", body=body))
    ws.receive(make_message(from_="Dr Ann Lee <ann@practice.example>", subject="Late letters 2", body=body))
    app = ws.app()
    service.poll_once(app)
    with app.factory() as session:
        flags = [i.pid_detected for i in session.scalars(select(Issue).order_by(Issue.id))]
    app.engine.dispose()
    assert flags == [False, True]  # Dr Lee's email names someone else: a titled name
