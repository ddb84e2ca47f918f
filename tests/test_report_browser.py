"""Issue 13, must-show 2 for the report: the HTML report in headless Debian chromium.

Opened from a file:// URL as a committee member would open it from a file share: no console
errors, no request that leaves the file system, no serious or critical axe-core violations,
and a screenshot in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import tests.support.report_fixture as fx
from mailproc.governance import reports
from tests.support.browser import ARTIFACTS, audit, describe, open_page, screenshot
from tests.support.workspace import make_workspace


def _report(tmp_path: Path) -> Path:
    ws = make_workspace(tmp_path / "ws", **fx.config_tables())
    app = dataclasses.replace(ws.app(), clock=lambda: fx.NOW)
    fx.build(app)
    path = tmp_path / "report.html"
    path.write_text(reports.render_html(app, reports.build_report(app, date(2025, 1, 1), date(2025, 12, 31))))
    app.engine.dispose()
    return path


def test_report_opens_cleanly_in_chromium_and_passes_axe(tmp_path: Path, browser: Any) -> None:
    path = _report(tmp_path)
    with open_page(browser, path) as (page, log):
        assert page.title().startswith("NHS Test Interface Group: governance report")
        assert page.locator("figure svg").count() >= 4
        for landmark in ("banner", "navigation", "main", "contentinfo"):
            assert page.get_by_role(landmark).count() == 1, landmark
        assert page.locator("table caption").count() == page.locator("table").count()
        assert page.get_by_role("heading", level=1).count() == 1
        violations = audit(page)
        assert violations == [], describe(violations)
        shot = screenshot(page, "report")
        page.emulate_media(media="print")
        assert not page.locator("nav").is_visible()  # the print stylesheet applies
        printed = screenshot(page, "report-print")
        page.pdf(path=str(ARTIFACTS / "report.pdf"), format="A4")
    assert (log.console_errors, log.page_errors, log.remote_requests) == ([], [], [])
    assert shot.stat().st_size > 50_000 and printed.stat().st_size > 50_000


def test_the_page_log_catches_what_the_report_must_not_do(tmp_path: Path, browser: Any) -> None:
    """The watcher is not blind: a page that fetches and errs is caught (and blocked)."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>bad</title>'
        '<link rel="stylesheet" href="https://fonts.example.org/font.css"></head>'
        "<body><main><img src='http://127.0.0.1:9/x.png'><script>console.error('boom')</script></main></body></html>"
    )
    with open_page(browser, bad) as (page, log):
        violations = audit(page)
    assert "boom" in log.console_errors
    assert "https://fonts.example.org/font.css" in log.remote_requests
    assert "http://127.0.0.1:9/x.png" in log.remote_requests
    assert any(v["id"] == "image-alt" for v in violations)  # an <img> with no alt is critical
