"""Triage by reply, end to end: replies written the way real mail clients write them, and a
desk that runs them through a real IMAP server, the pipeline and a real SMTP server.

A reply is built from the triage request exactly as the administrator received it (read back
from the outbox): new text on top, the request below, quoted the way each client quotes it,
cheat-sheet included. `Desk` delivers mail into the IMAP INBOX, polls (in-process through
`service.poll_once`, the function `mailproc poll` runs, or through the real CLI), and reads
back what happened from the database, the IMAP folders and the SMTP server.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mailproc.app import App
from mailproc.intake import runner as service
from mailproc.outbound import outbox
from mailproc.store.models import Event, Issue, Message, OutboxMessage, Quarantined
from tests.support.imapserver import ImapTestServer
from tests.support.mail import ADMIN, GROUP, make_content, make_message, message_id, read_email, with_headers
from tests.support.smtpserver import Delivered, SmtpTestServer
from tests.support.workspace import Workspace, imap_workspace

ADMIN_FROM = f"Jane Admin <{ADMIN}>"
DATE = "Tue, 03 Mar 2026 10:02:00 +0000"
EXCHANGE_ONLINE = "DB9PR05MB1234.eurprd05.prod.outlook.com"  # where Outlook's Message-IDs come from


@dataclass(frozen=True)
class Received:
    """One email we sent, as its recipient sees it."""

    subject: str
    message_id: str
    in_reply_to: str
    sender: str
    to: str
    date: str
    text: str
    html: str

    @classmethod
    def from_bytes(cls, raw: bytes) -> Received:
        msg = read_email(raw)
        plain = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        return cls(
            subject=str(msg["Subject"]),
            message_id=str(msg["Message-ID"]).strip(),
            in_reply_to=str(msg["In-Reply-To"] or "").strip(),
            sender=str(msg["From"]),
            to=str(msg["To"]),
            date=str(msg["Date"]),
            text=plain.get_content() if isinstance(plain, EmailMessage) else "",
            html=html.get_content() if isinstance(html, EmailMessage) else "",
        )


# --- replies as mail clients write them --------------------------------------------------------


def _message_id(seed: str, host: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return f"<{digest[:24].upper()}@{host}>"


def _reply_subject(prefix: str, original: str, keep_tag: bool) -> str:
    if not keep_tag:  # some clients and gateways rewrite the subject and lose the tag
        original = original.split("] ", 1)[1]
    return f"{prefix}{original}"


def _assemble(headers: list[tuple[str, str]], text: str, html: str | None) -> bytes:
    """Header lines written verbatim, as clients write them; the MIME body built by the stdlib."""
    lines = [f"{name}: {value}" for name, value in headers]
    return with_headers(lines, make_content(body=text, html=html))


def _threading(request: Received) -> list[tuple[str, str]]:
    return [("In-Reply-To", request.message_id), ("References", request.message_id)]


def _html_lines(text: str) -> str:
    lines = (escape(line) or "&nbsp;" for line in text.splitlines())
    return "".join(f"<p class=MsoNormal>{line}<o:p></o:p></p>" for line in lines)


def outlook_desktop(
    request: Received, body: str, *, from_: str = ADMIN_FROM, keep_tag: bool = True, seed: str = ""
) -> bytes:
    """Outlook for Windows: top-posted, the original unquoted below a header block."""
    quoted = (
        f"From: {request.sender}\nSent: 03 March 2026 09:20\nTo: {from_}\n"
        f"Subject: {request.subject}\n\n{request.text}"
    )
    text = f"{body}\n\nJane\n\n{quoted}"
    html = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><body lang=EN-GB>'
        f"<div class=WordSection1>{_html_lines(body)}<p class=MsoNormal>Jane</p>"
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt">'
        f"{_html_lines(quoted)}</div></div></body></html>"
    )
    headers = [
        ("From", from_),
        ("To", f"NHS Test Interface Group <{GROUP}>"),
        ("Subject", _reply_subject("RE: ", request.subject, keep_tag)),
        ("Thread-Topic", request.subject),
        ("Thread-Index", "AQHZx2mJ3kq8bW1lT0Kz9yq3lVb0lQ=="),
        ("Date", DATE),
        ("Message-ID", _message_id(f"outlook|{request.message_id}|{body}|{seed}", EXCHANGE_ONLINE)),
        *_threading(request),
        ("Accept-Language", "en-GB, en-US"),
        ("Content-Language", "en-GB"),
        ("X-MS-Has-Attach", ""),
        ("X-MS-TNEF-Correlator", ""),
        ("MIME-Version", "1.0"),
    ]
    return _assemble(headers, text, html)


def outlook_mobile(
    request: Received, body: str, *, from_: str = ADMIN_FROM, keep_tag: bool = True, seed: str = ""
) -> bytes:
    """Outlook for iOS: "Get Outlook for iOS", a rule, then the original's header block."""
    quoted = (
        f"From: {request.sender}\nSent: Tuesday, March 3, 2026 9:20:11 AM\nTo: {from_}\n"
        f"Subject: {request.subject}\n\n{request.text}"
    )
    text = f"{body}\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n{'_' * 32}\n{quoted}"
    html = (
        f'<html><body><div dir="ltr">{_html_lines(body)}</div><div dir="ltr">Get '
        '<a href="https://aka.ms/o0ukef">Outlook for iOS</a></div><hr>'
        f'<div id="divRplyFwdMsg">{_html_lines(quoted)}</div></body></html>'
    )
    headers = [
        ("From", from_),
        ("To", f"NHS Test Interface Group <{GROUP}>"),
        ("Subject", _reply_subject("Re: ", request.subject, keep_tag)),
        ("Thread-Topic", request.subject),
        ("Thread-Index", "AQHZx2mJ3kq8bW1lT0Kz9yq3lVb0lQ=="),
        ("Date", DATE),
        ("Message-ID", _message_id(f"mobile|{request.message_id}|{body}|{seed}", EXCHANGE_ONLINE)),
        *_threading(request),
        ("X-MS-Has-Attach", ""),
        ("MIME-Version", "1.0"),
    ]
    return _assemble(headers, text, html)


