"""Acknowledge every clinician, thread their replies, never answer a machine — end to end.

Real servers only: mail arrives over IMAP (Dovecot, or pymap where Dovecot is missing),
acknowledgements leave through SMTP to aiosmtpd and are read back from what that server
accepted, and the state is checked in the database (SQLite, and PostgreSQL for the batch
test where MAILPROC_TEST_PG_URL is set). The pipeline runs in-process (`service.poll_once`,
the function behind `mailproc poll`); the outbox commands run through the real CLI.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mailproc.intake import runner as service
from mailproc.intake.passes import PassSummary
from mailproc.outbound.outbox import DeliveryReport
from mailproc.store.db import transaction
from mailproc.store.models import Issue, Message, OutboxMessage
from tests.support.imapserver import ImapTestServer
from tests.support.mail import ADMIN, GROUP, make_message, read_email, varied_message
from tests.support.smtpserver import SmtpTestServer
from tests.support.workspace import Workspace, imap_workspace

MORAG = "morag.campbell@example-practice.scot.nhs.uk"
MORAG_FROM = f"Dr Morag Campbell <{MORAG}>"
IAIN = "iain.fraser@hospital.example.nhs.scot"
IAIN_FROM = f"Iain Fraser <{IAIN}>"
REFERENCE = re.compile(r"IFG-\d{4}-\d{4}")
PID_REMINDER = "Please do not include patient-identifiable information"


@dataclass
class Rig:
    """A workspace reading an IMAP inbox and sending through a real SMTP server."""

    ws: Workspace
    imap: ImapTestServer
    smtp: SmtpTestServer

    def receive(self, *raws: bytes) -> None:
        self.imap.deliver(list(raws))

    def poll(self) -> tuple[PassSummary, DeliveryReport]:
        """One pass over the inbox, then delivery: what `mailproc poll` runs."""
        app = self.ws.app()
        try:
            return service.poll_once(app)
        finally:
            app.engine.dispose()

    @contextmanager
    def db(self) -> Iterator[Session]:
        app = self.ws.app()
        try:
            with transaction(app.factory) as session:
                yield session
        finally:
            app.engine.dispose()

    def mail_to(self, address: str) -> list[EmailMessage]:
        """Every message the SMTP server accepted for `address`, parsed back."""
        return [read_email(d.data) for d in self.smtp.received_by(address)]


def make_rig(
    root: Path, imap: ImapTestServer, smtp: SmtpTestServer, db_url: str | None = None, **outbound: Any
) -> Rig:
    return Rig(imap_workspace(root, imap, db_url, smtp, outbound=outbound), imap, smtp)


@pytest.fixture
def rig(tmp_path: Path, imap: ImapTestServer, smtp_server: SmtpTestServer) -> Rig:
    return make_rig(tmp_path / "ws", imap, smtp_server)


def header(msg: EmailMessage, name: str) -> str:
    """A header's value as a mail client shows it: unfolded, without the folding white space
    after the colon. (Python's folder moves a 70-77 character value whole onto a continuation
    line, `Subject:\\r\\n [IFG-...]`; that is valid RFC 5322, but `policy.default` then keeps the
    leading space when it parses the header back.)"""
    return str(msg[name]).strip()


def raw_fields(data: bytes, name: str) -> list[str]:
    """Every value of the header `name` in raw bytes, unfolded (RFC 5322 section 2.2.3) and
    decoded (RFC 2047): what a receiving client reads, without Python's header objects."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    lines = re.sub(r"\r\n(?=[ \t])", "", head).split("\r\n")
    fields = [line.partition(":") for line in lines]
    values = [value for field, _, value in fields if field.strip().lower() == name.lower()]
    return [str(make_header(decode_header(value.strip()))) for value in values]


def only(items: Sequence[EmailMessage]) -> EmailMessage:
    assert len(items) == 1, f"expected exactly one message, got {len(items)}"
    return items[0]


