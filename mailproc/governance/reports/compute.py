"""Pure functions from issue facts to the report model: no database, no clock, no I/O."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from mailproc.governance.reports.facts import OTHER_SECTOR, UNASSIGNED, Facts
from mailproc.governance.reports.model import (
    AreaRow,
    Escalation,
    GroupActions,
    LateIssue,
    OverdueAction,
    Period,
    Report,
    SeaOutcome,
    SeaTheme,
    Timing,
    Trend,
)
from mailproc.vocabulary import FINAL_STATUSES, IssueStatus

SEA = "sea"
# Histogram bins of days (lower bound inclusive, upper exclusive) and their labels.
BINS: tuple[tuple[float, float, str], ...] = (
    (0, 1, "under 1"), (1, 3, "1-2"), (3, 7, "3-6"), (7, 14, "7-13"),
    (14, 30, "14-29"), (30, 90, "30-89"), (90, math.inf, "90+"),
)  # fmt: skip


@dataclass(frozen=True)
class Inputs:
    """Everything the report depends on besides the facts."""

    group_name: str
    reports_to: str
    now: datetime
    timezone: ZoneInfo
    period: Period
    triage_target_days: int
    outcome_target_days: int
    waiting_days: int
    sectors: tuple[str, ...]  # configured sector names, in order ("other" is added)
    group_names: Mapping[str, str]  # operational group key -> display name


def compute(facts: Sequence[Facts], given: Inputs) -> Report:
    """The report for the issues received in `given.period`, and today's owed work."""
    tz = given.timezone
    period = [f for f in facts if _within(f.received.astimezone(tz).date(), given.period)]
    today = given.now.astimezone(tz).date()
    return Report(
        group_name=given.group_name,
        reports_to=given.reports_to,
        generated_at=given.now,
        timezone=tz.key,
        period=given.period,
        total=len(period),
        by_area=_area_rows(period),
        by_source=_counted(f.source for f in period),
        by_sector=_sectors(period, given.sectors),
        by_status=_status_counts(period),
        trend=_trend(period, given.period, tz),
        sea_themes=_sea_themes(period),
        to_triage=_timing("triage", period, given.now, given.triage_target_days),
        to_outcome=_timing("outcome", period, given.now, given.outcome_target_days),
        actions_by_group=_actions_by_group(facts, today, given.group_names),
        overdue=_overdue(facts, today, given.group_names),
        escalations=_escalations(period, tz),
        awaiting_triage=_waiting(facts, given.now, timedelta(days=given.waiting_days)),
        waiting_days=given.waiting_days,
    )


def _within(day: date, period: Period) -> bool:
    return (period.start is None or day >= period.start) and (period.end is None or day <= period.end)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default): p = v[k] + (v[k+1]-v[k])·r
    at position (n-1)·fraction."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 1) if present else None


def _area_rows(facts: Sequence[Facts]) -> tuple[AreaRow, ...]:
    by_area: dict[str, list[Facts]] = defaultdict(list)
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


def _sectors(facts: Sequence[Facts], names: Sequence[str]) -> tuple[tuple[str, int], ...]:
    counts = Counter(f.sector for f in facts)
    return tuple((name, counts[name]) for name in (*names, OTHER_SECTOR))


def _status_counts(facts: Sequence[Facts]) -> tuple[tuple[str, int], ...]:
    counts = Counter(f.status for f in facts)
    known = [str(s) for s in IssueStatus]
    order = [s for s in known if counts[s]] + sorted(set(counts) - set(known))
    return tuple((status, counts[status]) for status in order)


def _months(first: date, last: date) -> tuple[str, ...]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


def _trend(facts: Sequence[Facts], period: Period, tz: ZoneInfo) -> Trend:
    days = [f.received.astimezone(tz).date() for f in facts]
    first = period.start or (min(days) if days else None)
    last = period.end or (max(days) if days else None)
    if first is None or last is None:
        return Trend((), ())
    months = _months(first, last)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for fact, day in zip(facts, days, strict=True):
        counts[fact.area][f"{day:%Y-%m}"] += 1
    areas = [row.area for row in _area_rows(facts)]
    return Trend(months, tuple((a, tuple(counts[a][m] for m in months)) for a in areas))


