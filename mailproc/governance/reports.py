"""Reports for the governance committee: counts, times to triage and outcome, overdue work.

`build_report` reads the database once into frozen values; `render_text` and `write_csv`
only format them. Strings from the database (subjects, areas, references) are redacted of
patient identifiers as they are read, so neither output can carry a CHI or NHS number.
"""

from __future__ import annotations

import csv
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mailproc.app import App
from mailproc.privacy import detector
from mailproc.store.models import Issue
from mailproc.timefmt import local
from mailproc.vocabulary import FINAL_STATUSES, IssueStatus

UNASSIGNED = "unassigned"
CSV_HEADER = ("area", "received", "open", "closed", "median_days_to_triage", "median_days_to_outcome")
TEXT_HEADER = ("area", "received", "open", "closed", "median days to triage", "median days to outcome")


@dataclass(frozen=True)
class AreaRow:
    """One interface area. `closed` counts every finished issue (closed, declined, duplicate),
    so that received = open + closed; the status table tells those three apart."""

    area: str
    received: int
    open: int
    closed: int
    median_days_to_triage: float | None
    median_days_to_outcome: float | None


@dataclass(frozen=True)
class OverdueAction:
    reference: str
    subject: str
    group: str
    due_date: date
    days_overdue: int


@dataclass(frozen=True)
class WaitingIssue:
    reference: str
    subject: str
    received: datetime
    days_waiting: int


@dataclass(frozen=True)
class Report:
    """Figures for issues received since `since` (all when None); the overdue and waiting
    lists describe today and include older issues too, because the work is still owed."""

    group_name: str
    generated_at: datetime
    timezone: ZoneInfo
    since: date | None
    total: int
    by_area: tuple[AreaRow, ...]
    by_source: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]
    overdue: tuple[OverdueAction, ...]
    awaiting_triage: tuple[WaitingIssue, ...]
    waiting_days: int


@dataclass(frozen=True)
class _Facts:
    """What the report needs of one issue, already redacted."""

    reference: str
    subject: str
    area: str
    source: str
    status: str
    received: datetime
    days_to_triage: float | None
    days_to_outcome: float | None
    delegated_to: str | None
    due_date: date | None


def build_report(app: App, since: date | None = None) -> Report:
    """Count and time the issues received since `since` (in the group's time zone)."""
    tz = app.settings.group.timezone
    now = app.clock()
    facts = _read_facts(app)
    period = [f for f in facts if since is None or f.received.astimezone(tz).date() >= since]
    return Report(
        group_name=app.settings.group.name,
        generated_at=now,
        timezone=tz,
        since=since,
        total=len(period),
        by_area=_area_rows(period),
        by_source=_counted(f.source for f in period),
        by_status=_status_counts(period),
        overdue=_overdue(app, facts, app.today()),
        awaiting_triage=_waiting(facts, now, timedelta(days=app.settings.triage.waiting_days)),
        waiting_days=app.settings.triage.waiting_days,
    )


def _read_facts(app: App) -> list[_Facts]:
    extra = app.settings.privacy.patterns
    with app.factory() as session:
        issues = session.scalars(select(Issue).options(selectinload(Issue.events)).order_by(Issue.id))
        return [_facts(issue, extra) for issue in issues]


def _facts(issue: Issue, extra: Sequence[detector.ExtraPattern]) -> _Facts:
    commands = [e for e in issue.events if e.action == "command"]
    closes = [e for e in commands if e.detail.get("keyword") == "CLOSE"]
    received = issue.created_at
    to_triage = _days(commands[0].at - received) if commands else None
    # The last CLOSE counts: an earlier one may have been undone and the issue closed again.
    to_outcome = _days(closes[-1].at - received) if closes and issue.status == IssueStatus.CLOSED else None
    return _Facts(
        reference=detector.redact(issue.reference, extra),
        subject=detector.redact(issue.subject, extra),
        area=detector.redact(issue.area or issue.suggested_area or UNASSIGNED, extra),
        source=detector.redact(issue.source_kind, extra),
        status=issue.status,
        received=received,
        days_to_triage=to_triage,
        days_to_outcome=to_outcome,
        delegated_to=issue.delegated_to,
        due_date=issue.due_date,
    )


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 1) if present else None