def reference_of(ack: EmailMessage) -> str:
    match = re.match(r"\[(IFG-\d{4}-\d{4})\] Received: ", header(ack, "Subject"))
    assert match, f"not an acknowledgement subject: {ack['Subject']!r}"
    return match[1]


def text_of(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}", f"no text/{subtype} part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


def count(session: Session, model: type[Any], *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def stored(session: Session, message_id: str) -> Message:
    row = session.scalars(select(Message).where(Message.message_id == message_id)).one()
    return row


# --- 1. every clinician is acknowledged, once, with the right reference -----------------------


def test_every_submission_in_a_batch_gets_one_acknowledgement_through_smtp(
    tmp_path: Path,
    imap: ImapTestServer,
    smtp_server: SmtpTestServer,
    db_url: str,
) -> None:
    rig = make_rig(tmp_path / "ws", imap, smtp_server, db_url=db_url)
    # Twelve clinicians: plain, HTML-only, encoded subjects, attachments, Latin-1 (varied_message).
    raws = [varied_message(i) for i in range(12)]
    originals = [read_email(raw) for raw in raws]
    rig.receive(*raws)

    summary, report = rig.poll()

    assert (summary.new, summary.ignored, summary.quarantined) == (12, 0, 0)
    assert (report.sent, report.retrying, report.failed) == (24, 0, 0)  # 12 acks + 12 triage requests
    with rig.db() as s:
        issues = {i.submitter_email: (i.reference, i.subject) for i in s.scalars(select(Issue))}
    assert len(issues) == 12 and len({ref for ref, _ in issues.values()}) == 12
    for original in originals:
        submitter = original["From"].addresses[0].addr_spec.lower()
        reference, issue_subject = issues[submitter]
        assert issue_subject == str(original["Subject"])
        check_acknowledgement(rig, submitter, str(original["Message-ID"]), reference, issue_subject)
    others = [m for m in smtp_server.messages if not set(m.rcpt_tos) & issues.keys()]
    assert len(others) == 12 and all(m.rcpt_tos == (ADMIN,) for m in others)  # triage requests
    assert imap.count("INBOX") == 0 and imap.count("Processed") == 12

    again, report = rig.poll()
    assert (again.new, again.replies, again.ignored, report.sent) == (0, 0, 0, 0)
    assert len(smtp_server.messages) == 24


def check_acknowledgement(rig: Rig, submitter: str, original_id: str, reference: str, subject: str) -> None:
    """The one acknowledgement `submitter` got, as the SMTP server received it."""
    [envelope] = rig.smtp.received_by(submitter)
    assert envelope.rcpt_tos == (submitter,)
    assert envelope.mail_from == GROUP
    ack = read_email(envelope.data)
    assert REFERENCE.fullmatch(reference)
    assert header(ack, "Subject") == f"[{reference}] Received: {subject}"
    # On the wire: one Subject field that unfolds (and decodes) to exactly that.
    assert raw_fields(envelope.data, "Subject") == [header(ack, "Subject")]
    assert ack["From"].addresses[0].addr_spec == GROUP
    assert [a.addr_spec for a in ack["To"].addresses] == [submitter]
    assert header(ack, "In-Reply-To") == original_id
    assert original_id in header(ack, "References").split()
    assert header(ack, "Auto-Submitted") == "auto-replied"
    assert header(ack, "X-Auto-Response-Suppress") == "All"
    # The Message-ID carries the reference, so a reply that keeps only In-Reply-To still threads.
    assert re.fullmatch(rf"<{reference}\.ack\.[0-9a-f]{{16}}@example\.nhs\.scot>", header(ack, "Message-ID"))
    assert header(ack, "Thread-Topic") == subject
    assert len(base64.b64decode(header(ack, "Thread-Index"), validate=True)) == 22
    text, html = text_of(ack, "plain"), text_of(ack, "html")
    for body in (text, html):
        assert reference in body
        assert "Dr A Example" in body and "Chair (GP)" in body  # who is in the group
        assert PID_REMINDER in body
    assert ack.get_content_type() == "multipart/alternative"


# --- 2. replies thread onto their issue, whatever client wrote them ---------------------------


def thread_of(ack: EmailMessage) -> list[str]:
    """The References a client writes when replying to `ack`: its References, then its id."""
    return [*header(ack, "References").split(), header(ack, "Message-ID")]


def child_thread_index(parent: str) -> str:
    """The Thread-Index Outlook gives a reply: the parent's 22 bytes plus a 5-byte child block."""
    return base64.b64encode(base64.b64decode(parent) + bytes([0, 0, 0, 1, 0x10])).decode("ascii")


def outlook_reply(ack: EmailMessage, from_: str, new_text: str, message_id: str) -> bytes:
    """Outlook desktop: "RE: ", the new text, then a From/Sent/To/Subject block and the original."""
    body = (
        f"{new_text}\n\n"
        f"From: {header(ack, 'From')}\nSent: 21 November 2026 10:14\nTo: {header(ack, 'To')}\n"
        f"Subject: {header(ack, 'Subject')}\n\n"
        f"{text_of(ack, 'plain')}"
    )
    html = "<html><body><p>" + new_text + "</p><hr><p><b>From:</b> " + GROUP + "</p></body></html>"
    return make_message(
        from_=from_,
        subject=f"RE: {header(ack, 'Subject')}",
        body=body,
        html=html,
        message_id=message_id,
        in_reply_to=header(ack, "Message-ID"),
        references=thread_of(ack),
        headers=[
            ("Thread-Topic", header(ack, "Thread-Topic")),
            ("Thread-Index", child_thread_index(header(ack, "Thread-Index"))),
        ],
    )


def gmail_reply(ack: EmailMessage, from_: str, new_text: str, message_id: str) -> bytes:
    """Gmail: "Re: ", the new text, "On ... wrote:" and the original in > quotes."""
    quoted = "\n".join(f"> {line}".rstrip() for line in text_of(ack, "plain").splitlines())
    attribution = f"On Sat, 21 Nov 2026 at 10:14, NHS Test Interface Group <{GROUP}> wrote:"
    return make_message(
        from_=from_,
        subject=f"Re: {header(ack, 'Subject')}",
        body=f"{new_text}\n\n{attribution}\n\n{quoted}\n",
        message_id=message_id,
        in_reply_to=header(ack, "Message-ID"),
        references=thread_of(ack),
    )


def apple_reply(ack: EmailMessage, from_: str, new_text: str, message_id: str) -> bytes:
    """Apple Mail on an iPhone: the new text, "Sent from my iPhone", then the quoted original."""
    quoted = "\n".join(f"> {line}".rstrip() for line in text_of(ack, "plain").splitlines())
    attribution = f"On 2 Nov 2026, at 10:14, NHS Test Interface Group <{GROUP}> wrote:"
    return make_message(
        from_=from_,
        subject=f"Re: {header(ack, 'Subject')}",
        body=f"{new_text}\n\nSent from my iPhone\n\n{attribution}\n\n{quoted}\n",
        message_id=message_id,
        in_reply_to=header(ack, "Message-ID"),
        references=thread_of(ack),
        headers=[("X-Mailer", "iPhone Mail (21G93)")],
    )


def test_replies_thread_onto_their_issue_with_only_the_new_text(rig: Rig) -> None:
    rig.receive(
        make_message(from_=MORAG_FROM, subject="Discharge letters arriving late", message_id="<d1@p>"),
        make_message(from_=IAIN_FROM, subject="Referral rejected for missing details", message_id="<r1@h>"),
    )
    rig.poll()
    morag_ack, iain_ack = only(rig.mail_to(MORAG)), only(rig.mail_to(IAIN))
    morag_ref, iain_ref = reference_of(morag_ack), reference_of(iain_ack)
    assert morag_ref != iain_ref

    replies = {  # Message-ID → (client style, sender, the mail replied to, its issue, the new text)
        "<outlook@practice>": (outlook_reply, MORAG_FROM, morag_ack, morag_ref,
                               "Thanks. It was ward 5B both times, and the letters came by post."),
        "<gmail@hosp>": (gmail_reply, IAIN_FROM, iain_ack, iain_ref,
                         "The referral did include the blood results; see page 2."),
        "<apple@practice>": (apple_reply, MORAG_FROM, morag_ack, morag_ref, "One more example today."),
    }  # fmt: skip
    raws = [build(ack, from_, text, mid) for mid, (build, from_, ack, _, text) in replies.items()]
    expected = {mid: (ref, text) for mid, (_, _, _, ref, text) in replies.items()}
    # In-Reply-To alone, subject changed: the acknowledgement's Message-ID names the issue.
    raws.append(make_message(from_=IAIN_FROM, subject="Same problem with the renal clinic",
                             body="Renal referrals are rejected the same way.\n", message_id="<irt@hosp>",
                             in_reply_to=header(iain_ack, "Message-ID")))  # fmt: skip
    expected["<irt@hosp>"] = (iain_ref, "Renal referrals are rejected the same way.")
    # The reference in the subject alone, no threading headers at all (a fresh email).
    raws.append(make_message(from_=MORAG_FROM, subject=f"More letters for [{morag_ref}]",
                             body="Three more late letters this week.\n", message_id="<subj@p>"))  # fmt: skip
    expected["<subj@p>"] = (morag_ref, "Three more late letters this week.")
    rig.receive(*raws)

    summary, _ = rig.poll()

    assert (summary.new, summary.replies, summary.ignored, summary.quarantined) == (0, 5, 0, 0)
    with rig.db() as s:
        assert count(s, Issue) == 2
        assert count(s, OutboxMessage, OutboxMessage.template == "acknowledgement") == 2
        for mid, (ref, text) in expected.items():
            row = stored(s, mid)
            assert row.kind == "reply", mid
            assert row.issue is not None and row.issue.reference == ref, mid
            assert row.visible_text == text, mid
    # No second acknowledgement: each clinician still has exactly the one from their submission.
    assert len(rig.smtp.received_by(MORAG)) == 1 and len(rig.smtp.received_by(IAIN)) == 1


# --- 4. delivery: 421 is retried, 550 fails loudly and can be retried by hand -----------------


def test_temporary_refusal_is_retried_and_delivered_once(
    tmp_path: Path, imap: ImapTestServer, smtp_server: SmtpTestServer
) -> None:
    rig = make_rig(tmp_path / "ws", imap, smtp_server, backoff_seconds=600)
    smtp_server.fail(MORAG, 421, times=1)
    rig.receive(make_message(from_=MORAG_FROM))

    _, report = rig.poll()

    assert (report.sent, report.retrying, report.failed) == (1, 1, 0)  # the triage request went
    assert rig.smtp.received_by(MORAG) == []
    with rig.db() as s:
        ack = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "acknowledgement")).one()
        assert (ack.state, ack.attempts) == ("pending", 1)
        assert "421" in ack.last_error
        # Time passes: the backoff (600 s) is over.
        s.execute(update(OutboxMessage).values(next_attempt_at=ack.next_attempt_at - timedelta(hours=1)))

    out = rig.ws.cli("send").stdout
    assert out.startswith("sent 1, retrying 0, failed 0"), out
    assert len(rig.smtp.received_by(MORAG)) == 1
    _, report = rig.poll()
    assert report.sent == 0 and len(rig.smtp.received_by(MORAG)) == 1
    with rig.db() as s:
        states = s.scalars(select(OutboxMessage.state).where(OutboxMessage.template == "acknowledgement"))
        assert list(states) == ["sent"]


