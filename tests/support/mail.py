"""Raw test mail: build messages as bytes (well-formed by default, hostile on request), a
varied set of realistic submissions, and read back what was sent.

`make_message()` gives a plain text message from a clinician to the group; every part of it
can be changed or left out. Header values in `headers` are written exactly as given (no
encoding, no validation), so tests can send what real and hostile senders send. The MIME
body is built by the standard library, so it is always well-formed unless a test breaks it.

    make_message(subject="Discharge letters", html="<p>Hello</p>",
                 attachments=[Attachment("letter.pdf", b"%PDF-1.4", "application/pdf")],
                 headers=[("Auto-Submitted", "auto-replied")])

`varied_message(i)` cycles through the styles clinicians' mail comes in; `read_email` and
`message_id` read an outgoing message as its recipient's client would.
"""

from __future__ import annotations

import email
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.header import Header
from email.message import EmailMessage, MIMEPart

GROUP = "interface.group@example.nhs.scot"
CLINICIAN = "Dr A Example <a.example@example.nhs.scot>"
ADMIN = "admin@example.nhs.scot"
DATE = "Tue, 03 Mar 2026 09:15:00 +0000"
SENDERS = (
    "Dr Morag Campbell <morag.campbell@example-practice.scot.nhs.uk>",
    "iain.fraser@hospital.example.nhs.scot",
    '"Thomson, Sarah (Practice Manager)" <sarah.thomson@example-practice.scot.nhs.uk>',
    "=?utf-8?q?Se=C3=A1n_O=27Neill?= <sean.oneill@example.nhs.scot>",
)
TOPICS = (
    "Immediate discharge letters without medication changes",
    "Referral rejected for missing information",
    "Abnormal result not followed up after discharge",
    "Ward asked GP to arrange outpatient bloods",
    "Significant event: insulin dose error at transfer",
)
DEFAULT = object()  # "use the default value" for header arguments where None means "omit"

HeaderItems = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass(frozen=True)
class Attachment:
    """A file to attach. `message/rfc822` data is attached as an enclosed message."""

    filename: str | None
    data: bytes
    content_type: str = "application/octet-stream"
    disposition: str = "attachment"


def encode_word(text: str, charset: str = "utf-8") -> str:
    """`text` as RFC 2047 encoded-word(s), the way mail clients encode non-ASCII headers."""
    return Header(text, charset).encode()


def make_message(
    *,
    from_: str | None = CLINICIAN,
    to: str | None = GROUP,
    subject: str | None = "Discharge letters arriving late",
    body: str | None = "Hello,\n\nDischarge letters from ward 5 reach us a week late.\n",
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    headers: HeaderItems = (),
    message_id: object = DEFAULT,
    date: str | None = DATE,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    linesep: str = "\r\n",
) -> bytes:
    """A raw message. A non-ASCII `subject` is RFC 2047-encoded; `None` leaves a header out.

    `message_id` defaults to a stable id derived from the other arguments; pass None to
    leave it out or a string to set it verbatim.
    """
    content = make_content(body=body, html=html, attachments=attachments)
    if message_id is DEFAULT:
        seed = f"{from_}|{subject}|{body}|{html}|{date}".encode()
        message_id = f"<{hashlib.sha256(seed).hexdigest()[:20]}@example.nhs.scot>"
    top: list[tuple[str, str | None]] = [
        ("From", from_),
        ("To", to),
        ("Subject", _encode_if_needed(subject)),
        ("Date", date),
        ("Message-ID", message_id if isinstance(message_id, str) else None),
        ("In-Reply-To", in_reply_to),
        ("References", " ".join(references) or None),
        ("MIME-Version", "1.0"),
    ]
    items = headers.items() if isinstance(headers, Mapping) else headers
    lines = [f"{name}: {value}" for name, value in [*top, *items] if value is not None]
    return with_headers(lines, content, linesep)


def make_content(
    *, body: str | None = "Hello\n", html: str | None = None, attachments: Sequence[Attachment] = ()
) -> MIMEPart:
    """The MIME part(s) of a message: text and/or HTML, then the attachments."""
    content = MIMEPart(policy=policy.SMTP)
    if body is not None:
        content.set_content(body)
    if html is not None:
        if body is None:
            content.set_content(html, subtype="html")
        else:
            content.add_alternative(html, subtype="html")
    if body is None and html is None and not attachments:
        content.set_content("")
    for attachment in attachments:
        _attach(content, attachment)
    # Fixed boundaries make the bytes (and so every digest of them) the same on every run.
    for index, part in enumerate(p for p in content.walk() if p.get_content_maintype() == "multipart"):
        part.set_boundary(f"==part-{index}==")
    return content


