"""The report's numbers as frozen values: computed once, then rendered as text, CSV, JSON and
HTML, so the four can never disagree. Every string here has passed the redaction gate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Period:
    """Issues received from `start` to `end` inclusive (group's time zone); None is open-ended."""

    start: date | None
    end: date | None
    label: str


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
class Trend:
    """Issues received per month (`YYYY-MM`) for each area, months in order, zeros included."""

    months: tuple[str, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]


@dataclass(frozen=True)
class SeaOutcome:
    reference: str
    status: str
    outcome: str  # the administrator's CLOSE text; "" unless the issue is closed


@dataclass(frozen=True)
class SeaTheme:
    """The issues of one area whose source is a significant event analysis."""

    area: str
    issues: int
    by_status: tuple[tuple[str, int], ...]
    outcomes: tuple[SeaOutcome, ...]


@dataclass(frozen=True)
class LateIssue:
    """An issue past a target: reference and words an administrator chose, never the
    submitter's. `waiting` when it has still not been triaged (or reached an outcome)."""

    reference: str
    title: str
    area: str
    days: float
    waiting: bool


@dataclass(frozen=True)
class Timing:
    """Days from receipt to the first triage command, or to the closing outcome."""

    measure: str  # "triage" or "outcome"
    count: int
    median: float | None
    p90: float | None
    target_days: int
    # Histogram of the measured days, for the chart: (bin label, issues).
    distribution: tuple[tuple[str, int], ...]
    outside: tuple[LateIssue, ...]


@dataclass(frozen=True)
class GroupActions:
    """Delegated actions still owed by one operational group today."""

    group: str
    open: int
    overdue: int


@dataclass(frozen=True)
class OverdueAction:
    reference: str
    title: str
    group: str
    due_date: date
    days_overdue: int


@dataclass(frozen=True)
class Escalation:
    reference: str
    title: str
    escalated_on: date
    state: str  # the issue's status today


@dataclass(frozen=True)
class Report:
    """Figures for issues received in `period`; the action log and the waiting list describe
    today and include older issues too, because the work is still owed."""

    group_name: str
    reports_to: str
    generated_at: datetime
    timezone: str
    period: Period
    total: int
    by_area: tuple[AreaRow, ...]
    by_source: tuple[tuple[str, int], ...]
    by_sector: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]
    trend: Trend
    sea_themes: tuple[SeaTheme, ...]
    to_triage: Timing
    to_outcome: Timing
    actions_by_group: tuple[GroupActions, ...]
    overdue: tuple[OverdueAction, ...]
    escalations: tuple[Escalation, ...]
    awaiting_triage: tuple[LateIssue, ...]
    waiting_days: int
