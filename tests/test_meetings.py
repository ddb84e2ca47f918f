"""Meetings: the CLI round trip, MEETING <date> with themed meetings, the agenda in text and
HTML, and --send: one email per recipient with an iCalendar invitation that parses.

Real SQLite and PostgreSQL databases, the real Maildir intake and the real outbox; the CLI in
a child process where the round trip is tested.
"""

from __future__ import annotations

import dataclasses
import email
import itertools
import json
import mailbox
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import select

from mailproc.app import App
from mailproc.governance import meetings
from mailproc.intake import runner as service
from mailproc.outbound import outbox
from mailproc.store import meetings as store
from mailproc.store.db import transaction
from mailproc.store.models import Issue, Meeting, OutboxMessage
from mailproc.triage.apply import Actor, apply_commands
from mailproc.triage.commands import vocabulary
from mailproc.triage.grammar import parse_cli
from tests.support.mail import make_message
from tests.support.workspace import ADMIN, Workspace, make_workspace

START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
SUMMER = date(2026, 7, 9)  # BST: 14:00 in London is 13:00 UTC
WINTER = date(2026, 12, 10)  # GMT: 14:00 in London is 14:00 UTC
_calls = itertools.count(1)
_subjects = itertools.count(1)


@dataclasses.dataclass
class Group:
    ws: Workspace
    app: App

    def submit(self, subject: str) -> str:
        n = next(_subjects)
        raw = make_message(
            from_="Dr Clinician <gp@practice.example.nhs.scot>", subject=subject,
            message_id=f"<mtg-{n}@practice.example.nhs.scot>",
        )  # fmt: skip
        mailbox.Maildir(self.ws.root / "inbox", create=True).add(raw)
        service.poll_once(self.app)
        with self.app.factory() as session:
            return session.scalars(select(Issue.reference).order_by(Issue.id.desc())).first() or ""

    def command(self, reference: str, *words: str) -> str:
        with transaction(self.app.factory) as session:
            issue = session.scalars(select(Issue).where(Issue.reference == reference)).one()
            cmd = parse_cli(list(words), vocabulary(self.app), self.app.today())
            [applied] = apply_commands(
                self.app, session, issue, [cmd], Actor(ADMIN, f"cli:mtg-{next(_calls)}")
            )
            return applied.summary

    def create(self, day: date, theme: str, **details: object) -> int:
        with transaction(self.app.factory) as session:
            base = meetings.defaults(self.app)
            made = meetings.create(self.app, session, day, theme, dataclasses.replace(base, **details))
            return made.id

    def agenda_mail(self) -> list[EmailMessage]:
        with self.app.factory() as session:
            rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            wanted = [r for r in rows if r.template in ("agenda", "meeting-cancelled")]
            return [_parse(outbox.message_bytes(r) or b"") for r in wanted]


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.fixture
def group(tmp_path: Path, db_url: str) -> Iterator[Group]:
    ws = make_workspace(
        tmp_path / "ws", db_url=db_url,
        distribution={"agendas": ["members", "cmg", "gp-subgroup"]},
        # The chair is on two lists and is an administrator too: one email all the same.
        lists__gp_subgroup={"addresses": ["gp-subgroup@example.nhs.scot", "a.example@example.nhs.scot"]},
        triage={"admins": [ADMIN, "a.example@example.nhs.scot"]},
    )  # fmt: skip
    app = dataclasses.replace(ws.app(), clock=lambda: START)
    yield Group(ws, app)
    app.engine.dispose()


def test_cli_round_trip(tmp_path: Path, db_url: str) -> None:
    ws = make_workspace(tmp_path / "ws", db_url=db_url, meetings={"location": "Board Room"})
    first = ws.cli(
        "meeting", "create", "2027-01-14", "--theme", "prescribing", "--title", "Prescribing"
    ).stdout
    second = ws.cli("meeting", "create", "2027-01-14", "--theme", "it", "--time", "09:30").stdout
    meeting_id, other_id = int(first), int(second)
    again = ws.cli("meeting", "create", "2027-01-14", "--theme", "it", check=False)
    assert again.returncode == 1 and "already a meeting on 2027-01-14" in again.stderr
    assert (
        ws.cli("meeting", "add-item", str(meeting_id), "Sense-check: new discharge letter template").stdout
        == "item 1\n"
    )
    listed = json.loads(ws.cli("meeting", "list", "--json").stdout)
    assert [(m["id"], m["time"], m["theme"], m["location"]) for m in listed] == [
        (other_id, "09:30", "it", "Board Room"), (meeting_id, "14:00", "prescribing", "Board Room"),
    ]  # fmt: skip
    shown = json.loads(ws.cli("meeting", "show", str(meeting_id), "--json").stdout)
    assert (shown["id"], shown["date"], shown["theme"], shown["status"]) == (
        meeting_id,
        "2027-01-14",
        "prescribing",
        "planned",
    )
    assert [(i["kind"], i["reference"], i["title"]) for i in shown["items"]] == [
        ("item", None, "Sense-check: new discharge letter template")
    ]
    assert "Item 1: Sense-check" in ws.cli("meeting", "agenda", str(meeting_id)).stdout
    assert "cancelled; 0 cancellation(s)" in ws.cli("meeting", "cancel", str(meeting_id)).stdout
    assert json.loads(ws.cli("meeting", "show", str(meeting_id), "--json").stdout)["status"] == "cancelled"
    missing = ws.cli("meeting", "show", "999", check=False)
    assert missing.returncode == 1 and "no meeting with id 999" in missing.stderr