def test_permanent_refusal_is_listed_and_retried_by_hand(rig: Rig) -> None:
    rig.smtp.fail(MORAG, 550, times=1)
    rig.receive(make_message(from_=MORAG_FROM))

    _, report = rig.poll()

    assert (report.sent, report.retrying, report.failed) == (1, 0, 1)
    with rig.db() as s:
        ack = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "acknowledgement")).one()
        ack_id = ack.id
        assert ack.state == "failed" and "550 5.1.1 No such user" in ack.last_error
        assert ack.recipients[0].last_reply == "550 5.1.1 No such user"
    listing = rig.ws.cli("outbox", "list", "--failed").stdout
    assert f"{ack_id:>5} failed" in listing and "550 5.1.1 No such user" in listing, listing
    assert rig.smtp.received_by(MORAG) == []

    assert f"message {ack_id} queued again" in rig.ws.cli("outbox", "retry", str(ack_id)).stdout
    out = rig.ws.cli("send").stdout
    assert out.startswith("sent 1, retrying 0, failed 0"), out
    assert reference_of(only(rig.mail_to(MORAG)))


# --- 5. header injection through an encoded subject ------------------------------------------


def test_encoded_crlf_in_subject_cannot_add_a_bcc(rig: Rig) -> None:
    raw = make_message(
        from_=MORAG_FROM,
        subject=None,
        headers=[("Subject", "=?utf-8?q?Hello=0D=0ABcc:_victim@evil.example?=")],
    )
    rig.receive(raw)

    summary, _ = rig.poll()

    assert summary.new == 1
    [envelope] = rig.smtp.received_by(MORAG)
    assert envelope.rcpt_tos == (MORAG,)
    ack = read_email(envelope.data)
    assert "Bcc" not in ack and raw_fields(envelope.data, "Bcc") == []
    assert len(ack.get_all("Subject") or []) == 1 and len(raw_fields(envelope.data, "Subject")) == 1
    assert header(ack, "Subject").startswith(f"[{reference_of(ack)}] Received: Hello")
    assert "\n" not in header(ack, "Subject") and "\r" not in header(ack, "Subject")
    for sent in rig.smtp.messages:  # the triage request to the administrator too
        assert "victim@evil.example" not in sent.rcpt_tos
        assert "Bcc" not in read_email(sent.data)


