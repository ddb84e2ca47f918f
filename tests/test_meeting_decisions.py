"""A meeting from agenda to minutes through the real IMAP and SMTP servers (issue 9, must show 1,
2 and 4's reply-all): the agenda with its invitation to each member and administrator once, the
administrator's decisions reply applied all or nothing, the minutes to each list address once.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest
from sqlalchemy import select

from mailproc.governance import meetings
from mailproc.governance.meetings import minutes as meeting_minutes
from mailproc.intake import runner
from mailproc.outbound import outbox
from mailproc.store import meetings as store
from mailproc.store.db import transaction
from mailproc.store.models import Issue, Meeting, Message, OutboxMessage
from mailproc.triage.tokens import make_token
from tests.support.mail import ADMIN, read_email
from tests.support.smtpserver import Delivered
from tests.support.triagedesk import Desk, DeskFactory, Received, apple_mail, read, recipients, submission

GP = "gp-subgroup@example.nhs.scot"
SHARED = "shared.lead@example.nhs.scot"  # on both minutes lists
CMG = ("cmg@example.nhs.scot", "cmg2@example.nhs.scot", SHARED)
MEMBER = "a.example@example.nhs.scot"
SUBMITTERS = tuple(f"clinician{n}@practice.example.nhs.scot" for n in (1, 2, 3))
TABLES: dict[str, Any] = {
    "lists__gp-subgroup": {"addresses": [GP, SHARED]},
    "lists__cmg": {"addresses": list(CMG)},
    "distribution": {"outcomes": ["gp-subgroup"], "agendas": ["members", "gp-subgroup"],
                     "minutes": ["gp-subgroup", "cmg"]},
}  # fmt: skip
DAY = date.today() + timedelta(days=14)
DUE = DAY + timedelta(days=60)


def _scheduled_meeting(desk: Desk) -> tuple[list[str], int]:
    """Three issues accepted and scheduled to one prescribing meeting by triage replies."""
    refs = desk.submit(submission(1), submission(2), submission(3))
    for ref in refs:
        body = f"ACCEPT prescribing\nMEETING {DAY.isoformat()}"
        desk.deliver(apple_mail(desk.request(ref), body, seed=ref))
    desk.poll()
    with desk.app.factory() as session:
        ids = {i.meeting_id for i in session.scalars(select(Issue))}
    [meeting_id] = ids
    assert meeting_id is not None
    return refs, meeting_id


def _send_agenda(desk: Desk, meeting_id: int) -> list[Delivered]:
    desk.mark()
    with transaction(desk.app.factory) as session:
        meetings.send_agenda(desk.app, session, store.get_meeting(session, meeting_id))
    runner.deliver(desk.app)
    return desk.sent()


def _admins_agenda(desk: Desk) -> Received:
    with desk.app.factory() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "agenda")).all()
        [mine] = [r for r in rows if ADMIN in {x.address for x in r.recipients}]
        return Received.from_bytes(outbox.message_bytes(mine) or b"")


def _decisions(refs: list[str], close_keyword: str = "CLOSE") -> str:
    return (
        "ATTENDEES: Dr A Example, Dr B Sample\nAPOLOGIES: Dr C Absent\n"
        f"{refs[0]}: {close_keyword} The discharge letter will list every medication change\n"
        "from 1 March.\n"
        f"{refs[1]}: DELEGATE prescribing by {DUE.isoformat()}\n"
        f"{refs[2]}: NOTE Discussed; pharmacy to bring audit data next time"
    )


def test_agenda_decisions_reply_and_minutes_each_reach_everyone_once(new_desk: DeskFactory) -> None:
    desk = new_desk(**TABLES)
    refs, meeting_id = _scheduled_meeting(desk)
    agenda = _send_agenda(desk, meeting_id)
    # Members and the agenda list and the administrator: each address one email with a calendar.
    assert recipients(agenda) == Counter(dict.fromkeys((MEMBER, GP, SHARED, ADMIN), 1))
    for message in agenda:
        [part] = [p for p in read_email(message.data).walk() if p.get_content_type() == "text/calendar"]
        assert icalendar.Calendar.from_ical(part.get_content())["METHOD"] == "REQUEST"

    # A colleague's reply-all to the agenda is kept, not quarantined, and applies nothing.
    reply_all = apple_mail(_admins_agenda(desk), _decisions(refs), from_=f"Dr A <{MEMBER}>", seed="all")
    desk.deliver(reply_all)
    # It reaches the administrator (the agenda went one email per recipient, so the group's
    # mailbox was the only other reader of the reply), and nobody else.
    passed_on = desk.poll()
    assert recipients(passed_on) == Counter({ADMIN: 1}) and desk.quarantined() == []
    notice = read(passed_on[0])
    assert f"[MTG-{meeting_id} #" in notice.subject and f"Reply to the agenda from {MEMBER}" in notice.subject
    assert "nothing in their reply was applied" in " ".join(notice.text.split())
    assert "pharmacy to bring audit data" in notice.text
    assert desk.issue(refs[0])["status"] == "scheduled"
    with desk.app.factory() as session:
        kept = session.scalars(select(Message).where(Message.from_address == MEMBER)).one()
        assert kept.kind == "reply" and "non-administrator; nothing applied" in kept.detail["route"]
    # The administrator's address with a token made for another meeting: refused, quarantined.
    forged = dataclasses.replace(_admins_agenda(desk))
    token = forged.subject.split("#", 1)[1].split("]", 1)[0]
    other = make_token(desk.app.settings.triage.secret, f"MTG-{meeting_id + 1}", ADMIN, datetime.now(UTC))
    desk.deliver(apple_mail(dataclasses.replace(forged, subject=forged.subject.replace(token, other)),
                            _decisions(refs), seed="forged"))  # fmt: skip
    [answer] = [read(m) for m in desk.poll()]
    [refused] = desk.quarantined()
    assert "rejected decisions: token refused" in refused.reason
    # The administrator is told in the words of meetings, not of triage commands.
    assert answer.subject.startswith(f"[MTG-{meeting_id}] Decisions refused:") and answer.to == ADMIN
    assert f"meeting decide {meeting_id} --file" in answer.text and "triage command" not in answer.text
    assert desk.issue(refs[0])["status"] == "scheduled"

    desk.deliver(apple_mail(_admins_agenda(desk), _decisions(refs), seed="decisions"))
    sent = desk.poll()
    assert len(desk.quarantined()) == 1  # the forged one only
    [confirmation] = [read(m) for m in sent if "Decisions applied" in read(m).subject]
    assert f"[MTG-{meeting_id} #" in confirmation.subject and confirmation.to == ADMIN
    for ref in refs:
        assert ref in confirmation.text
    assert f"outcome: {', '.join(sorted((GP, SHARED, SUBMITTERS[0])))}" in confirmation.text
    assert " ".join(confirmation.text.split()).count("(held until then; UNDO on the issue stops it)") >= 1
    assert desk.issue(refs[0])["status"] == "closed"
    assert desk.issue(refs[1])["delegated_to"] == "prescribing" and desk.issue(refs[1])["due_date"] == DUE
    # The same CLOSE sent again (a corrected or repeated reply): a no-op, not a refused reply.
    close_again = _decisions(refs).split("\n")[2:4]
    desk.deliver(apple_mail(_admins_agenda(desk), "\n".join(close_again), seed="again"))
    [repeated] = [read(m) for m in desk.poll() if "Decisions applied" in read(m).subject]
    assert "already decided at this meeting; not applied again" in " ".join(repeated.text.split())
    assert len(desk.quarantined()) == 1 and len(desk.events(refs[0], "meeting-decision")) == 1
    assert len(desk.events(refs[2], "meeting-decision")) == 1
    with desk.app.factory() as session:
        found = store.get_meeting(session, meeting_id)
        assert (found.status, found.attendees, found.apologies) == (
            "held", ["Dr A Example", "Dr B Sample"], ["Dr C Absent"],
        )  # fmt: skip
        decided = {i.issue.reference: i for i in found.items if i.issue}
        assert decided[refs[0]].decision == (
            "Closed. Outcome: The discharge letter will list every medication change\nfrom 1 March."
        )
        assert decided[refs[1]].action_owner == "Prescribing Operational Group"
        assert decided[refs[1]].due_date == DUE
        assert decided[refs[2]].discussion == "Discussed; pharmacy to bring audit data next time"

    desk.mark()
    assert "queued for 4 recipient(s)" in desk.ws.cli("meeting", "minutes", str(meeting_id), "--send").stdout
    assert not [m for m in desk.poll() if "Minutes:" in read(m).subject]  # held for UNDO's window
    minutes = [m for m in desk.past_hold() if "Minutes:" in read(m).subject]
    assert recipients(minutes) == Counter(dict.fromkeys((GP, SHARED, *CMG), 1))
    for message in minutes:
        [rcpt] = message.rcpt_tos
        parsed = read_email(message.data)
        assert str(parsed["To"]) == rcpt and str(parsed["List-Id"]).endswith(".example.nhs.scot>")
        assert "The discharge letter will list every medication change" in read(message).text
    again = desk.ws.cli("meeting", "minutes", str(meeting_id), "--send").stdout
    assert "unchanged since version 1" in again

    # Over the whole meeting: each submitter of a closed issue heard the outcome exactly once.
    everything = desk.smtp.messages
    outcomes = [m for m in everything if "Outcome" in read(m).subject]
    assert recipients(outcomes)[SUBMITTERS[0]] == 1
    assert all(recipients(outcomes)[s] == 0 for s in SUBMITTERS[1:])


def test_one_misspelt_line_applies_nothing_and_the_error_names_it(new_desk: DeskFactory) -> None:
    desk = new_desk(**TABLES)
    refs, meeting_id = _scheduled_meeting(desk)
    _send_agenda(desk, meeting_id)
    desk.mark()
    # The CLOSE is fine, the DELEGATE fine, the NOTE line misspelt: nothing may happen.
    body = _decisions(refs).replace(f"{refs[2]}: NOTE", f"{refs[2]}: NOET")
    desk.deliver(apple_mail(_admins_agenda(desk), body, seed="typo"))
    sent = desk.poll()
    [error] = [read(m) for m in sent]
    assert "Decisions not applied" in error.subject and error.to == ADMIN
    assert f'Line 6 ("{refs[2]}: NOET Discussed;' in error.text and "did you mean NOTE?" in error.text
    assert [desk.issue(r)["status"] for r in refs] == ["scheduled"] * 3
    assert desk.events(refs[0], "meeting-decision") == []
    with desk.app.factory() as session:
        assert session.get(Meeting, meeting_id).status == "planned"  # type: ignore[union-attr]
        templates = {r.template for r in session.scalars(select(OutboxMessage))}
    assert "outcome" not in templates and "delegated" not in templates
    with pytest.raises(store.MeetingError, match="has no decisions yet"), transaction(desk.app.factory) as s:
        meeting_minutes.send_minutes(desk.app, s, store.get_meeting(s, meeting_id))
