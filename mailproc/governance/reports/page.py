"""The report as one self-contained HTML file: inline SVG charts, a table beside each, a print
stylesheet for A4; no scripts, fonts, images or requests outside the file."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import jinja2

from mailproc.app import App
from mailproc.governance.reports.model import Report
from mailproc.governance.reports.text import num
from mailproc.outbound.render import RenderError
from mailproc.timefmt import local

TEMPLATE = "report/report.html.j2"


def render_html(app: App, report: Report) -> str:
    """The page, from the (already redacted) model; templates may be overridden like emails."""
    # Imported here: matplotlib adds ~40 MiB to every mailproc process (poll and watch too)
    # that imports the CLI, and only reports draw charts.
    from mailproc.governance.reports.charts import charts

    context = {
        "r": report,
        "charts": {chart.key: chart for chart in charts(report)},
        "generated": local(report.generated_at, ZoneInfo(report.timezone)),
        "num": num,
        "day": _day,
    }
    try:
        return app.renderer.env.get_template(TEMPLATE).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template {TEMPLATE} line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {TEMPLATE}: {exc}") from None


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"
