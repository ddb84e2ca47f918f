"""Triage by reply: forged and stolen commands (issue "Triage by reply", must show 2).

Each case is a reply to a real triage request, through the real IMAP server and SMTP server.
Every one must be refused, logged (a "command-rejected" event on the issue and a quarantine
record with the reason; the message moved to the IMAP Quarantine folder), change nothing,
and send nothing to any address that is not an allow-listed administrator.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from mailproc.triage.tokens import make_token
from tests.support.mail import ADMIN, message_id
from tests.support.triagedesk import (
    Desk,
    DeskFactory,
    Received,
    gmail,
    outlook_desktop,
    read,
    recipients,
    submission,
    with_extra_headers,
)

OUR_MX = "mx.example.nhs.scot"
ENFORCING: dict[str, Any] = {"require_authentication_results": True, "authserv_id": OUR_MX}
COLLEAGUE = "Dr Colleague <colleague@example.nhs.scot>"
ATTACKER = "attacker@elsewhere.example"


@dataclass(frozen=True)
class Issues:
    """Two issues awaiting triage, and the triage request of each as the admin received it."""

    desk: Desk
    target: str
    other: str
    request: Received
    other_request: Received

    def retagged(self, token: str) -> Received:
        """The target's triage request with `token` in place of the real one."""
        real = self.request.subject.split("#", 1)[1].split("]", 1)[0]
        return _replace_subject(self.request, self.request.subject.replace(real, token))


def _replace_subject(request: Received, subject: str) -> Received:
    return Received(**{**request.__dict__, "subject": subject})


def _forwarded(issues: Issues) -> bytes:
    """A colleague forwards the triage request (tag kept, "Fw:") and writes a command on top."""
    raw = gmail(issues.request, "ACCEPT prescribing", from_=COLLEAGUE)
    return raw.replace(b"Subject: Re: [", b"Subject: Fw: [", 1)


def _expired(issues: Issues) -> str:
    app = issues.desk.app
    return make_token(app.settings.triage.secret, issues.target, ADMIN, app.clock() - timedelta(days=100))


def _other_token(issues: Issues) -> str:
    return issues.other_request.subject.split("#", 1)[1].split("]", 1)[0]


def _with_results(*headers: str) -> Callable[[Issues], bytes]:
    def build(issues: Issues) -> bytes:
        raw = outlook_desktop(issues.request, "ACCEPT prescribing")
        return with_extra_headers(raw, [f"Authentication-Results: {h}" for h in headers])

    return build


@dataclass(frozen=True)
class Spoof:
    build: Callable[[Issues], bytes]
    reason: str  # what the recorded reason must say
    answer_admin: bool  # the claimed sender is an admin whose real mailbox is told why
    triage: dict[str, Any] = field(default_factory=dict)


def _wrong_token(issues: Issues) -> bytes:
    forged = "aaaaa-" + "a" * 16  # well-formed, but not a MAC we made
    return outlook_desktop(issues.retagged(forged), "ACCEPT prescribing")


SPOOFS: dict[str, Spoof] = {
    "admin-wrong-token": Spoof(
        _wrong_token, "token refused: wrong issue or administrator", answer_admin=True
    ),
    "admin-expired-token": Spoof(
        lambda i: outlook_desktop(i.retagged(_expired(i)), "ACCEPT prescribing"),
        "token refused: expired",
        answer_admin=True,
    ),
    "admin-other-issues-token": Spoof(
        lambda i: outlook_desktop(i.retagged(_other_token(i)), "ACCEPT prescribing"),
        "token refused: wrong issue or administrator",
        answer_admin=True,
    ),
    "two-from-addresses": Spoof(
        lambda i: outlook_desktop(i.request, "ACCEPT prescribing", from_=f"{ADMIN}, {ATTACKER}"),
        "sender not authorised: the From header could not be parsed cleanly",
        answer_admin=False,
    ),
    "two-from-headers": Spoof(
        lambda i: with_extra_headers(
            outlook_desktop(i.request, "ACCEPT prescribing", from_=ATTACKER), [f"From: {ADMIN}"]
        ),
        "sender not authorised: the From header could not be parsed cleanly",
        answer_admin=False,
    ),
    # Mail that fails DMARC/DKIM may not be from the admin at all: no reply, so a forger
    # cannot make the group write to anyone (the rejection is logged and quarantined).
    "dmarc-fail": Spoof(
        _with_results(f"{OUR_MX}; dmarc=fail (p=reject) header.from=example.nhs.scot"),
        "dmarc=fail for example.nhs.scot",
        answer_admin=False,
        triage=ENFORCING,
    ),
    "foreign-pass-above-our-fail": Spoof(
        _with_results(
            "mx.elsewhere.example; dmarc=pass header.from=example.nhs.scot;"
            " dkim=pass header.d=example.nhs.scot",
            f"{OUR_MX}; dkim=fail header.d=example.nhs.scot; dmarc=fail header.from=example.nhs.scot",
        ),
        "dmarc=fail for example.nhs.scot",
        answer_admin=False,
        triage=ENFORCING,
    ),
    "no-results-from-our-server": Spoof(
        _with_results("mx.elsewhere.example; dmarc=pass header.from=example.nhs.scot"),
        f"no Authentication-Results header from {OUR_MX}",
        answer_admin=False,
        triage=ENFORCING,
    ),
}

