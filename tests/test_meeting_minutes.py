"""`meeting decide` from a file and the minutes (issue 9, must show 3 and the minutes' versions):
all or nothing with the line named, minutes in text and HTML (parsed, items checked, an
HTML-looking subject escaped), corrected minutes listing what changed, unchanged ones not sent.

Real SQLite and PostgreSQL, the real Maildir intake and outbox, the real CLI in a child process.
"""

from __future__ import annotations

import email
import json
import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from mailproc.app import App
from mailproc.governance.meetings import minutes as meeting_minutes
from mailproc.governance.register import build_register
from mailproc.intake import runner
from mailproc.outbound import outbox
from mailproc.store import meetings as store
from mailproc.store.models import Issue, Minutes, OutboxMessage
from mailproc.store.models import Meeting as MeetingRow
from tests.support.mail import make_message
from tests.support.pid_samples import CHI
from tests.support.workspace import Workspace, make_workspace, triage

DAY = date.today() + timedelta(days=10)
DUE = DAY + timedelta(days=30)
HTML_SUBJECT = "<b>Insulin</b> & <script>alert(1)</script> on discharge"


@dataclass
class Meeting:
    ws: Workspace
    app: App
    id: int
    refs: list[str]

    def decide(self, text: str, check: bool = True) -> str:
        path = self.ws.root / "decisions.txt"
        path.write_text(text, encoding="utf-8")
        proc = self.ws.cli("meeting", "decide", str(self.id), "--file", str(path), check=check)
        return proc.stdout if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr}"

    def minutes_mail(self) -> list[EmailMessage]:
        with self.app.factory() as session:
            rows = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "minutes"))
            return [_parse(outbox.message_bytes(r) or b"") for r in rows.all()]


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.fixture
def meeting(tmp_path: Path, db_url: str) -> Iterator[Meeting]:
    ws = make_workspace(
        tmp_path / "ws", db_url=db_url, distribution={"minutes": ["gp-subgroup", "cmg"]},
    )  # fmt: skip
    subjects = (HTML_SUBJECT, "Warfarin doses not in the letter", "Repeat prescriptions after discharge")
    inbox = mailbox.Maildir(ws.root / "inbox", create=True)
    for n, subject in enumerate(subjects):
        sender = f"Dr Clinician <gp{n}@practice.example.nhs.scot>"
        inbox.add(
            make_message(from_=sender, subject=subject, message_id=f"<min-{n}@practice.example.nhs.scot>")
        )
    app = ws.app()
    runner.poll_once(app)
    with app.factory() as session:
        refs = list(session.scalars(select(Issue.reference).order_by(Issue.id)))
    # Minutes go to lists: they name an issue by an administrator's title (escaped like any
    # text), never by the submitter's subject.
    # In process (the CLI's round trip is tested in test_meetings): a child process per step
    # made this set-up the slowest part of the suite.
    triage(app, refs[0], f"TITLE {HTML_SUBJECT}")
    for ref in refs:
        triage(app, ref, "ACCEPT prescribing", f"MEETING {DAY.isoformat()}")
    with app.factory() as session, session.begin():
        [made] = session.scalars(select(MeetingRow)).all()
        meeting_id = made.id
        store.add_item(session, made, "Sense-check: new discharge letter template", app.clock())
    yield Meeting(ws, app, meeting_id, refs)
    app.engine.dispose()


def _decisions(refs: list[str], note: str = "Discussed; audit next time") -> str:
    return (
        "ATTENDEES: Dr A Example, Dr B Sample\nAPOLOGIES: Dr C Absent\n"
        f"{refs[0]}: CLOSE The letter lists every change.\n"
        f"{refs[1]}: DELEGATE prescribing by {DUE.isoformat()}\n"
        f"{refs[2]}: NOTE {note}\n"
        "ITEM 4: NOTE Agreed with two changes\n"
    )


