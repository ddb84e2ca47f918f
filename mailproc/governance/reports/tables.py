"""The report as CSV (one long table: section, key, measure, value) and as JSON (the model's
own shape). Both are written from the same model as the text and the HTML."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from mailproc.governance.reports.model import LateIssue, Report, Timing

CSV_HEADER = ("section", "key", "measure", "value")
Row = tuple[str, str, str, str]


def csv_rows(report: Report) -> Iterator[Row]:
    """Every figure of the report, one per row."""
    yield "summary", "period", "label", report.period.label
    yield "summary", "total", "issues", str(report.total)
    for row in report.by_area:
        for name in ("received", "open", "closed", "median_days_to_triage", "median_days_to_outcome"):
            yield "area", row.area, name, _cell(getattr(row, name))
    for section, counts in (
        ("source", report.by_source),
        ("sector", report.by_sector),
        ("status", report.by_status),
    ):
        yield from ((section, key, "issues", str(n)) for key, n in counts)
    for area, values in report.trend.series:
        yield from (
            ("trend", area, month, str(n)) for month, n in zip(report.trend.months, values, strict=True)
        )
    for theme in report.sea_themes:
        yield from (("sea", theme.area, status, str(n)) for status, n in theme.by_status)
        yield from (("sea-outcome", o.reference, o.status, o.outcome) for o in theme.outcomes)
    yield from _timing_rows(report.to_triage)
    yield from _timing_rows(report.to_outcome)
    for group in report.actions_by_group:
        yield "actions", group.group, "open", str(group.open)
        yield "actions", group.group, "overdue", str(group.overdue)
    for o in report.overdue:
        yield from (
            ("overdue", o.reference, k, v)
            for k, v in (
                ("group", o.group),
                ("due_date", o.due_date.isoformat()),
                ("days_overdue", str(o.days_overdue)),
                ("title", o.title),
            )
        )
    for e in report.escalations:
        yield from (
            ("escalation", e.reference, k, v)
            for k, v in (("escalated_on", e.escalated_on.isoformat()), ("state", e.state), ("title", e.title))
        )
    yield from _late_rows("awaiting-triage", report.awaiting_triage)


def _timing_rows(timing: Timing) -> Iterator[Row]:
    section = f"days-to-{timing.measure}"
    for name in ("count", "median", "p90", "target_days"):
        yield section, "all", name, _cell(getattr(timing, name))
    yield from ((section, "distribution", label, str(n)) for label, n in timing.distribution)
    yield from _late_rows(f"outside-target-{timing.measure}", timing.outside)


def _late_rows(section: str, issues: tuple[LateIssue, ...]) -> Iterator[Row]:
    for late in issues:
        yield section, late.reference, "days", _cell(late.days)
        yield section, late.reference, "waiting", "yes" if late.waiting else "no"
        yield section, late.reference, "area", late.area
        yield section, late.reference, "title", late.title


def _cell(value: object) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def render_csv(report: Report) -> str:
    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(report))
    return handle.getvalue()


def write_csv(report: Report, path: Path) -> None:
    """The long CSV table into `path`."""
    path.write_text(render_csv(report), encoding="utf-8", newline="")


def to_json(report: Report) -> str:
    """The model as JSON: dates ISO 8601, pairs as [name, count] lists."""
    return json.dumps(dataclasses.asdict(report), default=_jsonable, indent=2, ensure_ascii=False) + "\n"


def _jsonable(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
