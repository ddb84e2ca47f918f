"""What the report needs of each issue, read from the database once and redacted as it is read.

The submitter's own words (subject, body) are never read into a fact: an issue is named by its
reference and, where an administrator gave one, its public summary (once published) or working
title. Areas, sources and outcomes are redacted of patient identifiers here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mailproc.app import App
from mailproc.governance.actions import GROUP_RESPONSE
from mailproc.privacy import detector
from mailproc.store.models import Event, Issue
from mailproc.vocabulary import IssueStatus

UNASSIGNED = "unassigned"
OTHER_SECTOR = "other"


@dataclass(frozen=True)
class Facts:
    """One issue as the report sees it; times are UTC-aware, days are fractional."""

    reference: str
    title: str  # public summary or working title; "" when an administrator gave neither
    area: str
    source: str
    sector: str
    status: str
    received: datetime
    days_to_triage: float | None
    days_to_outcome: float | None
    delegated_to: str | None
    due_date: date | None
    answered: bool  # the delegated group has responded since the latest DELEGATE
    escalated_at: datetime | None
    outcome: str  # the CLOSE text of a closed issue, else ""


def read_facts(app: App) -> list[Facts]:
    """Every issue, oldest first."""
    extra = app.settings.privacy.patterns
    sectors = app.settings.reports.sectors
    with app.factory() as session:
        issues = session.scalars(select(Issue).options(selectinload(Issue.events)).order_by(Issue.id))
        return [_facts(issue, extra, sectors) for issue in issues]


def sector_of(address: str, sectors: Mapping[str, Sequence[str]]) -> str:
    """The first sector listing the address's domain or a parent of it; else "other"."""
    domain = address.rpartition("@")[2].lower()
    for name, domains in sectors.items():
        if any(domain == d or domain.endswith("." + d) for d in domains):
            return name
    return OTHER_SECTOR


def _facts(
    issue: Issue, extra: Sequence[detector.ExtraPattern], sectors: Mapping[str, Sequence[str]]
) -> Facts:
    undone = {e.detail.get("undid") for e in issue.events if e.action == "undo"}
    commands = [e for e in issue.events if e.action == "command" and e.id not in undone]
    closes = _keyword(commands, "CLOSE")
    escalations = _keyword(commands, "ESCALATE")
    received = issue.created_at
    closed = issue.status == IssueStatus.CLOSED
    # The last CLOSE counts: an earlier one may have been undone and the issue closed again.
    to_outcome = _days(closes[-1].at - received) if closes and closed else None
    return Facts(
        reference=detector.redact(issue.reference, extra),
        title=detector.redact(_title(issue), extra),
        area=detector.redact(issue.area or issue.suggested_area or UNASSIGNED, extra),
        source=detector.redact(issue.source_kind, extra),
        sector=sector_of(issue.submitter_email, sectors),
        status=str(issue.status),
        received=received,
        days_to_triage=_days(commands[0].at - received) if commands else None,
        days_to_outcome=to_outcome,
        delegated_to=issue.delegated_to,
        due_date=issue.due_date,
        answered=_answered(issue.events, commands),
        escalated_at=escalations[-1].at if escalations else None,
        outcome=detector.redact(issue.outcome or "", extra) if closed else "",
    )


def _title(issue: Issue) -> str:
    """Words an administrator chose for the issue: the public summary while published (never
    for a declined issue), else the working title; never the submitter's subject."""
    if issue.public_summary and issue.published_at is not None and issue.status != IssueStatus.DECLINED:
        return issue.public_summary
    return issue.title or ""


def _keyword(commands: Sequence[Event], keyword: str) -> list[Event]:
    return [e for e in commands if e.detail.get("keyword") == keyword]


def _answered(events: Sequence[Event], commands: Sequence[Event]) -> bool:
    delegations = _keyword(commands, "DELEGATE")
    if not delegations:
        return False
    since = delegations[-1].id
    return any(e.action == GROUP_RESPONSE and e.id > since for e in events)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400