def _area_rows(facts: Sequence[_Facts]) -> tuple[AreaRow, ...]:
    by_area: dict[str, list[_Facts]] = defaultdict(list)
    for fact in facts:
        by_area[fact.area].append(fact)
    rows = []
    for area in sorted(by_area, key=lambda a: (a == UNASSIGNED, a)):
        group = by_area[area]
        finished = sum(1 for f in group if f.status in FINAL_STATUSES)
        rows.append(
            AreaRow(
                area=area,
                received=len(group),
                open=len(group) - finished,
                closed=finished,
                median_days_to_triage=_median(f.days_to_triage for f in group),
                median_days_to_outcome=_median(f.days_to_outcome for f in group),
            )
        )
    return tuple(rows)


def _counted(values: Iterable[str]) -> tuple[tuple[str, int], ...]:
    counts = Counter(values)
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _status_counts(facts: Sequence[_Facts]) -> tuple[tuple[str, int], ...]:
    counts = Counter(f.status for f in facts)
    known = tuple(IssueStatus)
    order = [s for s in known if counts[s]] + sorted(set(counts) - set(known))
    return tuple((status, counts[status]) for status in order)


def _overdue(app: App, facts: Sequence[_Facts], today: date) -> tuple[OverdueAction, ...]:
    found = []
    for f in facts:
        if f.status != IssueStatus.DELEGATED or f.due_date is None or f.due_date >= today:
            continue
        group = app.settings.groups.get(f.delegated_to or "")
        name = group.name if group else (f.delegated_to or "")
        found.append(OverdueAction(f.reference, f.subject, name, f.due_date, (today - f.due_date).days))
    return tuple(sorted(found, key=lambda o: (-o.days_overdue, o.reference)))


def _waiting(facts: Sequence[_Facts], now: datetime, wait: timedelta) -> tuple[WaitingIssue, ...]:
    found = [
        WaitingIssue(f.reference, f.subject, f.received, (now - f.received).days)
        for f in facts
        if f.status == IssueStatus.AWAITING_TRIAGE and now - f.received > wait
    ]
    return tuple(sorted(found, key=lambda w: (-w.days_waiting, w.reference)))


def render_text(report: Report) -> str:
    """The report as aligned plain-text tables for a terminal (dates in the group's zone)."""
    tz = report.timezone
    period = f"received since {report.since:%d %b %Y}" if report.since else "all issues"
    lines = [
        f"{report.group_name}: report generated {local(report.generated_at, tz)} ({tz.key})",
        f"{report.total} issue(s), {period}",
        "",
        "By interface area",
        *_table(TEXT_HEADER, [_area_cells(row) for row in report.by_area]),
        "",
        "By source",
        *_table(("source", "issues"), [(k, str(n)) for k, n in report.by_source]),
        "",
        "By status",
        *_table(("status", "issues"), [(k, str(n)) for k, n in report.by_status]),
        "",
        f"Overdue actions: {len(report.overdue)}",
        *_table(
            ("reference", "group", "due", "days_overdue", "subject"),
            [
                (o.reference, o.group, f"{o.due_date:%d %b %Y}", str(o.days_overdue), _short(o.subject))
                for o in report.overdue
            ],
        ),
        "",
        f"Awaiting triage for more than {report.waiting_days} days: {len(report.awaiting_triage)}",
        *_table(
            ("reference", "received", "days", "subject"),
            [
                (w.reference, local(w.received, tz, "%d %b %Y"), str(w.days_waiting), _short(w.subject))
                for w in report.awaiting_triage
            ],
        ),
    ]
    return "\n".join(lines) + "\n"


def _area_cells(row: AreaRow) -> tuple[str, ...]:
    return (
        row.area,
        str(row.received),
        str(row.open),
        str(row.closed),
        _num(row.median_days_to_triage),
        _num(row.median_days_to_outcome),
    )


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell; numbers right-aligned so digits line up."""
    if not rows:
        return ["  (none)"]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    numeric = [all(_is_number(row[i]) for row in rows) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True))
        return ("  " + "  ".join(padded)).rstrip()

    return [line(header), *(line(row) for row in rows)]


def _is_number(cell: str) -> bool:
    return cell == "" or cell.replace(".", "", 1).isdigit()


def write_csv(report: Report, path: Path) -> None:
    """One row per interface area: received, open, closed and the two median times in days."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for row in report.by_area:
            writer.writerow(_area_cells(row))