# --- 6. never answer a machine, never answer twice --------------------------------------------


def test_auto_response_suppress_alone_opens_an_issue_without_acknowledgement(rig: Rig) -> None:
    rig.receive(make_message(from_=MORAG_FROM, headers=[("X-Auto-Response-Suppress", "DR, RN, NRN, OOF")]))

    summary, _ = rig.poll()

    assert summary.new == 1
    with rig.db() as s:
        assert count(s, Issue) == 1
        assert count(s, OutboxMessage, OutboxMessage.template == "acknowledgement") == 0
    assert rig.smtp.received_by(MORAG) == []
    assert len(rig.smtp.received_by(ADMIN)) == 1  # the issue is real: triage was requested


def test_exchange_out_of_office_opens_nothing(rig: Rig) -> None:
    # No Auto-Submitted and a plain subject: only the two Exchange headers say it is an OOF.
    oof = make_message(
        from_=IAIN_FROM,
        subject="Away until 30 November",
        body="I am on leave until 30 November. For urgent matters call the ward.\n",
        message_id="<oof@hosp>",
        headers=[("X-Auto-Response-Suppress", "All"), ("X-MS-Exchange-Inbox-Rules-Loop", IAIN)],
    )
    rig.receive(oof)

    summary, report = rig.poll()

    assert (summary.new, summary.ignored, report.sent) == (0, 1, 0)
    with rig.db() as s:
        row = stored(s, "<oof@hosp>")
        assert (row.kind, row.issue_id, row.detail["route"]) == ("automatic", None, "exchange-auto-reply")
        assert count(s, Issue) == 0 and count(s, OutboxMessage) == 0
    assert rig.smtp.messages == []
    assert rig.imap.count("Processed") == 1


