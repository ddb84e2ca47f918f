"""Realistic sample mail for `mailproc demo` (invented people and practices)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

DOMAIN = "example.nhs.scot"

SUBMISSIONS: tuple[tuple[str, str, str, str], ...] = (
    (
        "Dr Morag Campbell",
        "morag.campbell@example-practice.scot.nhs.uk",
        "Immediate discharge letters arriving without medication changes",
        "Dear colleagues,\n\nOver the last month we have had several immediate discharge letters (IDLs)\n"
        "from the acute medical unit that list the discharge medication but do not say what was\n"
        "stopped or changed, or why. Our practice pharmacist has to phone the ward to find out,\n"
        "which delays medicines reconciliation by days.\n\nCould the group look at the IDL template?\n\n"
        "Morag Campbell\nGP, Example Medical Practice",
    ),
    (
        "Dr Iain Fraser",
        "iain.fraser@hospital.example.nhs.scot",
        "Referrals rejected for missing information that is in the letter",
        "Hello,\n\nThe orthopaedic triage team is rejecting SCI Gateway referrals as 'incomplete'\n"
        "when the information is in the attached letter rather than the structured fields.\n"
        "Patients then wait weeks longer. Could we agree what is required?\n\nIain Fraser\n"
        "Consultant, Orthopaedics",
    ),
    (
        "Sarah Thomson",
        "sarah.thomson@example-practice.scot.nhs.uk",
        "Significant event: abnormal result not followed up after discharge",
        "This is a significant event analysis from our practice.\n\nA patient was discharged with\n"
        "a blood test pending; the result was abnormal but was sent to the hospital consultant\n"
        "who had left, and nobody acted on it for three weeks. CHI 0101011237 for your records.\n\n"
        "Sarah Thomson, Practice Manager",
    ),
)


def submission(name: str, address: str, subject: str, body: str, when: datetime) -> bytes:
    """One clinician's email as it would arrive in the group mailbox."""
    msg = EmailMessage()
    msg["From"] = f"{name} <{address}>"
    msg["To"] = f"Interface Group <interface.group@{DOMAIN}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=address.rpartition("@")[2])
    msg.set_content(body)
    return msg.as_bytes()


def out_of_office(to_subject: str, when: datetime) -> bytes:
    """An Exchange out-of-office reply: must be logged, never answered."""
    msg = EmailMessage()
    msg["From"] = "Dr Away <dr.away@hospital.example.nhs.scot>"
    msg["To"] = f"interface.group@{DOMAIN}"
    msg["Subject"] = f"Automatic reply: {to_subject}"
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain="hospital.example.nhs.scot")
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content("I am out of the office until Monday with limited access to email.")
    return msg.as_bytes()


def reply(name: str, address: str, subject: str, in_reply_to: str, body: str, when: datetime) -> bytes:
    """A reply in Outlook's style: new text on top, the original quoted below."""
    msg = EmailMessage()
    msg["From"] = f"{name} <{address}>"
    msg["To"] = f"Interface Group <interface.group@{DOMAIN}>"
    msg["Subject"] = f"RE: {subject}"
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=address.rpartition("@")[2])
    msg["In-Reply-To"] = in_reply_to
    msg["References"] = in_reply_to
    quoted = (
        "\n\n________________________________\nFrom: Interface Group <interface.group@"
        f"{DOMAIN}>\nSent: {format_datetime(when)}\nTo: {name} <{address}>\nSubject: {subject}\n\n"
        "(the email you are replying to)\n"
    )
    msg.set_content(body + quoted)
    return msg.as_bytes()


MALFORMED = b"This is not an email at all, just some bytes a broken scanner dropped into the mailbox.\n"
