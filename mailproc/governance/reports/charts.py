"""Charts for the HTML report, drawn by matplotlib (Agg, no display) as inline SVG.

The output is deterministic (fixed `svg.hashsalt`, no date in the metadata), so two runs on the
same data give the same bytes. Text stays text (`svg.fonttype = none`): it is searchable, read
by screen readers and redacted like the rest. Element ids are prefixed per chart because several
charts share one HTML document.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before anything draws: never look for a display

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from mailproc.governance.reports.model import Report, Timing, Trend

BLUE = "#005eb8"
DARK = "#003087"
# Distinguishable series colours (colour-blind safe first, then more) for the trend per area.
PALETTE = (
    "#005eb8", "#ed8b00", "#009639", "#7c2855", "#41b6e6", "#ffb81c", "#330072",
    "#da291c", "#768692", "#00a499", "#ae2573", "#425563",
)  # fmt: skip
# English month names whatever the machine's locale, so the SVG is the same everywhere.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STYLE: dict[RcKeyType, Any] = {
    "svg.hashsalt": "mailproc-report",
    "svg.fonttype": "none",
    "font.family": ["sans-serif"],
    "font.sans-serif": ["DejaVu Sans"],  # ships with matplotlib: the same layout everywhere
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class Chart:
    """One chart: an id for the page, its title (the figure caption) and the SVG markup."""

    key: str
    title: str
    svg: str


def charts(report: Report) -> tuple[Chart, ...]:
    """The report's charts, in the order the page shows them."""
    areas = [(row.area, row.received) for row in report.by_area]
    with matplotlib.rc_context(_STYLE):  # the style is read as artists are made, so around all
        return (
            Chart("areas", "Issues by interface area", _bars("areas", areas, "issues")),
            Chart("statuses", "Issues by status", _bars("statuses", list(report.by_status), "issues")),
            Chart("sources", "Issues by source", _bars("sources", list(report.by_source), "issues")),
            Chart(
                "sectors",
                "Issues by sector of the submitter",
                _bars("sectors", list(report.by_sector), "issues"),
            ),
            Chart("trend", "Issues received per month, by interface area", _trend("trend", report.trend)),
            Chart(
                "timing",
                "Days to triage and to outcome",
                _timing("timing", report.to_triage, report.to_outcome),
            ),
        )


def _bars(key: str, counts: Sequence[tuple[str, int]], unit: str) -> str:
    fig = Figure(figsize=(6.2, 0.45 * max(len(counts), 2) + 0.9))
    ax = fig.subplots()
    labels = [label for label, _ in counts][::-1]
    values = [n for _, n in counts][::-1]
    bars = ax.barh(labels, values, color=BLUE)
    ax.bar_label(bars, padding=3, color=DARK)
    ax.set_xlabel(unit)
    _integer_axis(ax, "x")
    return _svg(fig, key)


def _trend(key: str, trend: Trend) -> str:
    fig = Figure(figsize=(9.5, 3.8))
    ax = fig.subplots()
    positions = list(range(len(trend.months)))
    bottom = [0] * len(trend.months)
    for index, (area, values) in enumerate(trend.series):
        ax.bar(positions, values, bottom=bottom, label=area, color=PALETTE[index % len(PALETTE)], width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(positions, [_month(m) for m in trend.months], rotation=45, ha="right")
    ax.set_ylabel("issues received")
    _integer_axis(ax, "y")
    if trend.series:
        handles, labels = ax.get_legend_handles_labels()  # top of the stack first, as drawn
        ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return _svg(fig, key)


def _month(month: str) -> str:
    """`2025-03` as "Mar 2025"."""
    year, number = month.split("-")
    return f"{_MONTHS[int(number) - 1]} {year}"


def _timing(key: str, triage: Timing, outcome: Timing) -> str:
    fig = Figure(figsize=(6.8, 3.2))
    ax = fig.subplots()
    labels = [label for label, _ in triage.distribution]
    positions = list(range(len(labels)))
    for shift, timing, colour in ((-0.2, triage, BLUE), (0.2, outcome, "#ed8b00")):
        values = [n for _, n in timing.distribution]
        bars = ax.bar(
            [p + shift for p in positions], values, width=0.4, color=colour, label=f"to {timing.measure}"
        )
        ax.bar_label(bars, padding=2, fontsize=8)
    ax.set_xticks(positions, labels)
    ax.set_xlabel("days")
    ax.set_ylabel("issues")
    _integer_axis(ax, "y")
    ax.legend(frameon=False)
    return _svg(fig, key)


def _integer_axis(ax: Axes, which: str) -> None:
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(MaxNLocator(integer=True))


def _svg(fig: Figure, key: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    return _inline(buffer.getvalue(), key)


def _inline(svg: str, key: str) -> str:
    """The <svg> element alone, metadata dropped, ids prefixed with `key`."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{key}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{key}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{key}-\1"', svg)
    # The figure's caption names the chart; the table beside it carries the numbers.
    return svg.replace("<svg ", f'<svg role="img" aria-labelledby="caption-{key}" ', 1)