def test_mail_from_our_own_address_opens_nothing(rig: Rig) -> None:
    own = make_message(
        from_="NHS Test Interface Group <Interface.Group@Example.NHS.scot>",
        subject="Minutes of the November meeting",
        message_id="<own@elsewhere.example>",
    )
    rig.receive(own)

    summary, report = rig.poll()

    assert (summary.new, summary.ignored, report.sent) == (0, 1, 0)
    with rig.db() as s:
        row = stored(s, "<own@elsewhere.example>")
        assert (row.kind, row.issue_id) == ("automatic", None)
        assert str(row.detail["route"]).startswith("loop")
        assert count(s, Issue) == 0 and count(s, OutboxMessage) == 0
    assert rig.smtp.messages == []


def test_forged_mailproc_header_is_ignored(rig: Rig) -> None:
    rig.receive(make_message(from_=MORAG_FROM, message_id="<first@practice>"))
    rig.poll()
    first_ref = reference_of(only(rig.mail_to(MORAG)))
    # A stranger's new message claiming to belong to that issue (and to be our own mail).
    forged = make_message(
        from_=IAIN_FROM,
        subject="Outpatient bloods requested of GPs",
        message_id="<forged@hosp>",
        headers=[("X-Mailproc-Ref", first_ref), ("X-Mailproc-Ref", "none")],
    )
    rig.receive(forged)

    summary, _ = rig.poll()

    assert (summary.new, summary.replies, summary.ignored) == (1, 0, 0)
    ack = only(rig.mail_to(IAIN))
    assert reference_of(ack) != first_ref
    with rig.db() as s:
        row = stored(s, "<forged@hosp>")
        assert row.kind == "new" and row.issue is not None
        assert row.issue.reference == reference_of(ack)
        assert row.issue.submitter_email == IAIN
    assert len(rig.smtp.received_by(MORAG)) == 1


