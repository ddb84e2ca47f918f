"""Classification: every machine rule alone (a hit and a near miss), then the human paths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from mailproc.intake import classify as c
from mailproc.intake import machine_marks
from mailproc.intake.classify import ClassifyContext, Kind, classify, machine_reason, strip_reply_prefixes
from mailproc.intake.inbound import Inbound
from mailproc.intake.parsing.parser import parse
from tests.support.mail import ADMIN, GROUP, Attachment, make_dsn, make_message

CTX = ClassifyContext(group_address=GROUP, admins=(ADMIN,), reference_prefix="IFG")
REF = "IFG-2026-0042"


@dataclass
class FakeLookup:
    """An in-memory ThreadLookup: which issues exist and which Message-IDs belong to them."""

    issues: set[str] = field(default_factory=lambda: {REF})
    message_issues: dict[str, str] = field(default_factory=dict)
    own_ids: set[str] = field(default_factory=set)
    triage_ids: dict[str, str] = field(default_factory=dict)
    asked: list[tuple[str, ...]] = field(default_factory=list)

    def issue_for_reference(self, reference: str) -> str | None:
        return reference if reference in self.issues else None

    def issue_for_message_ids(self, ids: Sequence[str]) -> str | None:
        self.asked.append(tuple(ids))
        return next((self.message_issues[i] for i in reversed(ids) if i in self.message_issues), None)

    def is_own_message_id(self, message_id: str) -> bool:
        return message_id in self.own_ids

    def is_triage_message_id(self, message_ids: Sequence[str]) -> str | None:
        return next((self.triage_ids[i] for i in message_ids if i in self.triage_ids), None)


def msg(**kwargs: Any) -> Inbound:
    return parse(make_message(**kwargs))


def headers(*pairs: tuple[str, str]) -> Inbound:
    return msg(headers=list(pairs))


# --- machine rules, each alone -----------------------------------------------------------------

# (predicate, message that must match, expected detail, near miss that must not match)
RULE_CASES: list[tuple[c.MachineCheck, Inbound, str, Inbound]] = [
    (c.own_address, msg(from_=f"Group <{GROUP.upper()}>"), "", msg(from_="group@example.org")),
    (
        c.auto_submitted,
        headers(("Auto-Submitted", "auto-replied")),
        "auto-replied",
        headers(("Auto-Submitted", "no")),
    ),
    (
        c.auto_submitted,
        headers(("Auto-Submitted", "Auto-Generated (failure)")),
        "auto-generated",
        headers(("Auto-Submitted", "")),
    ),
    (c.report_content, parse(make_dsn(from_="Ops <ops@example.org>")), "multipart/report", msg()),
    (c.null_sender, headers(("Return-Path", "<>")), "<>", headers(("Return-Path", "<a@example.org>"))),
    (c.null_sender, headers(("Return-Path", "< >")), "<>", headers(("Return-Path", "<@>"))),
    (c.failed_recipients, headers(("X-Failed-Recipients", "x@example.org")), "", headers(("X-Failed", "1"))),
    (c.autoresponder_header, headers(("X-Autoreply", "yes")), "X-Autoreply", headers(("X-Autoreply", "no"))),
    (
        c.autoresponder_header,
        headers(("X-Autorespond", "")),
        "X-Autorespond",
        headers(("X-Autoresponse-To", "x")),
    ),
    (
        c.autoresponder_header,
        headers(("X-Autoresponder", "vacation")),
        "X-Autoresponder",
        headers(("X-Autoresponder", "false")),
    ),
    (
        c.exchange_auto_reply,
        headers(("X-Auto-Response-Suppress", "All"), ("X-MS-Exchange-Inbox-Rules-Loop", "a@example.org")),
        "",
        headers(("X-Auto-Response-Suppress", "All")),
    ),
    (
        c.exchange_generated,
        headers(("X-MS-Exchange-Generated-Message-Source", "Mailbox Rules Agent")),
        "Mailbox Rules Agent",
        headers(("X-MS-Exchange-Organization-AuthSource", "x")),
    ),
    (c.exchange_ndr, headers(("X-MS-Exchange-Message-Is-Ndr", "")), "", headers(("X-MS-Has-Attach", ""))),
    (c.precedence, headers(("Precedence", "bulk")), "bulk", headers(("Precedence", "first-class"))),
    (c.precedence, headers(("Precedence", "junk")), "junk", headers(("Precedence", "normal"))),
    (c.precedence, headers(("Precedence", "list")), "list", headers(("Importance", "list"))),
    (c.precedence, headers(("Precedence", "auto_reply")), "auto_reply", headers(("Priority", "urgent"))),
    (c.list_header, headers(("List-Id", "<gp.example.org>")), "List-Id", headers(("X-Listed", "yes"))),
    (
        c.list_header,
        headers(("List-Unsubscribe", "<mailto:u@example.org>")),
        "List-Unsubscribe",
        headers(("Unsubscribe-Me", "no")),
    ),
    (
        c.list_header,
        headers(("X-Mailman-Version", "2.1")),
        "X-Mailman-Version",
        headers(("X-Mailer", "Outlook")),
    ),
    (
        c.machine_sender,
        msg(from_="MAILER-DAEMON@mx.example.org"),
        "mailer-daemon",
        msg(from_="mailer@example.org"),
    ),
    (
        c.machine_sender,
        msg(from_="MAILER-DAEMON (Mail Delivery System)"),
        "mailer-daemon",
        msg(from_="daemon.smith@example.org"),
    ),
    (c.machine_sender, msg(from_="postmaster@example.org"), "postmaster", msg(from_="post@example.org")),
    (
        c.machine_sender,
        msg(from_="post_master@example.org"),
        "post_master",
        msg(from_="master.post@example.org"),
    ),
    (
        c.machine_sender,
        msg(from_="No Reply <no-reply@example.org>"),
        "no-reply",
        msg(from_="reply@example.org"),
    ),
    (c.machine_sender, msg(from_="noreply@example.org"), "noreply", msg(from_="norman.reply@example.org")),
    (c.machine_sender, msg(from_="do-not-reply@example.org"), "do-not-reply", msg(from_="donna@example.org")),
    (c.machine_sender, msg(from_="bounces+x=y@example.org"), "bounces+x=y", msg(from_="bouncer@example.org")),
    (c.machine_sender, msg(from_="bounce@example.org"), "bounce", msg(from_="bounce.ward@example.org")),
    (
        c.auto_reply_subject,
        msg(subject="Automatic reply: Referral"),
        "Automatic reply:",
        msg(subject="Automatic replies are off"),
    ),
    (
        c.auto_reply_subject,
        msg(subject="Auto-Reply: Referral"),
        "Auto-Reply:",
        msg(subject="Re: Auto-Reply: Referral"),
    ),
    (c.auto_reply_subject, msg(subject="Auto reply: x"), "Auto reply:", msg(subject="Autumn reply: x")),
    (
        c.auto_reply_subject,
        msg(subject="Out of Office: x"),
        "Out of Office:",
        msg(subject="Out of office cover for Friday"),
    ),
    (
        c.auto_reply_subject,
        msg(subject="Abwesenheitsnotiz: x"),
        "Abwesenheitsnotiz:",
        msg(subject="Abwesenheit Dr X"),
    ),
    (
        c.auto_reply_subject,
        msg(subject="Read: Referral"),
        "Read:",
        msg(subject="Reading list for the meeting"),
    ),
    (
        c.auto_reply_subject,
        msg(subject="Not read: Referral"),
        "Not read:",
        msg(subject="Not ready: referral"),
    ),
    (
        c.bounce_subject,
        msg(subject="Undeliverable: Referral"),
        "Undeliverable:",
        msg(subject="Undeliverable prescriptions"),
    ),
    (
        c.bounce_subject,
        msg(subject="Delivery Status Notification (Failure)"),
        "Delivery Status Notification",
        msg(subject="Delivery status of the new ECG machine"),
    ),
    (
        c.bounce_subject,
        msg(subject="Returned mail: see transcript for details"),
        "Returned mail:",
        msg(subject="Returned mail trolley on ward 3"),
    ),
    (
        c.bounce_subject,
        msg(subject="Mail delivery failed: returning message to sender"),
        "Mail delivery failed",
        msg(subject="Medication delivery failed twice"),
    ),
    (
        c.bounce_subject,
        msg(subject="Undelivered Mail Returned to Sender"),
        "Undelivered Mail Returned to Sender",
        msg(subject="Undelivered discharge letters"),
    ),
    (
        c.bounce_subject,
        msg(subject="failure notice"),
        "failure notice",
        msg(subject="failure noticed in results"),
    ),
]


@pytest.mark.parametrize(("predicate", "hit", "detail", "miss"), RULE_CASES)
def test_machine_rule_alone(predicate: c.MachineCheck, hit: Inbound, detail: str, miss: Inbound) -> None:
    assert predicate(hit, CTX) == detail
    assert predicate(miss, CTX) is None


@pytest.mark.parametrize(("predicate", "hit", "detail", "miss"), RULE_CASES)
def test_every_rule_hit_is_automatic_and_every_near_miss_is_not(
    predicate: c.MachineCheck, hit: Inbound, detail: str, miss: Inbound
) -> None:
    assert classify(hit, CTX, FakeLookup()).kind is Kind.AUTOMATIC
    assert machine_reason(miss, CTX) is None
    assert classify(miss, CTX, FakeLookup()).kind is Kind.NEW


def test_every_rule_is_in_the_table() -> None:
    # The weakly marked machines are tested alone in tests/test_machine_marks.py.
    marks = {machine_marks.away_subject, machine_marks.challenge_response, machine_marks.spam_marked}
    tested = {case[0] for case in RULE_CASES} | marks
    assert {rule.predicate for rule in c.MACHINE_RULES} == tested
    assert all(rule.kind is Kind.AUTOMATIC for rule in c.MACHINE_RULES)


def test_machine_reason_names_the_condition() -> None:
    assert machine_reason(headers(("Auto-Submitted", "auto-replied")), CTX) == "auto-submitted: auto-replied"
    assert machine_reason(msg(from_=GROUP), CTX) == "loop: from our own address"
    assert machine_reason(msg(), CTX) is None


def test_disposition_notification_part_is_a_report() -> None:
    mdn = msg(
        attachments=[Attachment(None, b"Final-Recipient: rfc822; a@b\n", "message/disposition-notification")]
    )
    assert c.report_content(mdn, CTX) == "message/disposition-notification"


def test_forwarded_bounce_is_not_a_bounce() -> None:
    """A person forwarding a DSN as an attachment is still a person."""
    forwarded = msg(
        body="What does this bounce mean?\n",
        attachments=[Attachment("bounce.eml", make_dsn(), "message/rfc822")],
    )
    assert machine_reason(forwarded, CTX) is None


def test_our_own_message_id_coming_back_is_a_loop() -> None:
    looped = msg(message_id="<ack-1@interface.example>")
    route = classify(looped, CTX, FakeLookup(own_ids={"<ack-1@interface.example>"}))
    assert (route.kind, route.reason, route.suppress_ack) == (
        Kind.AUTOMATIC,
        "loop: our own Message-ID",
        True,
    )


def test_x_auto_response_suppress_alone_only_suppresses_the_ack() -> None:
    route = classify(headers(("X-Auto-Response-Suppress", "DR, OOF, AutoReply")), CTX, FakeLookup())
    assert (route.kind, route.suppress_ack) == (Kind.NEW, True)


# --- human paths ---------------------------------------------------------------------------------


def test_new_message() -> None:
    route = classify(msg(), CTX, FakeLookup())
    assert route == c.Classification(Kind.NEW, "new", None, suppress_ack=False)


def test_untrusted_sender_is_new_without_ack() -> None:
    route = classify(msg(from_="a@example.org, b@example.org"), CTX, FakeLookup())
    assert (route.kind, route.suppress_ack) == (Kind.NEW, True)
    assert "untrusted" in route.reason


TAGGED = f"Re: [{REF} #k3f1-abcdefghijklmnop] Discharge"


@pytest.mark.parametrize(
    "from_",
    [ADMIN, f"Admin <{ADMIN}>", f"{ADMIN}, attacker@elsewhere.example"],
    ids=["admin", "admin-with-name", "admin-among-two"],
)
def test_triage_tag_naming_an_admin_is_a_command_for_triage_to_judge(from_: str) -> None:
    route = classify(msg(subject=TAGGED, from_=from_), CTX, FakeLookup())
    assert (route.kind, route.reference, route.command_ignored) == (Kind.COMMAND, REF, False)


def test_triage_tag_from_a_non_admin_is_a_reply_whose_command_is_ignored() -> None:
    """Issue 9: a colleague's reply-all is threaded, not quarantined as a refused command."""
    route = classify(msg(subject=TAGGED, from_="colleague@example.nhs.scot"), CTX, FakeLookup())
    assert (route.kind, route.reference, route.command_ignored) == (Kind.REPLY, REF, True)
    unknown = classify(msg(subject=TAGGED, from_="colleague@example.nhs.scot"), CTX, FakeLookup(issues=set()))
    assert (unknown.kind, unknown.command_ignored) == (Kind.NEW, False)