def _attach(content: MIMEPart, attachment: Attachment) -> None:
    maintype, _, subtype = attachment.content_type.partition("/")
    if attachment.content_type == "message/rfc822":
        inner = email.message_from_bytes(attachment.data, policy=policy.SMTP)
        content.add_attachment(inner, disposition=attachment.disposition, filename=attachment.filename)
        return
    content.add_attachment(
        attachment.data,
        maintype=maintype,
        subtype=subtype,
        disposition=attachment.disposition,
        filename=attachment.filename,
    )


def with_headers(lines: Sequence[str], content: MIMEPart, linesep: str = "\r\n") -> bytes:
    """Raw header `lines` (written verbatim) followed by `content`'s MIME headers and body."""
    body = content.as_bytes(policy=policy.SMTP.clone(linesep=linesep))
    head = "".join(f"{line}{linesep}" for line in lines)
    return head.encode("utf-8", "surrogateescape") + body


def make_dsn(
    *,
    original: bytes | None = None,
    from_: str = "Mail Delivery System <MAILER-DAEMON@mx.example.org>",
    subject: str = "Undelivered Mail Returned to Sender",
    headers: HeaderItems = (),
) -> bytes:
    """A delivery status notification (RFC 3464) in `multipart/report`, returning `original`."""
    boundary = "dsn-boundary-1"
    returned = (original or make_message()).replace(b"\r\n", b"\n").decode("utf-8", "replace")
    body = (
        f"--{boundary}\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
        f"--{boundary}\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; nobody@example.org\n"
        "Action: failed\nStatus: 5.1.1\n\n"
        f"--{boundary}\nContent-Type: message/rfc822\n\n{returned}\n--{boundary}--\n"
    )
    items = headers.items() if isinstance(headers, Mapping) else headers
    lines = [
        f"From: {from_}",
        f"To: {GROUP}",
        f"Subject: {subject}",
        f"Date: {DATE}",
        "Message-ID: <dsn-1@mx.example.org>",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        *(f"{name}: {value}" for name, value in items),
    ]
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


def nested_multipart(depth: int) -> bytes:
    """A message whose multiparts nest `depth` levels deep (a MIME bomb when large)."""
    lines = ["From: a@example.org", "Subject: deep", "MIME-Version: 1.0"]
    for level in range(depth):
        lines += [f'Content-Type: multipart/mixed; boundary="b{level}"', "", f"--b{level}"]
    lines += ["Content-Type: text/plain", "", "bottom"]
    for level in reversed(range(depth)):
        lines.append(f"--b{level}--")
    return "\n".join(lines).encode("ascii")


def many_parts(count: int) -> bytes:
    """A flat multipart/mixed message with `count` tiny text parts."""
    lines = ["From: a@example.org", "Subject: wide", "MIME-Version: 1.0"]
    lines += ['Content-Type: multipart/mixed; boundary="w"', ""]
    for index in range(count):
        lines += ["--w", "Content-Type: text/plain", "", f"part {index}"]
    lines.append("--w--")
    return "\n".join(lines).encode("ascii")


def _encode_if_needed(value: str | None) -> str | None:
    if value is None or value.isascii():
        return value
    return encode_word(value)


def varied_message(i: int) -> bytes:
    """Message number i: the style cycles through plain, HTML-only, encoded, attached, Latin-1."""
    # Distinct addresses: the per-address daily limit on automatic mail must not bite here.
    sender = SENDERS[i % len(SENDERS)].replace("@", f"+{i}@")
    topic = f"{TOPICS[i % len(TOPICS)]} (case {i})"
    body = f"Dear group,\n\nExample {i}: {topic.lower()}.\nThis delayed care for the patient.\n\nRegards\n"
    style = i % 5
    mid = f"<varied-{i}@example.nhs.scot>"
    if style == 1:
        html = f"<p>Dear group,</p><p>Example {i}: <b>{topic}</b></p>"
        return make_message(from_=sender, subject=topic, body=None, message_id=mid, html=html)
    if style == 2:
        return make_message(from_=sender, subject=f"Überweisung – {topic} ✓", body=body, message_id=mid)
    if style == 3:
        pdf = Attachment(f"letter-{i}.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 4, "application/pdf")
        return make_message(from_=sender, subject=topic, body=body, attachments=[pdf], message_id=mid)
    if style == 4:
        raw = make_message(from_=sender, subject=topic, body=body, message_id=mid)
        return raw.replace(b'charset="utf-8"', b'charset="iso-8859-1"')
    return make_message(from_=sender, subject=topic, body=body, message_id=mid)


def read_email(raw: bytes) -> EmailMessage:
    """`raw` parsed the way a modern client reads it (headers decoded, parts navigable)."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    if not isinstance(msg, EmailMessage):
        raise TypeError("policy.default always gives an EmailMessage")
    return msg


def message_id(raw: bytes) -> str:
    """The Message-ID of `raw`, as written."""
    return str(email.message_from_bytes(raw)["Message-ID"]).strip()
