"""The catalogue of outgoing emails: every email renders from plain values alone.

No database is opened in this file: each email is written from views made here by hand and
rendered through the real Renderer and the shipped templates, so no template can depend on
an ORM object loading a relationship lazily.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailproc.config import Contact, Member
from mailproc.outbound import catalogue
from mailproc.outbound.catalogue import (
    AppliedView,
    CommandReply,
    CommandView,
    Email,
    GroupView,
    Incoming,
    IssueRef,
    IssueView,
    MessageView,
)
from mailproc.outbound.catalogue.announcement import MemberLine, Sector
from mailproc.outbound.compose import CalendarPart
from mailproc.outbound.render import Rendered, Renderer
from mailproc.store.models import Issue

GROUP = GroupView(
    name="NHS Test Interface Group",
    address="interface.group@example.nhs.scot",
    members=(Member("Dr A Example", "Chair (GP)", "Example Practice", "a@example.nhs.scot"),),
)
ADMIN = "admin@example.nhs.scot"
ISSUE = IssueView(
    id=7,
    reference="IFG-2026-0007",
    subject="Discharge <letters> & late",
    status="delegated",
    priority="high",
    created_at=datetime(2026, 7, 1, 13, 5, tzinfo=UTC),
    submitter_email="morag@example.nhs.scot",
    submitter_name="Dr Morag O'Brien",
    suggested_area="discharge",
    source_kind="clinician",
    due_date=date(2026, 8, 3),
    pid_detected=True,
    first_message_id="<first-1@example.nhs.scot>",
    as_submitted="Dear group,\nletters <b>late</b>.",
)
MESSAGE = MessageView(
    message_id="<update-1@example.nhs.scot>",
    from_name="Dr Morag O'Brien",
    from_address="morag@example.nhs.scot",
    received_at=datetime(2026, 7, 2, 9, 30, tzinfo=UTC),
    summary_lines=("More <detail> here", "and a second line"),
    summary_truncated=True,
    attachments=(("letter <1>.pdf", 1234),),
)
COMMAND = CommandView(keyword="DELEGATE", text="Please look at <this> & reply", line_no=1, via="cli:t")
INCOMING = Incoming(ADMIN, "<cmd-1@example.nhs.scot>", ("<req-1@example.nhs.scot>",), "Re: [IFG-2026-0007] x")
REPLY = CommandReply(GROUP, ISSUE, INCOMING, token="tok-123")
PRESCRIBING = Contact("prescribing", "Prescribing Operational Group", ("lead@example.nhs.scot",))
ROUTE = Contact("escalation", "Clinical Governance Committee", ("governance@example.nhs.scot",))
TARGET = IssueRef("IFG-2026-0003", "Late discharge letters", "accepted")
CARD = "Reply above the quoted text, one command per line"
TODAY = date(2026, 8, 10)
GP_LIST = catalogue.ListView("gp-subgroup", "GP Sub-group", "example.nhs.scot")
_START = datetime(2026, 7, 9, 14, 0, tzinfo=ZoneInfo("Europe/London"))
MEETING = catalogue.MeetingView(
    id=3, reference="MTG-3", date=_START.date(), start=_START, end=_START.replace(hour=15, minute=30),
    theme="prescribing", title="Prescribing meeting", location="Board Room", status="planned", sequence=0,
)  # fmt: skip
AGENDA = catalogue.AgendaView(
    meeting=MEETING,
    previous=None,
    actions=(
        catalogue.AgendaIssue("IFG-2026-0005", "Repeat <b>late</b>", "delegated", "", "Prescribing", TODAY),
    ),
    scheduled=(catalogue.AgendaIssue(ISSUE.reference, ISSUE.subject, "scheduled", "prescribing"),),
    suggestions=(),
    items=(catalogue.AgendaItem(1, "Sense-check: <this> template"),),
    next_meeting=None,
)
INVITE = CalendarPart("REQUEST", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
MINUTES = catalogue.MinutesView(
    meeting=MEETING,
    version=2,
    attendees=("Dr A <Example>",),
    apologies=(),
    items=(
        catalogue.MinutesItem(
            1, ISSUE.reference, ISSUE.subject, "Talked <about> it", "Delegated", "Prescribing", TODAY
        ),
        catalogue.MinutesItem(2, "", "Sense-check: <this> template", "", "Agreed", "", None),
    ),
    actions=AGENDA.actions,
    closed=(catalogue.ClosedIssue("IFG-2026-0004", "Old <one>", "Fixed <now>"),),
    changes=("now: IFG-2026-0007 decision: Delegated",),
)  # fmt: skip
DONE = (catalogue.DecisionView(3, ISSUE.reference, "closed", "not on the agenda of MTG-3"),)

# One call per catalogue function, with what each email must show.
EMAILS: dict[str, tuple[Callable[[], Email], tuple[str, ...]]] = {
    "acknowledgement": (
        lambda: catalogue.acknowledgement(
            GROUP, ISSUE, Incoming("morag@example.nhs.scot", "<in-1@x>", (), "s")
        ),
        ("logged as issue IFG-2026-0007", "Dr A Example, Chair (GP)", "patient-identifiable"),
    ),
    "triage_request": (
        lambda: catalogue.triage_request(GROUP, ISSUE, MESSAGE, ADMIN, "tok-123", (TARGET,), CARD),
        ("IFG-2026-0007 #tok-123", "letter <1>.pdf (1234 bytes)", "IFG-2026-0003 [accepted]", CARD),
    ),
    "triage_update": (
        lambda: catalogue.triage_update(GROUP, ISSUE, MESSAGE, ADMIN, "tok-123", CARD),
        ("Dr Morag O'Brien added information", "2 Jul 2026 10:30", "More <detail> here", CARD),
    ),
    "command_confirmation": (
        lambda: catalogue.command_confirmation(
            REPLY, (AppliedView(COMMAND, "delegated"),), ("ignored line",)
        ),
        ("Applied to IFG-2026-0007", "- DELEGATE: delegated", "ignored line"),
    ),
    "command_error": (
        lambda: catalogue.command_error(REPLY, "Line 1 ('FROB'): unknown <keyword>", CARD),
        ("Nothing was applied", "unknown <keyword>", CARD),
    ),
    "command_rejected": (
        lambda: catalogue.command_rejected(dataclasses.replace(REPLY, issue=None, token=""), "token refused"),
        ("was not accepted as a triage command", "token refused"),
    ),
    "info_request": (
        lambda: catalogue.info_request(GROUP, ISSUE, COMMAND),
        ("would like to know more", "Please look at <this> & reply"),
    ),
    "declined": (lambda: catalogue.declined(GROUP, ISSUE, COMMAND), ("decided not to take it forward",)),
    "duplicate": (lambda: catalogue.duplicate(GROUP, ISSUE, COMMAND, TARGET), ("Joined with IFG-2026-0003",)),
    "outcome_to_submitter": (
        lambda: catalogue.outcome_to_submitter(GROUP, ISSUE, COMMAND),
        ("Outcome of issue",),
    ),
    "outcome_to_lists": (
        lambda: catalogue.outcome_to_lists(GROUP, ISSUE, COMMAND, ("gp@example.nhs.scot",)),
        ("Outcome of issue", "Please look at <this> & reply"),
    ),
    "outcome_to_list_member": (
        lambda: catalogue.outcome_to_list_member(GROUP, ISSUE, COMMAND, "gp@example.nhs.scot", GP_LIST),
        ("Outcome of issue", "Please look at <this> & reply"),
    ),
    "progress_accepted": (
        lambda: catalogue.progress_accepted(GROUP, ISSUE, COMMAND),
        ("has accepted the issue",),
    ),
    "progress_scheduled": (
        lambda: catalogue.progress_scheduled(GROUP, ISSUE, COMMAND, TODAY),
        ("meeting on Monday 10 August 2026",),
    ),
    "progress_delegated": (
        lambda: catalogue.progress_delegated(GROUP, ISSUE, COMMAND, "Prescribing Operational Group"),
        ("asked the Prescribing Operational Group", "respond by Monday 3 August 2026"),
    ),
    "delegation": (
        lambda: catalogue.delegation(GROUP, ISSUE, COMMAND, PRESCRIBING, with_text=True),
        ("For Prescribing Operational Group", "Monday 3 August 2026", "letters <b>late</b>."),
    ),
    "escalation": (
        lambda: catalogue.escalation(GROUP, ISSUE, COMMAND, ROUTE),
        ("Escalated to Clinical Governance Committee", "Why: Please look at", "Issue IFG-2026-0007"),
    ),
    "delegation_reminder": (
        lambda: catalogue.delegation_reminder(GROUP, ISSUE, PRESCRIBING, TODAY),
        ("Reminder, due Monday 3 August 2026", "We have not yet recorded a response"),
    ),
    "triage_digest": (
        lambda: catalogue.triage_digest(
            GROUP, ADMIN, (ISSUE, dataclasses.replace(ISSUE, reference="IFG-2026-0008")), TODAY
        ),
        ("2 issue(s) waiting for triage", "IFG-2026-0008 (received 1 Jul 2026 14:05)"),
    ),
    "agenda": (
        lambda: catalogue.agenda(GROUP, AGENDA, ADMIN, "[MTG-3 #tok-123]", INVITE),
        ("[MTG-3 #tok-123] Agenda: Prescribing meeting", "IFG-2026-0007  Discharge <letters>", "Item 1:"),
    ),
    "meeting_cancelled": (
        lambda: catalogue.meeting_cancelled(
            GROUP, MEETING, ADMIN, "[MTG-3]", dataclasses.replace(INVITE, method="CANCEL")
        ),
        ("[MTG-3] Cancelled: Prescribing meeting", "is cancelled"),
    ),
    "minutes": (
        lambda: catalogue.minutes(GROUP, MINUTES, "gp@example.nhs.scot", GP_LIST),
        (
            "[MTG-3] Corrected minutes: Prescribing meeting",
            "now: IFG-2026-0007 decision",
            "Dr A <Example>",
            "Discussion: Talked <about> it",
            "Outcome: Fixed <now>",
            "member of GP Sub-group",
        ),
    ),
    "decisions_confirmation": (
        lambda: catalogue.decisions_confirmation(
            GROUP, MEETING, INCOMING, "[MTG-3 #tok-123]", (DONE, ("outcome: gp@example.nhs.scot",), ("Jane",))
        ),
        (
            "[MTG-3 #tok-123] Decisions applied",
            "line 3, IFG-2026-0007: closed (not on the agenda",
            "outcome: gp@example.nhs.scot",
            "Jane",
        ),
    ),
    "agenda_reply": (
        lambda: catalogue.agenda_reply(
            GROUP, MEETING, INCOMING, "Apologies, I am on leave <that week>", ADMIN, "[MTG-3 #tok-123]"
        ),
        (
            "[MTG-3 #tok-123] Reply to the agenda from",
            "nothing in their reply was applied",
            "on leave <that week>",
        ),
    ),
    "decisions_error": (
        lambda: catalogue.decisions_error(
            GROUP, MEETING, INCOMING, "[MTG-3 #tok-123]", 'Line 2 ("X"): <bad>'
        ),
        ("[MTG-3 #tok-123] Decisions not applied", "Line 2", "<bad>", "ITEM <n>: NOTE <text>"),
    ),
    "announcement": (
        lambda: catalogue.announcement(GROUP, AWARENESS, "gp.network@example.nhs.scot"),
        (
            "Introducing the",
            "NHS Example & Borders established",
            "April 2024",
            "Area <Clinical> Forum",
            "Dr Morag Example, GP (Example Practice)",
            "Minutes go to GP Sub-group and the group's members",
        ),
    ),
}

MORAG = (MemberLine("Dr Morag Example", "GP", "Example Practice", True),)
AWARENESS = catalogue.Awareness(
    name="NHS Test Interface Group", address="group@example.nhs.scot", board="NHS Example & Borders",
    established="April 2024", reports_to="Area <Clinical> Forum", reports_to_chain="Board",
    co_opted_note="", operational_groups=("Prescribing Group",), escalation="Governance Committee",
    sectors=(Sector("primary", "Primary care", MORAG),),
    minutes_to=("GP Sub-group", "the group's members"), outcomes_to=(), networks=("GP network",),
)  # fmt: skip


def _render(email: Email) -> Rendered:
    return Renderer(None, ZoneInfo("Europe/London")).render(email.template, email.context)


def test_every_catalogue_function_is_exercised_here() -> None:
    functions = [getattr(catalogue, name) for name in catalogue.__all__]
    writers = {
        f.__name__
        for f in functions
        if inspect.isfunction(f) and inspect.signature(f).return_annotation == "Email"
    }
    assert writers == set(EMAILS)


def test_every_shipped_template_is_written_by_the_catalogue() -> None:
    templates = {write().template for write, _ in EMAILS.values()}
    assert templates == set(Renderer(None, ZoneInfo("Europe/London")).names())


@pytest.mark.parametrize("name", sorted(EMAILS))
def test_each_email_renders_from_plain_values_with_no_database(name: str) -> None:
    write, expected = EMAILS[name]
    email = write()
    rendered = _render(email)
    for part in expected:
        assert part in rendered.subject + rendered.text, (name, part)
    # The same context gives the HTML part, escaped: no markup from the values gets through.
    assert "<b>late</b>" not in rendered.html and "<this>" not in rendered.html
    assert "<Clinical>" not in rendered.html
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert email.to and all("@" in address for address in email.to)


def test_threading_and_headers_of_the_emails() -> None:
    ack = catalogue.acknowledgement(GROUP, ISSUE, Incoming("m@example.nhs.scot", "<in-1@x>", ("<r@x>",), "s"))
    assert (ack.purpose, ack.unique, ack.in_reply_to, ack.references) == (
        "ack",
        "<in-1@x>",
        "<in-1@x>",
        ("<r@x>", "<in-1@x>"),
    )
    assert (ack.auto, ack.rate_limited, ack.to) == ("auto-replied", True, ("m@example.nhs.scot",))
    request = catalogue.triage_request(GROUP, ISSUE, MESSAGE, ADMIN, "tok-123", (), CARD)
    assert (request.purpose, request.references, request.auto) == ("triage-tok-123", (), "auto-generated")
    update = catalogue.triage_update(GROUP, ISSUE, MESSAGE, ADMIN, "tok-123", CARD)
    assert update.references == ("<first-1@example.nhs.scot>",)  # on the issue's thread
    rejected = catalogue.command_rejected(dataclasses.replace(REPLY, issue=None, token=""), "no")
    assert (rejected.purpose, rejected.issue, rejected.in_reply_to) == (
        "command-rejected",
        None,
        "<cmd-1@example.nhs.scot>",
    )
    lists = catalogue.outcome_to_lists(GROUP, ISSUE, COMMAND, ("gp@example.nhs.scot",))
    assert (lists.purpose, lists.unique) == ("outcome-lists", "cli:t/1/DELEGATE")
    member = catalogue.outcome_to_list_member(GROUP, ISSUE, COMMAND, "gp@example.nhs.scot", GP_LIST)
    assert (member.to, member.unique) == (("gp@example.nhs.scot",), "cli:t/1/DELEGATE/gp@example.nhs.scot")
    assert member.list_id == "GP Sub-group <gp-subgroup.example.nhs.scot>"
    digest = catalogue.triage_digest(GROUP, ADMIN, (ISSUE,), TODAY)
    assert (digest.unique, digest.issue) == (f"{ADMIN}/2026-08-10", None)


def test_a_refused_decisions_reply_is_answered_in_the_words_of_meetings() -> None:
    email = catalogue.command_rejected(dataclasses.replace(REPLY, issue=None), "token <refused>", "MTG-3")
    rendered = _render(email)
    assert rendered.subject == "[MTG-3] Decisions refused: Re: [IFG-2026-0007] x"
    for part in (rendered.text, rendered.html):
        assert "decisions for the meeting MTG-3" in part and "meeting decide 3 --file" in part
        assert "triage command" not in part
    assert "token &lt;refused&gt;" in rendered.html and "token <refused>" in rendered.text


def test_every_footer_links_the_register_once_its_address_is_configured() -> None:
    url = "https://intranet.example.nhs.scot/interface-group/"
    published = dataclasses.replace(GROUP, register_url=url)
    for make in (
        lambda g: catalogue.acknowledgement(g, ISSUE, INCOMING),
        lambda g: catalogue.announcement(g, AWARENESS, "gp.network@example.nhs.scot"),
        lambda g: catalogue.outcome_to_lists(g, ISSUE, COMMAND, ("gp@example.nhs.scot",)),
    ):
        plain, linked = _render(make(GROUP)), _render(make(published))
        assert url not in plain.text + plain.html
        assert f"Published issues, outcomes and minutes: {url}" in linked.text
        assert f'<a href="{url}">published issues, outcomes and minutes</a>' in linked.html


def test_a_submitter_without_a_trusted_address_gets_no_recipient() -> None:
    anonymous = dataclasses.replace(ISSUE, submitter_email="")
    assert catalogue.declined(GROUP, anonymous, COMMAND).to == ()


def test_a_context_holds_plain_values_only_and_is_read_only() -> None:
    with pytest.raises(TypeError, match="'issue' is a Issue"):
        Email("outcome", ("a@example.nhs.scot",), "outcome", "u", {"issue": Issue(reference="IFG-2026-0001")})
    with pytest.raises(TypeError, match=r"'rows\[0\]' is a dict"):
        Email("outcome", (), "outcome", "u", {"rows": ({"a": 1},)})
    email = catalogue.declined(GROUP, ISSUE, COMMAND)
    with pytest.raises(TypeError):
        email.context["reason"] = "changed"  # type: ignore[index]


def test_lists_groups_and_escalation_get_the_administrators_title_never_the_submitters_words() -> None:
    untitled, titled = ISSUE, dataclasses.replace(ISSUE, title="Late discharge letters (working)")
    published = dataclasses.replace(titled, public_summary="Discharge letters reach practices late")
    for issue, shown in (
        (untitled, "Issue IFG-2026-0007"),
        (titled, titled.title),
        (published, "reach practices"),
    ):
        for email in (
            catalogue.delegation(GROUP, issue, COMMAND, PRESCRIBING),
            catalogue.escalation(GROUP, issue, COMMAND, ROUTE),
            catalogue.outcome_to_list_member(GROUP, issue, COMMAND, "gp@example.nhs.scot", GP_LIST),
            catalogue.delegation_reminder(GROUP, issue, PRESCRIBING, TODAY),
        ):
            rendered = _render(email)
            whole = rendered.subject + rendered.text + rendered.html
            assert shown in rendered.subject, (email.template, shown)
            assert "Discharge <letters>" not in whole and "Discharge &lt;letters&gt;" not in whole, (
                email.template
            )
            assert "letters <b>late" not in whole and "letters &lt;b&gt;late" not in whole, email.template
    # Lists, groups and the escalation route wait for the hold window; the reminder does not.
    assert catalogue.delegation(GROUP, ISSUE, COMMAND, PRESCRIBING).held
    assert catalogue.escalation(GROUP, ISSUE, COMMAND, ROUTE).held
    assert not catalogue.delegation_reminder(GROUP, ISSUE, PRESCRIBING, TODAY).held


def test_forwarded_text_says_honestly_what_was_removed() -> None:
    rendered = _render(catalogue.delegation(GROUP, ISSUE, COMMAND, PRESCRIBING, with_text=True))
    heading = (
        "CHI and NHS numbers, dates of birth, postcodes, phone numbers and titled names that we "
        "recognised were removed"
    )
    assert heading in " ".join(rendered.text.split()) and heading in " ".join(rendered.html.split())


def test_no_template_claims_the_text_is_free_of_patient_data() -> None:
    claims = (
        "patient-identifiable data removed",
        "identifiable data removed",
        "free of patient",
        "anonymised",
    )
    root = Path(__file__).resolve().parents[1] / "templates"
    for path in root.rglob("*.j2"):
        text = " ".join(path.read_text(encoding="utf-8").lower().split())
        assert not [c for c in claims if c in text], path
