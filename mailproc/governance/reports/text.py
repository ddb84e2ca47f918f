"""The report as aligned plain-text tables for a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from mailproc.governance.reports.model import AreaRow, LateIssue, Report, Timing
from mailproc.timefmt import local

AREA_HEADER = ("area", "received", "open", "closed", "median days to triage", "median days to outcome")


def render_text(report: Report) -> str:
    """Every section of the report (dates in the group's zone)."""
    tz = ZoneInfo(report.timezone)
    lines = [
        f"{report.group_name}: report generated {local(report.generated_at, tz)} ({report.timezone})",
        f"{report.total} issue(s), {report.period.label}",
        "",
        "By interface area",
        *table(AREA_HEADER, [area_cells(row) for row in report.by_area]),
        *_counts("By source", "source", report.by_source),
        *_counts("By sector of the submitter", "sector", report.by_sector),
        *_counts("By status", "status", report.by_status),
        "",
        "Received per month",
        *table(("area", *report.trend.months), [(a, *map(str, v)) for a, v in report.trend.series]),
        "",
        "Significant event analyses (SEA) by area",
        *table(
            ("area", "issues", "statuses"),
            [
                (t.area, str(t.issues), ", ".join(f"{s} {n}" for s, n in t.by_status))
                for t in report.sea_themes
            ],
        ),
        *_timing(report.to_triage),
        *_timing(report.to_outcome),
        *_actions(report),
        "",
        f"Awaiting triage for more than {report.waiting_days} days: {len(report.awaiting_triage)}",
        *_late(report.awaiting_triage),
    ]
    return "\n".join(lines) + "\n"


def _counts(title: str, name: str, counts: Sequence[tuple[str, int]]) -> list[str]:
    return ["", title, *table((name, "issues"), [(k, str(n)) for k, n in counts])]


def _timing(timing: Timing) -> list[str]:
    return [
        "",
        f"Days to {timing.measure}: {timing.count} issue(s), median {num(timing.median) or '-'}, "
        f"90th percentile {num(timing.p90) or '-'}; target {timing.target_days} days",
        f"Outside the target: {len(timing.outside)}",
        *_late(timing.outside),
    ]


def _late(issues: Sequence[LateIssue]) -> list[str]:
    rows = [(i.reference, i.area, num(i.days), "still waiting" if i.waiting else "", i.title) for i in issues]
    return table(("reference", "area", "days", "", "title"), rows)


def _actions(report: Report) -> list[str]:
    return [
        "",
        "Delegated actions owed, by group",
        *table(
            ("group", "open", "overdue"),
            [(g.group, str(g.open), str(g.overdue)) for g in report.actions_by_group],
        ),
        "",
        f"Overdue actions: {len(report.overdue)}",
        *table(
            ("reference", "group", "due", "days_overdue", "title"),
            [
                (o.reference, o.group, f"{o.due_date:%d %b %Y}", str(o.days_overdue), o.title)
                for o in report.overdue
            ],
        ),
        "",
        f"Escalations: {len(report.escalations)}",
        *table(
            ("reference", "escalated", "state", "title"),
            [(e.reference, f"{e.escalated_on:%d %b %Y}", e.state, e.title) for e in report.escalations],
        ),
    ]


def area_cells(row: AreaRow) -> tuple[str, ...]:
    return (
        row.area,
        str(row.received),
        str(row.open),
        str(row.closed),
        num(row.median_days_to_triage),
        num(row.median_days_to_outcome),
    )


def num(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell; numbers right-aligned so digits line up."""
    if not rows:
        return ["  (none)"]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    numeric = [all(_is_number(row[i]) for row in rows) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric, strict=True))
        return ("  " + "  ".join(padded)).rstrip()

    return [line(header), *(line(row) for row in rows)]


def _is_number(cell: str) -> bool:
    return cell == "" or cell.replace(".", "", 1).isdigit()
