"""Many published issues at once, through the store API, for register builds at scale.

The benchmark (benchmarks/register_build.py) and the incremental-build test need thousands
of issues; going through mail and triage would take minutes, so the issues are written as
triage leaves them: an issue row, its `submitted` and command events, a public summary.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from mailproc.app import App
from mailproc.store.db import transaction
from mailproc.store.issues import add_event, allocate
from mailproc.store.meetings import MeetingDetails, add_item, create_meeting, schedule_issue
from mailproc.store.models import Issue
from mailproc.vocabulary import IssueStatus

AREAS = ("discharge", "referral", "results", "prescribing", "communication")
STATUSES = (IssueStatus.ACCEPTED, IssueStatus.DELEGATED, IssueStatus.CLOSED, IssueStatus.DECLINED)
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ADMIN = "admin@example.nhs.scot"


def publish_many(app: App, count: int, prefix: str = "IFG") -> list[str]:
    """`count` published issues over the months from START; their references, oldest first."""
    references = []
    with transaction(app.factory) as session:
        for n in range(count):
            at = START + timedelta(hours=7 * n)
            reference, seq = allocate(session, prefix, at.year)
            status = STATUSES[n % len(STATUSES)]
            issue = Issue(
                reference=reference,
                year=at.year,
                seq=seq,
                status=status,
                subject=f"Submitter's own words {n}",
                submitter_email=f"gp{n}@practice.example",
                area=AREAS[n % len(AREAS)],
                outcome=f"Outcome agreed for issue {n}." if status == IssueStatus.CLOSED else None,
                public_summary=f"Published summary number {n} about {AREAS[n % len(AREAS)]}",
                created_at=at,
                updated_at=at,
            )
            session.add(issue)
            session.flush()
            add_event(session, issue, issue.submitter_email, "email", "submitted", at)
            add_event(
                session,
                issue,
                ADMIN,
                "cli",
                "command",
                at + timedelta(days=1),
                keyword="ACCEPT",
                args=[issue.area],
            )
            references.append(reference)
    return references


def change_summary(app: App, reference: str, summary: str) -> None:
    """What PUBLISH with new words does to the row (the register reads only the row)."""
    with transaction(app.factory) as session:
        issue = session.scalars(select(Issue).where(Issue.reference == reference)).one()
        issue.public_summary = summary


def unpublish(app: App, reference: str) -> None:
    with transaction(app.factory) as session:
        issue = session.scalars(select(Issue).where(Issue.reference == reference)).one()
        issue.public_summary = None


def meeting_with(app: App, references: list[str], day: date = date(2026, 2, 4)) -> int:
    """A planned meeting with these issues on its agenda and one item that is not an issue."""
    now = START + timedelta(days=20)
    details = MeetingDetails(time=time(14, 0), length_minutes=90, location="Room 2, Main Building")
    with transaction(app.factory) as session:
        meeting = create_meeting(session, day, "Discharge", details, now)
        for reference in references:
            issue = session.scalars(select(Issue).where(Issue.reference == reference)).one()
            schedule_issue(session, issue, meeting, now)
        add_item(session, meeting, "Review of the terms of reference", now)
        return meeting.id
