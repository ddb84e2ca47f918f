"""Reports for the governance committee: counts, trends, SEA themes, times to triage and
outcome, the action log.

`build_report` reads the database once (`facts`), computes the numbers with pure functions
(`compute`) into one frozen model (`model.Report`), passes it through the redaction gate, and
the renderers (`text`, `tables` for CSV and JSON, `html` with charts) only format that model,
so the four formats cannot disagree.
"""

from __future__ import annotations

from datetime import date

from mailproc.app import App
from mailproc.governance.reports.compute import Inputs, compute, percentile
from mailproc.governance.reports.facts import read_facts, sector_of
from mailproc.governance.reports.gate import scrub
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
from mailproc.governance.reports.page import render_html
from mailproc.governance.reports.period import period, quarter_period
from mailproc.governance.reports.tables import CSV_HEADER, csv_rows, render_csv, to_json, write_csv
from mailproc.governance.reports.text import render_text


def build_report(
    app: App, start: date | None = None, end: date | None = None, *, within: Period | None = None
) -> Report:
    """Count and time the issues received from `start` to `end` (or `within`), group's time zone."""
    s = app.settings
    given = Inputs(
        group_name=s.group.name,
        reports_to=s.group.reports_to,
        now=app.clock(),
        timezone=s.group.timezone,
        period=within or period(start, end),
        triage_target_days=s.reports.triage_target_days,
        outcome_target_days=s.reports.outcome_target_days,
        waiting_days=s.triage.waiting_days,
        sectors=tuple(s.reports.sectors),
        group_names={key: group.name for key, group in s.groups.items()},
    )
    return scrub(compute(read_facts(app), given), s.privacy.patterns)


__all__ = [
    "CSV_HEADER",
    "AreaRow",
    "Escalation",
    "GroupActions",
    "LateIssue",
    "OverdueAction",
    "Period",
    "Report",
    "SeaOutcome",
    "SeaTheme",
    "Timing",
    "Trend",
    "build_report",
    "csv_rows",
    "percentile",
    "period",
    "quarter_period",
    "render_csv",
    "render_html",
    "render_text",
    "sector_of",
    "to_json",
    "write_csv",
]  # fmt: skip
