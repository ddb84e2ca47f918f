"""A deterministic year of issues for the governance report, built through the store API.

`TEMPLATE` is one month: 25 issues, each with its area, source, sector, the status it ends in
and the days from receipt to its first triage command and to its CLOSE. Every month of 2025
repeats it (issue n of a month is received on day n at 10:00 UTC), so 300 issues in all and
every figure of the report is 12 times (or, for medians, the same as) what the table shows.
The tests hand-compute their expectations from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.governance.actions import GROUP_RESPONSE
from mailproc.intake.parsing.parser import parse
from mailproc.store.issues import add_event, create_issue
from mailproc.store.models import Issue
from mailproc.vocabulary import IssueStatus
from tests.support.mail import ADMIN, make_message
from tests.support.pid_samples import CHI

YEAR = 2025
NOW = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)  # the report is run at the turn of the year
SECRET_WORDS = "zebra-quokka"  # in every subject and body: must never reach a report
DOMAINS = {"primary": "gp.example.scot", "secondary": "hospital.example.scot", "other": "example.org"}
GROUPS = {"prescribing": "Prescribing Operational Group", "primary-care": "Primary Care Operational Group"}
S = IssueStatus


@dataclass(frozen=True)
class Row:
    area: str
    source: str
    sector: str
    status: IssueStatus
    triage: int | None  # days to the first command; None: never triaged
    outcome: int | None = None  # days to CLOSE
    group: str | None = None  # delegated to, due 30 days after receipt


TEMPLATE: tuple[Row, ...] = (
    Row("discharge", "clinician", "primary", S.CLOSED, 1, 10),  # 1
    Row("discharge", "clinician", "secondary", S.CLOSED, 2, 20),  # 2
    Row("discharge", "sea", "primary", S.CLOSED, 3, 30),  # 3: its outcome names a CHI
    Row("discharge", "patient-feedback", "primary", S.DELEGATED, 2, group="prescribing"),  # 4
    Row("discharge", "clinician", "primary", S.AWAITING_TRIAGE, None),  # 5
    Row("referrals", "clinician", "primary", S.CLOSED, 1, 40),  # 6
    Row("referrals", "sea", "secondary", S.CLOSED, 5, 100),  # 7
    Row("referrals", "clinician", "other", S.DECLINED, 1),  # 8
    Row("referrals", "patient-feedback", "primary", S.SCHEDULED, 4),  # 9
    Row("referrals", "clinician", "primary", S.INFO_REQUESTED, 2),  # 10
    Row("prescribing", "sea", "primary", S.CLOSED, 2, 50),  # 11
    Row("prescribing", "clinician", "secondary", S.DELEGATED, 3, group="prescribing"),  # 12: answered Jan-Mar
    Row("prescribing", "clinician", "primary", S.ESCALATED, 1),  # 13
    Row("prescribing", "patient-feedback", "other", S.DUPLICATE, 1),  # 14
    Row("prescribing", "sea", "primary", S.ACCEPTED, 10),  # 15
    Row("results", "clinician", "primary", S.CLOSED, 1, 5),  # 16
    Row("results", "clinician", "secondary", S.CLOSED, 2, 60),  # 17
    Row("results", "sea", "primary", S.DECLINED, 1),  # 18
    Row("results", "clinician", "primary", S.AWAITING_TRIAGE, None),  # 19
    Row("results", "patient-feedback", "secondary", S.ACCEPTED, 8),  # 20
    Row("communication", "clinician", "primary", S.CLOSED, 3, 15),  # 21
    Row("communication", "sea", "other", S.ESCALATED, 2),  # 22
    Row("communication", "clinician", "primary", S.DELEGATED, 1, group="primary-care"),  # 23
    Row("communication", "clinician", "secondary", S.CLOSED, 12, 120),  # 24
    Row("it", "patient-feedback", "primary", S.AWAITING_TRIAGE, None),  # 25
)


def config_tables() -> dict[str, dict[str, object]]:
    """`make_workspace` overrides: the sector map and the two operational groups."""
    return {
        "reports__sectors": {"primary": [DOMAINS["primary"]], "secondary": [DOMAINS["secondary"]]},
        "groups__primary-care": {"name": GROUPS["primary-care"], "contact": ["pc.lead@example.nhs.scot"]},
    }


def received(month: int, n: int) -> datetime:
    return datetime(YEAR, month, n, 10, 0, tzinfo=UTC)


def build(app: App) -> None:
    """The 300 issues, one transaction per month."""
    for month in range(1, 13):
        with app.factory() as session, session.begin():
            for n, row in enumerate(TEMPLATE, start=1):
                _issue(session, month, n, row)


def _issue(session: Session, month: int, n: int, row: Row) -> None:
    at = received(month, n)
    # Odd issues come from a sub-domain: the sector map matches parent domains too.
    host = (
        DOMAINS[row.sector] if n % 2 == 0 or row.sector != "primary" else f"practice{n}.{DOMAINS['primary']}"
    )
    raw = make_message(
        from_=f"Dr Hidden Person <hidden.person{n}@{host}>",
        subject=f"Problem {month}-{n} {SECRET_WORDS}",
        body=f"Private detail {SECRET_WORDS}.\n",
        message_id=f"<report-{month}-{n}@{host}>",
    )
    issue = create_issue(session, parse(raw), "IFG", at, row.area if row.triage is None else None, row.source)
    if row.triage is not None:
        _history(session, issue, month, n, row, at)


def _history(session: Session, issue: Issue, month: int, n: int, row: Row, at: datetime) -> None:
    assert row.triage is not None
    triaged = at + timedelta(days=row.triage)
    issue.area = row.area
    first = {
        S.DECLINED: "DECLINE",
        S.DUPLICATE: "DUPLICATE",
        S.INFO_REQUESTED: "INFO",
        S.SCHEDULED: "MEETING",
    }
    _command(session, issue, first.get(row.status, "ACCEPT"), triaged)
    if row.group is not None:
        issue.delegated_to, issue.due_date = row.group, (at + timedelta(days=30)).date()
        _command(session, issue, "DELEGATE", triaged)
        if row.group == "prescribing" and row.area == "prescribing" and month <= 3:
            add_event(
                session, issue, "lead@example.nhs.scot", "mail", GROUP_RESPONSE, triaged + timedelta(days=1)
            )
    if row.status == S.ESCALATED:
        _command(session, issue, "ESCALATE", triaged + timedelta(days=1))
    if row.outcome is not None:
        issue.outcome = f"Fixed for {CHI}." if n == 3 else f"Outcome {month}-{n}: the pathway was changed."
        _command(session, issue, "CLOSE", at + timedelta(days=row.outcome))
    issue.status = row.status


def _command(session: Session, issue: Issue, keyword: str, at: datetime) -> None:
    add_event(session, issue, ADMIN, "cli", "command", at, keyword=keyword, args=[], text="")