class _Minutes(HTMLParser):
    """The items of the minutes (by data-reference or data-item) with their decision texts."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self.spans: dict[str, list[str]] = {}
        self._span = ""
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "li" and found.get("data-item"):
            self.items.append(found.get("data-reference") or f"item {found['data-item']}")
        if tag == "span":
            self._span = found.get("class") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._span = ""

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._span:
            self.spans.setdefault(self._span, []).append(data)


def test_a_misspelt_line_in_the_file_applies_nothing_and_exits_2_naming_it(meeting: Meeting) -> None:
    bad = _decisions(meeting.refs).replace("DELEGATE prescribing", "DELEGATE prescibing")
    result = meeting.decide(bad, check=False)
    assert result.startswith("exit 2") and f'Line 4 ("{meeting.refs[1]}: DELEGATE prescibing' in result
    assert "Valid groups: prescribing" in result
    unknown_item = _decisions(meeting.refs).replace("ITEM 4", "ITEM 9")
    result = meeting.decide(unknown_item, check=False)
    assert result.startswith("exit 2") and "Line 6" in result and "numbered: 4" in result
    with meeting.app.factory() as session:
        statuses = [i.status for i in session.scalars(select(Issue).order_by(Issue.id))]
        assert statuses == ["scheduled"] * 3  # the CLOSE on line 3 was rolled back too
        assert store.get_meeting(session, meeting.id).status == "planned"


def test_minutes_render_in_text_and_html_and_a_correction_says_what_changed(meeting: Meeting) -> None:
    out = meeting.decide(_decisions(meeting.refs))
    assert f"line 3, {meeting.refs[0]}: closed" in out and "line 6, Item 4: note added" in out
    with meeting.app.factory() as session:
        rendered = meeting_minutes.render_minutes(
            meeting.app, session, store.get_meeting(session, meeting.id)
        )
    parsed = _Minutes()
    parsed.feed(rendered.html)
    assert parsed.items == [*meeting.refs, "item 4"]
    assert parsed.spans["decision"][0] == "Closed. Outcome: The letter lists every change."
    assert parsed.spans["action"] == [f"Prescribing Operational Group, due {DUE:%A} {DUE.day} {DUE:%B %Y}"]
    assert parsed.spans["discussion"] == ["Discussed; audit next time", "Agreed with two changes"]
    assert "<script>" not in rendered.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert HTML_SUBJECT in "".join(parsed.text)  # shown as text
    assert (
        f"{meeting.refs[0]}  {HTML_SUBJECT}" in rendered.text and "Present:   Dr A Example" in rendered.text
    )
    assert "Outcome: The letter lists every change." in rendered.text  # issues closed
    assert f"Issue {meeting.refs[1]}" in rendered.text  # untitled: by reference only
    assert "Warfarin" not in rendered.text + rendered.html

    assert (
        "minutes version 1 queued for 3"
        in meeting.ws.cli("meeting", "minutes", str(meeting.id), "--send").stdout
    )
    again = meeting.ws.cli("meeting", "minutes", str(meeting.id), "--send").stdout
    assert "unchanged since version 1" in again and "not sent again" in again
    meeting.decide(f"{meeting.refs[2]}: NOTE Pharmacy brings the audit in March\n")
    corrected = meeting.ws.cli("meeting", "minutes", str(meeting.id), "--send").stdout
    assert "corrected minutes version 2 queued for 3" in corrected
    mail = meeting.minutes_mail()
    assert len(mail) == 6  # gp-subgroup's one address, cmg's two; twice
    subjects = {str(m["Subject"]).split(":")[0] for m in mail}
    assert subjects == {f"[MTG-{meeting.id}] Minutes", f"[MTG-{meeting.id}] Corrected minutes"}
    for message in mail[3:]:
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "What changed since the last version:" in text
        assert f"now: {meeting.refs[2]} discussion: Pharmacy brings the audit in March" in text
    with meeting.app.factory() as session:
        assert [m.version for m in session.scalars(select(Minutes).order_by(Minutes.id))] == [1, 2]


def test_the_register_page_shows_references_decisions_and_minutes_once_sent(
    meeting: Meeting, tmp_path: Path
) -> None:
    # The discussion names a patient by CHI: the minutes go to the lists redacted, and so the page.
    meeting.decide(_decisions(meeting.refs, note=f"Discussed; the case of CHI {CHI}"))
    for ref in meeting.refs:  # the register links only to issues an administrator published
        triage(meeting.app, ref, f"PUBLISH Issue {ref}")
    site = tmp_path / "site"
    build_register(meeting.app, site)
    page = (site / "meetings" / f"{meeting.id}.html").read_text(encoding="utf-8")
    listing = (site / "meetings.html").read_text(encoding="utf-8")
    assert f'href="meetings/{meeting.id}.html"' in listing
    parsed = _Minutes()
    parsed.feed(page)
    shown = "".join(parsed.text)
    for ref in meeting.refs:
        assert f'href="../issues/{ref}.html"' in page
    assert "Insulin" not in shown and "Warfarin" not in shown and "Repeat prescriptions" not in shown
    assert "Sense-check: new discharge letter template" in shown  # an item, not an issue
    assert "Closed. Outcome: The letter lists every change." in shown
    assert "Prescribing Operational Group" in shown
    assert "Discussed" not in shown and "The minutes are shown here once they have been sent." in shown

    meeting.ws.cli("meeting", "minutes", str(meeting.id), "--send")
    build_register(meeting.app, site)
    page = (site / "meetings" / f"{meeting.id}.html").read_text(encoding="utf-8")
    assert "Version 1, sent" in page and "Dr A Example, Dr B Sample" in page
    assert "Discussed; the case of CHI [CHI removed]" in page and CHI not in page
    for message in meeting.minutes_mail():  # and so were the minutes the lists received
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "the case of CHI [CHI removed]" in text and CHI not in message.as_string()
    assert "Agreed with two changes" in page


def test_an_issue_not_on_the_agenda_may_be_decided_and_the_answer_says_so(meeting: Meeting) -> None:
    other = int(
        meeting.ws.cli("meeting", "create", (DAY + timedelta(days=1)).isoformat(), "--theme", "it").stdout
    )
    out = meeting.ws.cli(
        "meeting",
        "decide",
        str(other),
        "--file",
        str(_file(meeting, f"{meeting.refs[0]}: NOTE Raised here too\n")),
    ).stdout
    assert (
        f"line 1, {meeting.refs[0]}: note added (not on the agenda of MTG-{other}; added to its minutes)"
        in out
    )
    shown = json.loads(meeting.ws.cli("meeting", "show", str(other), "--json").stdout)
    assert shown["status"] == "held"
    assert [(i["reference"], i["discussion"]) for i in shown["items"]] == [
        (meeting.refs[0], "Raised here too")
    ]


def _file(meeting: Meeting, text: str) -> Path:
    path = meeting.ws.root / "other.txt"
    path.write_text(text, encoding="utf-8")
    return path