def test_meeting_keyword_uses_the_meeting_of_the_issues_theme(group: Group) -> None:
    it_meeting = group.create(SUMMER, "it")
    prescribing = group.submit("Insulin doses missing from discharge letters")
    group.command(prescribing, "AREA", "prescribing")
    # The only meeting that day is themed IT: a prescribing meeting is created beside it.
    summary = group.command(prescribing, "MEETING", SUMMER.isoformat())
    assert "(prescribing) (meeting created)" in summary
    it_issue = group.submit("EMIS login fails for locums")
    group.command(it_issue, "AREA", "it")
    assert "meeting created" not in group.command(it_issue, "MEETING", SUMMER.isoformat())
    unthemed = group.submit("Letters go to the wrong practice")
    with pytest.raises(Exception, match="2 meetings on 2026-07-09"):
        group.command(unthemed, "MEETING", SUMMER.isoformat())
    only = group.submit("Results not copied to GP")
    assert "meeting created" in group.command(only, "MEETING", WINTER.isoformat())
    with group.app.factory() as session:
        by_ref = {i.reference: i for i in session.scalars(select(Issue))}
        themed = {m.theme: m for m in session.scalars(select(Meeting).where(Meeting.date == SUMMER))}
        assert set(themed) == {"it", "prescribing"}
        assert by_ref[it_issue].meeting_id == it_meeting
        assert by_ref[prescribing].meeting_id == themed["prescribing"].id
        assert [i.issue_id for i in store.get_meeting(session, it_meeting).items] == [by_ref[it_issue].id]
        assert by_ref[unthemed].meeting_id is None


def test_undo_of_meeting_takes_the_issue_off_that_agenda_and_back_onto_the_one_before(group: Group) -> None:
    first = group.create(WINTER, "")
    ref = group.submit("Results not copied to GP")
    group.command(ref, "MEETING", WINTER.isoformat())
    group.command(ref, "MEETING", SUMMER.isoformat())  # moved to a new meeting
    group.command(ref, "UNDO")
    with group.app.factory() as session:
        issue = session.scalars(select(Issue).where(Issue.reference == ref)).one()
        summer = session.scalars(select(Meeting).where(Meeting.date == SUMMER)).one()
        assert issue.meeting_id == first
        assert [i.issue_id for i in store.get_meeting(session, first).items] == [issue.id]
        assert store.get_meeting(session, summer.id).items == []
    group.command(ref, "UNDO")  # and off the first meeting's agenda too
    with group.app.factory() as session:
        issue = session.scalars(select(Issue).where(Issue.reference == ref)).one()
        assert issue.meeting_id is None
        assert store.get_meeting(session, first).items == []


