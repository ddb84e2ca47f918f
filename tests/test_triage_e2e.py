"""Triage by reply, end to end (issue "Triage by reply"): real IMAP in, real SMTP out.

Every command email here is a reply to the email we really sent (read back from the outbox),
written the way Outlook (desktop and mobile), Gmail or Apple Mail write replies: new text on
top, our email quoted below it, cheat-sheet and all. The spoofing cases are in
test_triage_spoof.py.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from mailproc.store.models import utcnow
from tests.support.mail import ADMIN, CLINICIAN, GROUP, Attachment, make_message, message_id
from tests.support.smtpserver import Delivered
from tests.support.triagedesk import (
    STYLES,
    Desk,
    DeskFactory,
    Received,
    Style,
    apple_mail,
    gmail,
    outlook_desktop,
    outlook_mobile,
    read,
    recipients,
    submission,
    with_extra_headers,
)

LEAD = "lead@example.nhs.scot"
SUBMITTER_1 = "clinician1@practice.example.nhs.scot"
SUBMITTER_2 = "clinician2@practice.example.nhs.scot"
LIST_ADDRESSES = ("gp-subgroup@example.nhs.scot", "cmg@example.nhs.scot", "cmg2@example.nhs.scot")
UNCHANGED = {"status": "awaiting-triage", "area": None, "priority": "medium", "outcome": None}


def only(messages: list[Delivered], to: str) -> Received:
    """The one message sent to `to`, read as its recipient sees it."""
    mine = [m for m in messages if to in m.rcpt_tos]
    assert len(mine) == 1, f"expected one email to {to}, got {len(mine)}: {recipients(messages)}"
    return read(mine[0])


def assert_state(desk: Desk, reference: str, **expected: object) -> None:
    actual = desk.issue(reference)
    assert {name: actual[name] for name in expected} == expected, reference


def keyword_events(desk: Desk, reference: str) -> list[str]:
    return [str(e.detail["keyword"]) for e in desk.events(reference, "command")]


# --- must show 1: ACCEPT by reply, through IMAP, `mailproc poll` and SMTP ---------------------


def test_accept_by_reply_polled_by_the_cli(new_desk: DeskFactory, db_url: str) -> None:
    desk = new_desk(db_url)
    tagged, untagged = desk.submit(submission(1), submission(2))
    first, second = desk.request(tagged), desk.request(untagged)
    assert first.subject.startswith(f"[{tagged} #") and first.message_id.startswith(f"<{tagged}.triage-")

    reply = outlook_desktop(first, "ACCEPT prescribing")
    # The second client dropped the subject tag; only our Message-ID in References is left.
    tagless = gmail(second, "ACCEPT prescribing", keep_tag=False)
    assert f"[{untagged}" not in tagless.split(b"\r\n\r\n", 1)[0].decode()
    desk.deliver(reply, tagless)
    sent = desk.poll_cli()

    for reference, command in ((tagged, reply), (untagged, tagless)):
        assert_state(desk, reference, status="accepted", area="prescribing")
        [event] = desk.events(reference, "command")
        assert (event.actor, event.via, event.detail["keyword"]) == (ADMIN, message_id(command), "ACCEPT")
    # Exactly one confirmation per command email, to the administrator, and one progress
    # email per accepted issue to its submitter (issue 9).
    assert recipients(sent) == Counter({ADMIN: 2, SUBMITTER_1: 1, SUBMITTER_2: 1})
    confirmations = {read(m).in_reply_to: read(m) for m in sent if ADMIN in m.rcpt_tos}
    for reference, command in ((tagged, reply), (untagged, tagless)):
        done = confirmations[message_id(command)]
        assert done.subject.startswith(f"[{reference} #") and "Done:" in done.subject
        assert "ACCEPT: accepted (area prescribing)" in done.text
    assert desk.folder("INBOX") == []
    assert set(desk.folder("Processed")) >= {message_id(reply), message_id(tagless)}
    assert desk.folder("Quarantine") == []


@pytest.mark.parametrize("style", STYLES)
def test_each_mail_client_style_is_read_and_the_quoted_cheat_sheet_never_runs(desk: Desk, style: str) -> None:
    write: Style = STYLES[style]
    commanded, thanked = desk.submit(submission(1), submission(2))
    desk.deliver(
        write(desk.request(commanded), "ACCEPT prescribing\nPRIORITY high"),
        # Nothing but thanks above the quote: the quoted cheat-sheet must not be read as commands.
        write(desk.request(thanked), "Thanks - I will bring this to the next meeting."),
    )
    sent = desk.poll()

    assert_state(desk, commanded, status="accepted", area="prescribing", priority="high", outcome=None)
    assert keyword_events(desk, commanded) == ["ACCEPT", "PRIORITY"]
    assert_state(desk, thanked, **UNCHANGED)
    assert keyword_events(desk, thanked) == []
    assert recipients(sent) == Counter({ADMIN: 2, SUBMITTER_1: 1})  # the submitter hears of ACCEPT
    assert "Taken on:" in only(sent, SUBMITTER_1).subject
    by_issue = {read(m).subject.split(" ", 1)[0].lstrip("["): read(m) for m in sent if ADMIN in m.rcpt_tos}
    done, error = by_issue[commanded], by_issue[thanked]
    applied = [line for line in done.text.splitlines() if line.startswith("- ")]
    assert applied == ["- ACCEPT: accepted (area prescribing)", "- PRIORITY: priority set to high"]
    assert "Not applied" in error.subject and "no command found" in error.text


# --- must show 3: CLOSE tells the submitter and every list address exactly once ---------------


@pytest.mark.parametrize(
    ("submitter", "tables"),
    [
        pytest.param(f"Dr Clinician 1 <{SUBMITTER_1}>", {}, id="outside-submitter"),
        pytest.param(
            CLINICIAN,  # a member of the group, and so on the "members" outcome list too
            {
                "distribution": {"outcomes": ["gp-subgroup", "cmg", "members"]},
                "lists__cmg": {
                    "addresses": [
                        "cmg@example.nhs.scot",
                        "cmg2@example.nhs.scot",
                        "GP-Subgroup@example.nhs.scot",
                    ]
                },
            },
            id="submitter-and-lists-overlap",
        ),
    ],
)
def test_close_sends_the_outcome_once_to_the_submitter_and_each_list_address(
    new_desk: DeskFactory, submitter: str, tables: dict[str, dict[str, Any]]
) -> None:
    desk = new_desk(**tables)
    submitter_address = submitter.rpartition("<")[2].rstrip(">")
    [ref] = desk.submit(submission(1, sender=submitter))
    outcome = "Pharmacy now sends the medication list with every discharge letter."
    desk.deliver(apple_mail(desk.request(ref), f"CLOSE {outcome}"))
    sent = desk.poll()
    assert recipients(sent) == Counter({ADMIN: 1})  # the outcome waits for the hold window
    sent += desk.past_hold()

    assert_state(desk, ref, status="closed", outcome=outcome)
    assert recipients(sent) == Counter({submitter_address: 1, **dict.fromkeys(LIST_ADDRESSES, 1), ADMIN: 1})
    to_submitter = only(sent, submitter_address)
    to_lists = [only(sent, address) for address in LIST_ADDRESSES]
    for message in (to_submitter, *to_lists):
        assert "Outcome:" in message.subject and outcome in message.text
    # One message per recipient (issue 9): nobody's copy shows any other address.
    for address in (submitter_address, *LIST_ADDRESSES):
        [raw] = [m.data.lower() for m in sent if address in m.rcpt_tos]
        others = {submitter_address, *LIST_ADDRESSES} - {address}
        assert only(sent, address).to == address
        assert not any(other.encode() in raw for other in others)
    assert "closed; the outcome goes to the submitter and 3 list address(es)" in only(sent, ADMIN).text


# --- must show 4 (and 5, all or nothing): a bad command email changes nothing ------------------


@pytest.mark.parametrize(
    ("body", "line", "named"),
    [
        pytest.param(
            "ACCPET prescribing", 1, ['"ACCPET" is not a keyword', "did you mean ACCEPT?"], id="misspelt"
        ),
        pytest.param(
            "ACCEPT prescribing\nFROBNICATE now", 2, ['"FROBNICATE" is not a keyword'], id="unknown"
        ),
        pytest.param(
            "ACCEPT prescribing\nDUPLICATE IFG-2026-9999", 2, ["there is no issue IFG-2026-9999"], id="atomic"
        ),
        pytest.param(
            "ACCEPT prescribing\nINFO Which ward discharged them?\nDUPLICATE IFG-2026-9999",
            3,
            ["there is no issue IFG-2026-9999"],
            id="atomic-with-queued-emails",
        ),
    ],
)
def test_a_bad_command_email_changes_nothing_and_the_error_names_the_line(
    desk: Desk, body: str, line: int, named: list[str]
) -> None:
    [ref] = desk.submit(submission(1))
    command = outlook_mobile(desk.request(ref), body)
    desk.deliver(command)
    sent = desk.poll()

    assert_state(desk, ref, **UNCHANGED)
    assert keyword_events(desk, ref) == []
    [event] = desk.events(ref, "command-error")
    assert event.via == message_id(command)
    # One error reply, to the administrator only: the rolled-back INFO's email is never sent.
    assert recipients(sent) == Counter({ADMIN: 1})
    error = only(sent, ADMIN)
    assert error.in_reply_to == message_id(command)
    assert f"Nothing was applied to {ref}" in error.text
    assert f"Line {line} (" in error.text, error.text
    offending = body.splitlines()[line - 1]
    assert offending in error.text
    for words in named:
        assert words in error.text
    assert desk.folder("Processed")[-1] == message_id(command)


# --- must show 5 -----------------------------------------------------------------------------


def test_replaying_a_command_email_does_nothing_the_second_time(desk: Desk) -> None:
    [ref] = desk.submit(submission(1))
    command = gmail(desk.request(ref), "NOTE Rang the ward manager; a fix is planned.")
    desk.deliver(command)
    assert recipients(desk.poll()) == Counter({ADMIN: 1})
    assert keyword_events(desk, ref) == ["NOTE"]

    # The same bytes appended again, then the same Message-ID re-delivered with another hop.
    redelivered = with_extra_headers(
        command, ["Received: from relay.example.nhs.scot by mx; Tue, 3 Mar 2026"]
    )
    for replay in (command, redelivered):
        desk.deliver(replay)
        assert desk.poll() == []
        assert keyword_events(desk, ref) == ["NOTE"]
    assert desk.folder("Processed").count(message_id(command)) == 3
    assert desk.folder("INBOX") == [] and desk.folder("Quarantine") == []


def test_a_closed_issue_refuses_every_command_but_note(desk: Desk) -> None:
    [ref] = desk.submit(submission(1))
    desk.deliver(outlook_desktop(desk.request(ref), "CLOSE Fixed: the ward now sends the list."))
    desk.poll()
    assert_state(desk, ref, status="closed")
    confirmation = desk.request(ref, "command-confirmation")

    for body in ("PRIORITY high", "INFO Which ward was it?", "ACCEPT prescribing"):
        desk.deliver(outlook_desktop(confirmation, body))
        sent = desk.poll()
        assert recipients(sent) == Counter({ADMIN: 1}), body  # the submitter is not asked anything
        error = only(sent, ADMIN)
        assert "Not applied" in error.subject
        assert f"{ref} is closed; only NOTE, TITLE, PUBLISH, UNPUBLISH (or UNDO within 24 hours) apply" in (
            " ".join(error.text.split())
        )
        assert_state(desk, ref, status="closed", priority="medium")

    desk.deliver(outlook_desktop(desk.request(ref, "command-confirmation"), "NOTE Pharmacy confirmed."))
    sent = desk.poll()
    assert "NOTE: note added" in only(sent, ADMIN).text
    assert keyword_events(desk, ref) == ["CLOSE", "NOTE"]
    assert_state(desk, ref, status="closed")


def test_undo_reverts_only_the_last_command_of_that_admin_within_24_hours(new_desk: DeskFactory) -> None:
    desk = new_desk(triage={"admins": [ADMIN, LEAD]})
    [ref] = desk.submit(submission(1))
    desk.deliver(outlook_desktop(desk.request(ref), "ACCEPT prescribing"))
    desk.poll()
    desk.deliver(gmail(desk.request(ref, recipient=LEAD), "PRIORITY high", from_=f"Lead <{LEAD}>"))
    desk.poll()
    assert_state(desk, ref, status="accepted", area="prescribing", priority="high")

    desk.deliver(outlook_desktop(desk.request(ref, "command-confirmation"), "UNDO"))
    sent = desk.poll()
    assert "UNDO: undid ACCEPT" in only(sent, ADMIN).text
    # The administrator's ACCEPT is undone; the lead's later PRIORITY stands.
    assert_state(desk, ref, status="awaiting-triage", area=None, priority="high")

    # A day and an hour later the lead's PRIORITY is out of reach.
    later = utcnow() + timedelta(hours=25)
    desk.app = dataclasses.replace(desk.app, clock=lambda: later)
    lead_confirmation = desk.request(ref, "command-confirmation", recipient=LEAD)
    desk.deliver(gmail(lead_confirmation, "UNDO", from_=f"Lead <{LEAD}>"))
    sent = desk.poll()
    assert "no command on" in only(sent, LEAD).text and "last 24 hours" in only(sent, LEAD).text
    assert_state(desk, ref, status="awaiting-triage", area=None, priority="high")


def test_info_asks_the_submitter_and_their_reply_returns_the_issue_to_triage(desk: Desk) -> None:
    [ref] = desk.submit(submission(1))
    question = "Which ward discharged these patients, and since when?"
    desk.deliver(outlook_mobile(desk.request(ref), f"INFO {question}"))
    sent = desk.poll()
    assert desk.issue(ref)["status"] == "info-requested"
    assert recipients(sent) == Counter({SUBMITTER_1: 1, ADMIN: 1})
    asked = only(sent, SUBMITTER_1)
    assert question in asked.text and f"[{ref}]" in asked.subject and "#" not in asked.subject

    answer = outlook_desktop(asked, "Ward 5, since January.", from_=f"Dr Clinician 1 <{SUBMITTER_1}>")
    desk.deliver(answer)
    sent = desk.poll()
    assert desk.issue(ref)["status"] == "awaiting-triage"
    assert [e.via for e in desk.events(ref, "reply")] == [message_id(answer)]
    assert recipients(sent) == Counter({ADMIN: 1})  # no second acknowledgement to the submitter
    update = only(sent, ADMIN)
    assert update.subject.startswith(f"[{ref} #") and "Update:" in update.subject
    assert "Ward 5, since January." in update.text

    # The update carries a token: the administrator can triage by replying to it.
    desk.deliver(apple_mail(desk.request(ref, "triage-update"), "ACCEPT prescribing"))
    desk.poll()
    assert desk.issue(ref)["status"] == "accepted"


def test_delegate_emails_the_groups_contact_with_the_due_date(desk: Desk) -> None:
    [ref] = desk.submit(submission(1))
    due = date.today() + timedelta(days=30)
    desk.deliver(gmail(desk.request(ref), f"DELEGATE prescribing by {due.isoformat()}"))
    sent = desk.poll()
    assert "prescribing.lead@example.nhs.scot" not in recipients(sent)  # held for UNDO's window
    sent += desk.past_hold()
    assert_state(desk, ref, status="delegated", delegated_to="prescribing", due_date=due)
    assert recipients(sent) == Counter({"prescribing.lead@example.nhs.scot": 1, ADMIN: 1, SUBMITTER_1: 1})
    assert "Prescribing Operational Group" in only(sent, SUBMITTER_1).text  # progress (issue 9)
    delegated = only(sent, "prescribing.lead@example.nhs.scot")
    assert "Prescribing Operational Group" in delegated.subject
    assert f"Due:       {due:%A} {due.day} {due:%B %Y}" in delegated.text


def test_escalate_emails_the_escalation_contact(desk: Desk) -> None:
    [ref] = desk.submit(submission(1))
    desk.deliver(outlook_desktop(desk.request(ref), "ESCALATE Harm reported by two practices."))
    sent = desk.poll() + desk.past_hold()
    assert desk.issue(ref)["status"] == "escalated"
    assert recipients(sent) == Counter({"governance@example.nhs.scot": 1, ADMIN: 1})
    escalated = only(sent, "governance@example.nhs.scot")
    assert "Clinical Governance Committee" in escalated.subject
    assert "Why: Harm reported by two practices." in escalated.text


def test_duplicate_tells_the_submitter(desk: Desk) -> None:
    original, repeat = desk.submit(submission(1), submission(2))
    desk.deliver(apple_mail(desk.request(repeat), f"DUPLICATE {original.lower()}"))
    sent = desk.poll()
    assert desk.issue(repeat)["status"] == "duplicate"
    assert_state(desk, original, **UNCHANGED)
    assert recipients(sent) == Counter({SUBMITTER_2: 1, ADMIN: 1})
    told = only(sent, SUBMITTER_2)
    assert f"Joined with {original}" in told.subject and original in told.text


def test_cli_triage_and_issue_listing(desk: Desk) -> None:
    first, second, third = desk.submit(submission(1), submission(2), submission(3))

    bad = desk.ws.cli("triage", first, "ACCPET", "x", check=False)
    assert bad.returncode == 2, bad
    assert "ACCPET" in bad.stderr and "did you mean ACCEPT?" in bad.stderr
    assert_state(desk, first, **UNCHANGED)

    good = desk.ws.cli("triage", first, "ACCEPT", "prescribing")
    assert f"{first}: accepted (area prescribing) (status accepted)" in good.stdout
    assert_state(desk, first, status="accepted", area="prescribing")

    listed = desk.ws.cli("issues", "list", "--status", "awaiting-triage").stdout.splitlines()
    assert [line.split()[0] for line in listed] == [second, third]


def test_commands_are_read_from_the_first_text_part_only(desk: Desk) -> None:
    [ref] = desk.submit(submission(1))
    request = desk.request(ref)
    # The administrator forwards the pharmacist's email as an attachment; it holds a CLOSE.
    enclosed = make_message(
        from_="Pharmacist <pharmacist@example.nhs.scot>",
        to=ADMIN,
        subject=f"RE: {request.subject}",
        body="CLOSE Nothing to do here.\n",
        message_id="<pharmacist-1@example.nhs.scot>",
    )
    command = make_message(
        from_=f"Jane Admin <{ADMIN}>",
        to=GROUP,
        subject=f"RE: {request.subject}",
        body="NOTE The pharmacist's view is attached.\n",
        attachments=[Attachment("pharmacist.eml", enclosed, "message/rfc822")],
        in_reply_to=request.message_id,
        references=[request.message_id],
    )
    desk.deliver(command)
    sent = desk.poll()
    assert keyword_events(desk, ref) == ["NOTE"]
    assert_state(desk, ref, **UNCHANGED)
    assert recipients(sent) == Counter({ADMIN: 1})
    assert "NOTE: note added" in only(sent, ADMIN).text
