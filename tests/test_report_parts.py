"""The report's parts on their own: configuration, sectors, periods, the percentile, and the
HTML with hostile and patient-identifying strings typed by an administrator."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mailproc.config import load
from mailproc.config.settings import ReportSettings
from mailproc.errors import ConfigError, UsageError
from mailproc.governance import reports
from mailproc.intake.parsing.parser import parse
from mailproc.store.issues import add_event, create_issue
from mailproc.store.models import Issue
from tests.support.mail import ADMIN, make_message
from tests.support.pid_samples import CHI
from tests.support.workspace import make_workspace


def test_reports_settings_load_with_defaults_and_reject_mistakes(tmp_path: Path) -> None:
    assert load(make_workspace(tmp_path / "a").config).reports == ReportSettings(7, 90, {})
    ws = make_workspace(
        tmp_path / "b",
        reports={"triage_target_days": 5, "outcome_target_days": 60},
        reports__sectors={"primary": ["@GP.Example.Scot"], "secondary": ["hospital.example.scot"]},
    )
    assert load(ws.config).reports == ReportSettings(
        5, 60, {"primary": ("gp.example.scot",), "secondary": ("hospital.example.scot",)}
    )
    for name, tables, key in (
        ("c", {"reports__sectors": {"other": ["example.org"]}}, "reports.sectors.other"),
        ("d", {"reports": {"triage_target": 5}}, "reports.triage_target"),
        ("e", {"reports": {"outcome_target_days": 0}}, "reports.outcome_target_days"),
    ):
        with pytest.raises(ConfigError) as caught:
            load(make_workspace(tmp_path / name, **tables).config)
        assert caught.value.key == key


def test_sector_is_the_first_listed_domain_or_parent_domain() -> None:
    sectors = {"primary": ("gp.example.scot",), "secondary": ("example.scot",)}
    assert reports.sector_of("a@gp.example.scot", sectors) == "primary"
    assert reports.sector_of("a@practice7.GP.example.scot", sectors) == "primary"
    assert reports.sector_of("a@ward.example.scot", sectors) == "secondary"
    assert reports.sector_of("a@evilgp.example.scot", sectors) == "secondary"  # not a sub-domain of gp.
    assert reports.sector_of("a@example.scot.evil.org", sectors) == "other"
    assert reports.sector_of("", sectors) == "other"


def test_periods_and_quarters() -> None:
    q1 = reports.quarter_period("2026-Q1")
    assert (q1.start, q1.end, q1.label) == (
        date(2026, 1, 1),
        date(2026, 3, 31),
        "2026-Q1 (received 1 Jan 2026 to 31 Mar 2026)",
    )
    assert (reports.quarter_period("2024q4").start, reports.quarter_period("2024-Q4").end) == (
        date(2024, 10, 1), date(2024, 12, 31),
    )  # fmt: skip
    assert reports.period(date(2026, 1, 1)).label == "received since 1 Jan 2026"
    assert reports.period().label == "all issues"
    for bad in ("2026-Q5", "Q1-2026", "2026"):
        with pytest.raises(UsageError, match="YYYY-Qn"):
            reports.quarter_period(bad)
    with pytest.raises(UsageError, match="before"):
        reports.period(date(2026, 2, 1), date(2026, 1, 1))


def test_percentile_interpolates_between_ranks() -> None:
    assert reports.percentile([5.0], 0.9) == 5.0
    assert reports.percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9) == pytest.approx(9.1)
    assert reports.percentile([10.0, 0.0], 0.5) == 5.0  # unsorted input


def test_html_escapes_and_redacts_what_administrators_typed(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    app = ws.app()
    t0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    with app.factory() as session, session.begin():
        for n, area in enumerate(("<script>alert(1)</script>", f"ward {CHI}"), start=1):
            raw = make_message(subject=f"Subject {n}", message_id=f"<hostile-{n}@practice.example>")
            issue = create_issue(session, parse(raw), "IFG", t0, None, "sea")
            issue.area, issue.status, issue.outcome = area, "closed", f"Done for <b>{CHI}</b> & more."
            add_event(
                session,
                issue,
                ADMIN,
                "cli",
                "command",
                t0 + timedelta(days=1),
                keyword="CLOSE",
                args=[],
                text="",
            )
    later = dataclasses.replace(app, clock=lambda: t0 + timedelta(days=2))
    html = reports.render_html(later, reports.build_report(later))
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # tables and SVG text
    assert CHI not in html and html.count("[CHI removed]") >= 4  # area and outcome, in tables and charts
    assert "Done for &lt;b&gt;[CHI removed]&lt;/b&gt; &amp; more." in html
    with app.factory() as session:
        assert CHI in session.scalars(select(Issue.outcome)).first()  # the original stays in the core


def test_an_empty_database_gives_a_whole_report(tmp_path: Path) -> None:
    app = make_workspace(tmp_path / "ws").app()
    report = reports.build_report(app)
    assert (report.total, report.by_area, report.trend.months, report.to_triage.median) == (0, (), (), None)
    html = reports.render_html(app, report)
    assert html.count("<figure><svg") == 6 and "No issues from significant event analyses" in html
    assert "0 issue(s), all issues" in reports.render_text(report)
    assert reports.render_csv(report).splitlines()[:3] == [
        "section,key,measure,value", "summary,period,label,all issues", "summary,total,issues,0",
    ]  # fmt: skip