def gmail(
    request: Received, body: str, *, from_: str = ADMIN_FROM, keep_tag: bool = True, seed: str = ""
) -> bytes:
    """Gmail: a wrapped "On ... wrote:" attribution, then every line quoted with "> "."""
    name, address = parseaddr(request.sender)
    quoted = "\n".join(f"> {line}".rstrip() for line in request.text.splitlines())
    text = f"{body}\n\nOn Tue, 3 Mar 2026 at 09:20, {name} <\n{address}> wrote:\n\n{quoted}\n"
    html = (
        f'<div dir="ltr">{"<br>".join(map(escape, body.splitlines()))}</div><br><div class="gmail_quote">'
        f'<div dir="ltr" class="gmail_attr">On Tue, 3 Mar 2026 at 09:20, {name} &lt;{address}&gt; '
        'wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">'
        f"{'<br>'.join(map(escape, request.text.splitlines()))}</blockquote></div>"
    )
    headers = [
        ("MIME-Version", "1.0"),
        ("References", request.message_id),
        ("In-Reply-To", request.message_id),
        ("From", from_),
        ("Date", DATE),
        ("Message-ID", _message_id(f"gmail|{request.message_id}|{body}|{seed}", "mail.gmail.com")),
        ("Subject", _reply_subject("Re: ", request.subject, keep_tag)),
        ("To", f"NHS Test Interface Group <{GROUP}>"),
    ]
    return _assemble(headers, text, html)


def apple_mail(
    request: Received, body: str, *, from_: str = ADMIN_FROM, keep_tag: bool = True, seed: str = ""
) -> bytes:
    """Apple Mail on iPhone: plain text, "Sent from my iPhone", then "> On ..., at ..." quoting."""
    name, address = parseaddr(request.sender)
    quoted = "\n".join(f"> {line}".rstrip() for line in request.text.splitlines())
    text = (
        f"{body}\n\nSent from my iPhone\n\n> On 3 Mar 2026, at 09:20, {name} <{address}> wrote:\n"
        f">\n{quoted}\n"
    )
    headers = [
        ("From", from_),
        ("Mime-Version", "1.0 (1.0)"),
        ("Date", DATE),
        ("Subject", _reply_subject("Re: ", request.subject, keep_tag)),
        ("Message-Id", _message_id(f"apple|{request.message_id}|{body}|{seed}", "example.nhs.scot")),
        *_threading(request),
        ("To", f"NHS Test Interface Group <{GROUP}>"),
        ("X-Mailer", "iPhone Mail (21D61)"),
    ]
    return _assemble(headers, text, None)


Style = Callable[..., bytes]
STYLES: dict[str, Style] = {
    "outlook-desktop": outlook_desktop,
    "outlook-mobile": outlook_mobile,
    "gmail": gmail,
    "apple-mail": apple_mail,
}


def with_extra_headers(raw: bytes, lines: Iterable[str]) -> bytes:
    """`raw` with header lines written verbatim on top (as a receiving server adds them)."""
    return "".join(f"{line}\r\n" for line in lines).encode() + raw


def submission(n: int, subject: str = "", sender: str = "") -> bytes:
    """A clinician's new issue; `n` keeps subjects, senders and Message-IDs apart."""
    return make_message(
        from_=sender or f"Dr Clinician {n} <clinician{n}@practice.example.nhs.scot>",
        subject=subject or f"Repeat prescriptions after discharge, case {n}",
        body=f"Hello,\n\nPatients discharged from ward {n} arrive without their medication list.\n"
        "Could the group look at this?\n\nDr Clinician\n",
        message_id=f"<submission-{n}@practice.example.nhs.scot>",
    )