class _Agenda(HTMLParser):
    """The agenda's numbered sections (by id) and the references and items listed under each."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[str]] = {}
        self.current = ""
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "li" and found.get("id"):
            self.current = found["id"] or ""
            self.sections[self.current] = []
        for key in ("data-reference", "data-item"):
            if found.get(key):
                self.sections[self.current].append(found[key] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _body(message: EmailMessage, subtype: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            return str(part.get_content())
    raise AssertionError(f"no text/{subtype} part")


def test_agenda_lists_standing_items_issues_suggestions_and_items(group: Group) -> None:
    earlier = group.create(SUMMER - timedelta(days=28), "prescribing")
    meeting_id = group.create(SUMMER, "prescribing", title="Prescribing meeting")
    later = group.create(SUMMER + timedelta(days=28), "it")
    with transaction(group.app.factory) as session:
        store.add_item(
            session,
            store.get_meeting(session, meeting_id),
            "Sense-check: new discharge letter template",
            START,
        )
    html_subject = group.submit("Insulin doses on discharge")
    # The agenda goes to lists: it names an issue by an administrator's title, escaped like any text.
    group.command(html_subject, "TITLE", "<b>Insulin</b> & <script>alert(1)</script> on discharge")
    group.command(html_subject, "AREA", "prescribing")
    group.command(html_subject, "MEETING", SUMMER.isoformat())
    suggested = group.submit("Warfarin doses not in the letter")
    group.command(suggested, "ACCEPT", "prescribing")
    other_theme = group.submit("EMIS login fails")
    group.command(other_theme, "ACCEPT", "it")
    delegated = group.submit("Repeat prescriptions after discharge")
    group.command(delegated, "DELEGATE", "prescribing", "by", "2026-08-31")
    with group.app.factory() as session:
        rendered = meetings.render_agenda(group.app, session, store.get_meeting(session, meeting_id))
    parsed = _Agenda()
    parsed.feed(rendered.html)
    assert list(parsed.sections) == [
        "welcome", "minutes", "matters-arising", "issues", "suggestions", "other-items", "aob",
        "next-meeting",
    ]  # fmt: skip
    assert parsed.sections["matters-arising"] == [delegated]
    assert parsed.sections["issues"] == [html_subject]
    assert parsed.sections["suggestions"] == [suggested]  # the IT issue is not this theme's
    assert parsed.sections["other-items"] == ["1"]  # added before the issue was scheduled
    assert "<script>" not in rendered.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<b>Insulin</b> & <script>alert(1)</script>" in "".join(parsed.text)
    assert f"[MTG-{meeting_id}] Agenda: Prescribing meeting, Thursday 9 July 2026 14:00" == rendered.subject
    text = rendered.text
    assert "Prescribing Operational Group, due Monday 31 August 2026" in text
    assert f"{html_subject}  <b>Insulin</b>" in text and "Item 1: Sense-check" in text
    assert "Thursday 11 June 2026" in text and "Thursday 6 August 2026" in text  # last and next
    # Untitled issues appear by reference, never under the submitter's subject.
    assert f"Issue {suggested}" in text and "Warfarin doses" not in text + rendered.html
    assert "Insulin doses on discharge" not in text + rendered.html
    assert (earlier, later) != (meeting_id, meeting_id)


def _calendar(message: EmailMessage) -> icalendar.Calendar:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return icalendar.Calendar.from_ical(parts[0].get_content())


@pytest.mark.parametrize(("day", "utc_hour"), [(SUMMER, 13), (WINTER, 14)])
def test_send_queues_one_invitation_per_recipient(group: Group, day: date, utc_hour: int) -> None:
    meeting_id = group.create(day, "prescribing", location="Board Room")
    with transaction(group.app.factory) as session:
        sent = meetings.send_agenda(group.app, session, store.get_meeting(session, meeting_id))
    expected = {
        "a.example@example.nhs.scot", "cmg@example.nhs.scot", "cmg2@example.nhs.scot",
        "gp-subgroup@example.nhs.scot", ADMIN,
    }  # fmt: skip
    assert sent.queued == len(expected)
    mail = group.agenda_mail()
    assert sorted(str(m["To"]) for m in mail) == sorted(expected)
    uids = set()
    for message in mail:
        assert message.get_content_type() == "multipart/alternative"
        calendar_part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        assert calendar_part.get_param("method") == "REQUEST"
        cal = _calendar(message)
        assert cal["METHOD"] == "REQUEST"
        [event] = cal.walk("VEVENT")
        start = event.decoded("DTSTART")
        assert str(start.tzinfo) == "Europe/London" and (start.hour, start.minute) == (14, 0)
        assert start.astimezone(UTC).hour == utc_hour
        assert event.decoded("DTEND") - start == timedelta(minutes=90)
        assert event["SEQUENCE"] == 0 and str(event["LOCATION"]) == "Board Room"
        assert str(event["ORGANIZER"]) == "mailto:interface.group@example.nhs.scot"
        assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]
        uids.add(str(event["UID"]))
        tagged = f"[MTG-{meeting_id} #" in str(message["Subject"])
        assert tagged == (str(message["To"]) in (ADMIN, "a.example@example.nhs.scot"))
    assert len(uids) == 1


def test_a_changed_meeting_resends_with_a_higher_sequence_and_cancel_sends_cancel(group: Group) -> None:
    meeting_id = group.create(WINTER, "it")
    app = group.app
    with transaction(app.factory) as session:
        meetings.send_agenda(app, session, store.get_meeting(session, meeting_id))
    with transaction(app.factory) as session:
        again = meetings.send_agenda(app, session, store.get_meeting(session, meeting_id))
    assert (again.queued, again.unchanged) == (0, 5)  # nothing changed: nothing re-sent
    with transaction(app.factory) as session:
        found = store.get_meeting(session, meeting_id)
        assert store.change_meeting(session, found, store.MeetingDetails(location="Room 2"), START)
        resent = meetings.send_agenda(app, session, found)
    assert resent.queued == 5
    with transaction(app.factory) as session:
        cancelled = meetings.cancel(app, session, store.get_meeting(session, meeting_id))
    assert cancelled.queued == 5
    mail = group.agenda_mail()
    sequences = [(_calendar(m)["METHOD"], _calendar(m).walk("VEVENT")[0]["SEQUENCE"]) for m in mail]
    assert sequences == [("REQUEST", 0)] * 5 + [("REQUEST", 1)] * 5 + [("CANCEL", 2)] * 5
    assert all(str(_calendar(m).walk("VEVENT")[0]["STATUS"]) == "CANCELLED" for m in mail[10:])
    assert all("Cancelled:" in str(m["Subject"]) for m in mail[10:])