def test_daily_limit_stops_the_third_acknowledgement_to_one_address(
    tmp_path: Path, imap: ImapTestServer, smtp_server: SmtpTestServer
) -> None:
    rig = make_rig(tmp_path / "ws", imap, smtp_server, auto_per_address_per_day=2)
    topics = ("Discharge letters arriving late", "Referral rejected", "Bloods requested of GPs")
    rig.receive(*(make_message(from_=MORAG_FROM, subject=t, message_id=f"<limit-{i}@p>") for i, t in
                  enumerate(topics)))  # fmt: skip

    summary, _ = rig.poll()

    assert summary.new == 3  # every submission is logged as an issue ...
    acks = rig.mail_to(MORAG)
    assert len(acks) == 2  # ... but only two automatic emails go to one address in a day
    assert sorted(header(a, "Subject").split("Received: ")[1] for a in acks) == sorted(topics[:2])
    with rig.db() as s:
        assert count(s, Issue) == 3
        assert count(s, OutboxMessage, OutboxMessage.template == "acknowledgement") == 2


def test_one_acknowledgement_per_sender_per_issue(rig: Rig) -> None:
    original = make_message(from_=MORAG_FROM, message_id="<once@practice>")
    rig.receive(original)
    rig.poll()
    ack = only(rig.mail_to(MORAG))
    reply = gmail_reply(ack, MORAG_FROM, "Also ward 7.", "<once-reply@practice>")
    # The original again: the same bytes, and a copy that reached the mailbox through another
    # hop (a second alias), different only in its trace header. Both are the same email.
    hop = b"Received: from alias.example.nhs.scot by mx.example.nhs.scot; Sat, 21 Nov 2026 10:00:01\r\n"
    rig.receive(reply, original, hop + original)

    summary, _ = rig.poll()

    assert (summary.new, summary.replies, summary.duplicates) == (0, 1, 2)
    assert len(rig.smtp.received_by(MORAG)) == 1
    with rig.db() as s:
        assert count(s, Issue) == 1
        assert count(s, OutboxMessage, OutboxMessage.template == "acknowledgement") == 1
        assert stored(s, "<once-reply@practice>").kind == "reply"