# --- the desk: IMAP in, pipeline, SMTP out -----------------------------------------------------


class Desk:
    """A workspace reading a real IMAP INBOX and sending through a real SMTP server."""

    def __init__(
        self, root: Path, imap: ImapTestServer, smtp: SmtpTestServer, db_url: str | None = None,
        **tables: dict[str, Any],
    ) -> None:  # fmt: skip
        """`tables` override the config as in `make_workspace`."""
        self.imap = imap
        self.smtp = smtp
        outbound = {"backoff_seconds": 0, "max_attempts": 1, **tables.pop("outbound", {})}
        self.ws: Workspace = imap_workspace(root, imap, db_url, smtp, outbound=outbound, **tables)
        self.app: App = self.ws.app()
        self._seen = 0

    def close(self) -> None:
        self.app.engine.dispose()

    # -- mail in and out

    def deliver(self, *raws: bytes) -> None:
        self.imap.deliver(list(raws))

    def poll(self) -> list[Delivered]:
        """One `mailproc poll` pass in-process; returns the emails it sent."""
        self.mark()
        service.poll_once(self.app)
        return self.sent()

    def poll_cli(self) -> list[Delivered]:
        """One pass of the real `mailproc poll` command; returns the emails it sent."""
        self.mark()
        self.ws.cli("-q", "poll")
        return self.sent()

    def wait(self, minutes: float) -> None:
        """Move the application's clock on by `minutes` (the hold window of list mail)."""
        earlier, step = self.app.clock, timedelta(minutes=minutes)
        self.app = dataclasses.replace(self.app, clock=lambda: earlier() + step)

    def past_hold(self) -> list[Delivered]:
        """Let the hold window of list and group mail pass, and poll; returns what was sent."""
        self.wait(self.app.settings.outbound.list_hold_minutes + 1)
        return self.poll()

    def mark(self) -> None:
        self._seen = len(self.smtp.messages)

    def sent(self) -> list[Delivered]:
        """What the SMTP server accepted since the last `mark` (or poll)."""
        return self.smtp.messages[self._seen :]

    def submit(self, *raws: bytes) -> list[str]:
        """Deliver new submissions, poll, and return their references in order."""
        self.deliver(*raws)
        self.poll()
        ids = [message_id(raw) for raw in raws]
        with self.app.factory() as s:
            refs = {m.message_id: m.issue.reference for m in s.scalars(select(Message)) if m.issue}
        return [refs[mid] for mid in ids]

    # -- what the administrator received

    def request(self, reference: str, template: str = "triage-request", recipient: str = ADMIN) -> Received:
        """The latest email of `template` about `reference` to `recipient`, read from the outbox."""
        with self.app.factory() as s:
            rows = s.scalars(
                select(OutboxMessage)
                .join(Issue, Issue.id == OutboxMessage.issue_id)
                .where(Issue.reference == reference, OutboxMessage.template == template)
                .order_by(OutboxMessage.id)
            ).all()
            mine = [r for r in rows if recipient in {x.address for x in r.recipients}]
            assert mine, f"no {template} for {reference} to {recipient}"
            return Received.from_bytes(outbox.message_bytes(mine[-1]) or b"")

    # -- what happened

    def issue(self, reference: str) -> dict[str, Any]:
        with self.app.factory() as s:
            issue = s.scalars(select(Issue).where(Issue.reference == reference)).one()
            return {
                "status": issue.status, "area": issue.area, "priority": issue.priority,
                "outcome": issue.outcome, "delegated_to": issue.delegated_to, "due_date": issue.due_date,
                "duplicate_of_id": issue.duplicate_of_id, "meeting_id": issue.meeting_id,
            }  # fmt: skip

    def events(self, reference: str, action: str) -> list[Event]:
        with self.app.factory() as s:
            issue = s.scalars(select(Issue).where(Issue.reference == reference)).one()
            return list(s.scalars(select(Event).where(Event.issue_id == issue.id, Event.action == action)))

    def queued(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every outbox message, oldest first: (template, recipients)."""
        with self.app.factory() as s:
            rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            return [(r.template, tuple(x.address for x in r.recipients)) for r in rows]

    def quarantined(self) -> list[Quarantined]:
        with self.app.factory() as s:
            return list(s.scalars(select(Quarantined).order_by(Quarantined.id)))

    def folder(self, name: str) -> list[str]:
        """The Message-IDs of the messages in an IMAP folder (none if it does not exist)."""
        return self.imap.message_ids(name)


def recipients(messages: Iterable[Delivered]) -> Counter[str]:
    """How many of `messages` each envelope recipient got."""
    return Counter(r.lower() for m in messages for r in m.rcpt_tos)


def read(message: Delivered) -> Received:
    return Received.from_bytes(message.data)


DeskFactory = Callable[..., Desk]  # the `new_desk` fixture: (db_url=None, **tables) -> Desk