# Tagged mail from someone who is plainly not an administrator (one clean From address, not on
# the allow-list) is no command at all: a colleague's reply-all must not vanish into quarantine
# (issue 9). It is threaded onto the issue as a reply, with a "command-ignored" event, and
# obeys nothing. These cases were refused and quarantined before issue 9.
NOT_ADMINS: dict[str, tuple[Callable[[Issues], bytes], str]] = {
    "non-admin-with-valid-token": (
        lambda i: outlook_desktop(i.request, "ACCEPT prescribing", from_=COLLEAGUE),
        "colleague@example.nhs.scot",
    ),
    "display-name-is-the-admin-address": (
        lambda i: outlook_desktop(i.request, "ACCEPT prescribing", from_=f'"{ADMIN}" <{ATTACKER}>'),
        ATTACKER,
    ),
    "forwarded-by-a-colleague": (_forwarded, "colleague@example.nhs.scot"),
}


def two_issues(desk: Desk) -> Issues:
    target, other = desk.submit(submission(1), submission(2))
    return Issues(desk, target, other, desk.request(target), desk.request(other))


@pytest.mark.parametrize("case", SPOOFS)
def test_spoofed_command_is_refused_logged_and_answered_to_no_outsider(
    new_desk: DeskFactory, case: str
) -> None:
    spoof = SPOOFS[case]
    desk = new_desk(triage=spoof.triage)
    issues = two_issues(desk)
    before = desk.issue(issues.target)
    queued_before = len(desk.queued())
    forged = spoof.build(issues)
    desk.deliver(forged)
    sent = desk.poll()

    # Changes nothing.
    assert desk.issue(issues.target) == before
    assert desk.events(issues.target, "command") == []
    assert desk.issue(issues.other)["status"] == "awaiting-triage"
    # Logged: an event on the issue, a quarantine record, the message in the Quarantine folder.
    [event] = desk.events(issues.target, "command-rejected")
    assert event.via == message_id(forged)
    assert spoof.reason in str(event.detail["reason"])
    [held] = desk.quarantined()
    assert held.reason.startswith("rejected command: ") and spoof.reason in held.reason
    assert desk.folder("Quarantine") == [message_id(forged)]
    assert desk.folder("INBOX") == []
    assert message_id(forged) not in desk.folder("Processed")
    # Answered only to the allow-listed administrator, and only when the From names one; nothing
    # else was even queued (a send that failed would not show at the SMTP server).
    assert {a for _, to in desk.queued()[queued_before:] for a in to} <= {ADMIN}
    if spoof.answer_admin:
        assert recipients(sent) == Counter({ADMIN: 1})
        refusal = read(sent[0])
        assert refusal.to == ADMIN
        assert "Command refused" in refusal.subject and "nothing was changed" in refusal.text
        assert spoof.reason.removeprefix("token refused: ") in refusal.text
    else:
        assert sent == []


def test_dmarc_pass_from_our_own_server_is_accepted(new_desk: DeskFactory) -> None:
    """The enforcing configuration of the DMARC cases above does accept a genuine command."""
    desk = new_desk(triage=ENFORCING)
    issues = two_issues(desk)
    genuine = _with_results(
        f"{OUR_MX}; spf=pass smtp.mailfrom=example.nhs.scot; dmarc=pass header.from=example.nhs.scot"
    )
    desk.deliver(genuine(issues))
    sent = desk.poll()
    assert desk.issue(issues.target)["status"] == "accepted"
    # The confirmation to the administrator, and (issue 9) the submitter's progress email.
    assert recipients(sent) == Counter({ADMIN: 1, "clinician1@practice.example.nhs.scot": 1})
    assert any("Done:" in read(m).subject for m in sent if ADMIN in m.rcpt_tos)
    assert desk.quarantined() == [] and desk.folder("Quarantine") == []


def test_a_colleagues_plain_reply_in_the_thread_is_never_a_command(new_desk: DeskFactory) -> None:
    """Without the tag, a non-admin's reply naming our triage Message-ID is threaded, not obeyed."""
    desk = new_desk()
    issues = two_issues(desk)
    reply = gmail(issues.request, "ACCEPT prescribing", from_=COLLEAGUE, keep_tag=False)
    desk.deliver(reply)
    sent = desk.poll()
    assert desk.issue(issues.target)["status"] == "awaiting-triage"
    assert desk.events(issues.target, "command") == []
    assert [e.via for e in desk.events(issues.target, "reply")] == [message_id(reply)]
    assert set(recipients(sent)) <= {ADMIN}


@pytest.mark.parametrize("case", NOT_ADMINS)
def test_tagged_mail_from_a_non_admin_is_threaded_and_obeys_nothing(new_desk: DeskFactory, case: str) -> None:
    build, sender = NOT_ADMINS[case]
    desk = new_desk()
    issues = two_issues(desk)
    before = desk.issue(issues.target)
    queued_before = len(desk.queued())
    mail = build(issues)
    desk.deliver(mail)
    sent = desk.poll()

    assert desk.issue(issues.target) == before
    assert desk.events(issues.target, "command") == []
    assert [e.via for e in desk.events(issues.target, "reply")] == [message_id(mail)]
    [ignored] = desk.events(issues.target, "command-ignored")
    assert ignored.via == message_id(mail) and ignored.actor == sender
    assert f"{sender} is not an administrator" in str(ignored.detail["reason"])
    assert desk.quarantined() == [] and desk.folder("Quarantine") == []
    assert desk.folder("Processed")[-1] == message_id(mail)
    # Only the administrators hear of it (the triage update on the issue's thread).
    assert {a for _, to in desk.queued()[queued_before:] for a in to} <= {ADMIN}
    assert set(recipients(sent)) <= {ADMIN}