def test_admin_reply_to_triage_request_without_tag_is_a_command() -> None:
    lookup = FakeLookup(triage_ids={"<triage-1@example.nhs.scot>": REF})
    reply = msg(from_=ADMIN.upper(), subject="Re: Discharge", in_reply_to="<triage-1@example.nhs.scot>")
    route = classify(reply, CTX, lookup)
    assert (route.kind, route.reference) == (Kind.COMMAND, REF)


def test_non_admin_reply_to_triage_request_is_not_a_command() -> None:
    lookup = FakeLookup(triage_ids={"<triage-1@x>": REF}, message_issues={"<triage-1@x>": REF})
    route = classify(msg(in_reply_to="<triage-1@x>"), CTX, lookup)
    assert (route.kind, route.reference) == (Kind.REPLY, REF)


def test_spoofed_admin_with_ambiguous_from_is_not_a_command() -> None:
    lookup = FakeLookup(triage_ids={"<triage-1@x>": REF})
    route = classify(msg(from_=f"{ADMIN} <attacker@example.org>", in_reply_to="<triage-1@x>"), CTX, lookup)
    assert route.kind is Kind.NEW


def test_subject_reference_of_an_existing_issue_is_a_reply() -> None:
    route = classify(msg(subject=f"RE: AW: [{REF.lower()}] Discharge letters"), CTX, FakeLookup())
    assert (route.kind, route.reference) == (Kind.REPLY, REF)


