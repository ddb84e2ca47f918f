"""Issue 11, must show 1: CHI numbers in every spelling class, in subjects, plain and HTML
bodies and an administrator's CLOSE, NOTE and INFO text, reach no outgoing email, the register
or the CLI output.

Mail goes in through a real IMAP server and out through a real SMTP server (aiosmtpd); every
message the SMTP server accepted is decoded (headers with their encoded-words, every text
part from base64 or quoted-printable, HTML tags and entities) and searched for the digits.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import random
import re
import unicodedata
from email.header import Header
from pathlib import Path

from sqlalchemy import select

from mailproc.store.models import Message
from mailproc.vocabulary import IssueStatus
from tests.support.mail import make_message
from tests.support.pid_samples import SPACINGS, chi_mod10, chi_mod11
from tests.support.triagedesk import Desk, DeskFactory, apple_mail, gmail, outlook_desktop

RNG = random.Random(20261130)
SUBMITTED = chi_mod11(RNG)  # in the submitters' mail
TYPED = chi_mod10(RNG)  # in the administrator's commands
CHIS = (SUBMITTED, TYPED)

_TAG = re.compile(r"<[^<>]*>")
_DIGEST = re.compile(r"[0-9a-f]{16,}")  # our Message-IDs' and tokens' hex digests


def _digits(text: str) -> str:
    """The digits a reader sees in `text`: tags dropped, entities decoded, NFKC, invisible
    characters ignored, every decimal digit as ASCII."""
    text = unicodedata.normalize("NFKC", html.unescape(_TAG.sub("", text)))
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


def leaked(text: str) -> list[str]:
    seen = _digits(_DIGEST.sub("", text))
    return [chi for chi in CHIS if chi in seen]


def email_leaks(raw: bytes) -> list[str]:
    """Every header (decoded) and every text part (decoded) of one email."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    chunks = [str(value) for part in message.walk() for _name, value in part.items()]
    chunks += [p.get_content() for p in message.walk() if p.get_content_maintype() == "text"]
    return [chi for chunk in chunks for chi in leaked(chunk)]


def _subject_safe(name: str) -> bool:
    return not any(mark in name for mark in ("line break", "CRLF", "flowed", "html"))


def _submission(n: int, name: str, spell: object) -> bytes:
    spelled = spell(SUBMITTED)  # type: ignore[operator]
    subject = f"Letter missing, CHI {spelled}" if _subject_safe(name) else f"Letter missing {n}"
    sender = f"Dr Clinician {n} <clinician{n}@practice.example.nhs.scot>"
    if "html" in name:
        body = f"<html><body><table><tr><td>CHI</td><td>{spelled}</td></tr></table></body></html>"
        return make_message(
            from_=sender, subject=subject, body=None, html=body, message_id=f"<s{n}@p.example>"
        )
    text = f"Hello,\n\nthe patient (CHI {spelled}) was discharged without a letter.\n\nDr Clinician\n"
    return make_message(from_=sender, subject=subject, body=text, message_id=f"<s{n}@p.example>")


def _doubly_encoded(n: int) -> bytes:
    inner = Header(f"CHI {SUBMITTED[:6]} {SUBMITTED[6:]}", "utf-8").encode()
    # Non-ASCII, so the header is encoded again around the encoded-word: intake decodes once.
    return make_message(
        from_=f"Dr Clinician {n} <clinician{n}@practice.example.nhs.scot>",
        subject=f"Lettre manquée {inner}",
        body="Hello,\n\nsee the subject.\n",
        message_id=f"<s{n}@p.example>",
    )


def _admin_reply(desk: Desk, reference: str, index: int, spelled: str) -> bytes:
    keyword = ("CLOSE", "NOTE", "INFO")[index % 3]
    text = {
        "CLOSE": f"CLOSE Fixed; the ward apologised to the family of {spelled} and\nchanged the process.",
        "NOTE": f"NOTE Rang the ward about {spelled}; they will call back.",
        "INFO": f"INFO Was the patient {spelled} seen in clinic first?",
    }[keyword]
    client = (outlook_desktop, gmail, apple_mail)[index % 3]
    return client(desk.request(reference), text, seed=str(index))


def test_no_spelling_of_a_chi_reaches_mail_register_or_cli(desk: Desk, tmp_path: Path) -> None:
    spellings = list(SPACINGS.items())
    raws = [_submission(n, name, spell) for n, (name, spell) in enumerate(spellings)]
    references = desk.submit(*raws, _doubly_encoded(len(raws)))
    sent = list(desk.sent())
    for index, (reference, (_name, spell)) in enumerate(zip(references, spellings, strict=False)):
        desk.deliver(_admin_reply(desk, reference, index, spell(TYPED)))
    sent += desk.poll()

    assert len(sent) > 2 * len(references)  # acknowledgements, triage requests, then the replies' mail
    acted = [desk.issue(r)["status"] for r in references]
    assert IssueStatus.CLOSED in acted and IssueStatus.INFO_REQUESTED in acted
    assert [leak for m in sent for leak in email_leaks(m.data)] == []

    site = tmp_path / "site"
    desk.ws.cli("register", "build", str(site))
    pages = [p.read_text(encoding="utf-8") for p in site.rglob("*") if p.is_file() and p.suffix != ".css"]
    assert pages and [leak for page in pages for leak in leaked(page)] == []

    listing = desk.ws.cli("issues", "list").stdout + desk.ws.cli("issues", "list", "--json").stdout
    assert references[0] in listing and leaked(listing) == []
    for reference in references[::4]:
        shown = desk.ws.cli("issues", "show", reference).stdout
        shown += json.dumps(json.loads(desk.ws.cli("issues", "show", reference, "--json").stdout))
        assert reference in shown and leaked(shown) == [], reference
    # The stored original is kept for the administrators (until purge): only output is redacted.
    with desk.app.factory() as session:
        kept = "".join(session.scalars(select(Message.text)))
    assert SUBMITTED in _digits(kept)


def test_admins_see_identifiers_in_the_cli_when_redaction_for_them_is_off(new_desk: DeskFactory) -> None:
    desk = new_desk(privacy={"redact_for_admins": False})
    (reference,) = desk.submit(_submission(0, "6-4 space", SPACINGS["6-4 space"]))
    shown = desk.ws.cli("issues", "show", reference).stdout
    assert SUBMITTED in _digits(shown)