def _sea_themes(facts: Sequence[Facts]) -> tuple[SeaTheme, ...]:
    sea = [f for f in facts if f.source == SEA]
    themes = []
    for row in _area_rows(sea):
        group = [f for f in sea if f.area == row.area]
        outcomes = tuple(SeaOutcome(f.reference, f.status, f.outcome) for f in group)
        themes.append(SeaTheme(row.area, len(group), _status_counts(group), outcomes))
    return tuple(sorted(themes, key=lambda t: (-t.issues, t.area)))


def _timing(measure: str, facts: Sequence[Facts], now: datetime, target: int) -> Timing:
    values = [v for f in facts if (v := _measured(measure, f)) is not None]
    outside = [LateIssue(f.reference, f.title, f.area, round(v, 1), False)
               for f in facts if (v := _measured(measure, f)) is not None and v > target]  # fmt: skip
    for f in facts:
        age = (now - f.received).total_seconds() / 86400
        if _measured(measure, f) is None and _still_waiting(measure, f) and age > target:
            outside.append(LateIssue(f.reference, f.title, f.area, round(age, 1), True))
    return Timing(
        measure=measure,
        count=len(values),
        median=_median(values),
        p90=round(percentile(values, 0.9), 1) if values else None,
        target_days=target,
        distribution=tuple((label, sum(1 for v in values if lo <= v < hi)) for lo, hi, label in BINS),
        outside=tuple(sorted(outside, key=lambda late: (-late.days, late.reference))),
    )


def _measured(measure: str, fact: Facts) -> float | None:
    return fact.days_to_triage if measure == "triage" else fact.days_to_outcome


def _still_waiting(measure: str, fact: Facts) -> bool:
    """Untriaged (no command yet), or with no outcome while the issue is still open."""
    return measure == "triage" or fact.status not in FINAL_STATUSES


def _owed(facts: Sequence[Facts]) -> list[Facts]:
    return [f for f in facts if f.status == IssueStatus.DELEGATED and f.delegated_to and not f.answered]


def _actions_by_group(
    facts: Sequence[Facts], today: date, names: Mapping[str, str]
) -> tuple[GroupActions, ...]:
    owed: dict[str, list[Facts]] = defaultdict(list)
    for f in _owed(facts):
        owed[names.get(f.delegated_to or "", f.delegated_to or "")].append(f)
    return tuple(
        GroupActions(
            group, len(items), sum(1 for f in items if f.due_date is not None and f.due_date < today)
        )
        for group, items in sorted(owed.items())
    )


def _overdue(facts: Sequence[Facts], today: date, names: Mapping[str, str]) -> tuple[OverdueAction, ...]:
    found = [
        OverdueAction(
            f.reference,
            f.title,
            names.get(f.delegated_to or "", f.delegated_to or ""),
            f.due_date,
            (today - f.due_date).days,
        )
        for f in _owed(facts)
        if f.due_date is not None and f.due_date < today
    ]
    return tuple(sorted(found, key=lambda o: (-o.days_overdue, o.reference)))


def _escalations(facts: Sequence[Facts], tz: ZoneInfo) -> tuple[Escalation, ...]:
    found = [
        Escalation(f.reference, f.title, f.escalated_at.astimezone(tz).date(), f.status)
        for f in facts
        if f.escalated_at is not None
    ]
    return tuple(sorted(found, key=lambda e: (e.escalated_on, e.reference)))


def _waiting(facts: Sequence[Facts], now: datetime, wait: timedelta) -> tuple[LateIssue, ...]:
    found = [
        LateIssue(f.reference, f.title, f.area, float((now - f.received).days), True)
        for f in facts
        if f.status == IssueStatus.AWAITING_TRIAGE and now - f.received > wait
    ]
    return tuple(sorted(found, key=lambda w: (-w.days, w.reference)))