def test_subject_reference_of_an_unknown_issue_is_new() -> None:
    route = classify(msg(subject="Re: [IFG-2026-9999] Discharge"), CTX, FakeLookup())
    assert route.kind is Kind.NEW


def test_thread_headers_name_the_issue() -> None:
    lookup = FakeLookup(message_issues={"<ack-7@example.nhs.scot>": REF})
    reply = msg(in_reply_to="<ack-7@example.nhs.scot>", references=["<orig@x>", "<ack-7@example.nhs.scot>"])
    route = classify(reply, CTX, lookup)
    assert (route.kind, route.reference) == (Kind.REPLY, REF)
    assert lookup.asked == [("<orig@x>", "<ack-7@example.nhs.scot>")]  # nearest ancestor last


def test_automatic_wins_over_command() -> None:
    out_of_office = msg(
        from_=ADMIN,
        subject=f"Automatic reply: [{REF} #k3f1-abcdefghijklmnop] Discharge",
        headers=[("Auto-Submitted", "auto-replied")],
    )
    assert classify(out_of_office, CTX, FakeLookup()).kind is Kind.AUTOMATIC


# --- subjects ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Discharge", "Discharge"),
        ("RE: re: Fwd: FW: Discharge", "Discharge"),
        ("AW: WG: SV: VS: Antw: TR: R: RIF: Discharge", "Discharge"),
        ("Re[2]: Re(3): Re^4: Discharge", "Discharge"),
        ("Re : Discharge", "Discharge"),
        ("回复：Re：Discharge", "回复：Re：Discharge"),
        ("Re：Discharge", "Discharge"),
        ("Referral from Dr X", "Referral from Dr X"),
        ("Re:", ""),
        ("Fwd:Re:[IFG-2026-0042] x", "[IFG-2026-0042] x"),
    ],
)
def test_strip_reply_prefixes(subject: str, expected: str) -> None:
    assert strip_reply_prefixes(subject) == expected
