"""Issue 13, must-show 1: a year of 300 issues (tests/support/report_fixture.py) and the report.

The expected numbers are worked out by hand from the fixture's 25-row month (`TEMPLATE`),
which every month of 2025 repeats: counts are 12 times the rows, medians are the rows' own.
The HTML, CSV and JSON are each parsed and must all say the same.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

import tests.support.report_fixture as fx
from mailproc.app import App
from mailproc.governance import reports
from mailproc.privacy.detector import find_pid
from tests.support.htmltables import tables
from tests.support.pid_samples import CHI
from tests.support.workspace import SECRET, Workspace, make_workspace

# area: received, open, finished, median days to triage, median days to outcome
AREAS = {
    "communication": (48, 24, 24, 2.5, 67.5),  # rows 21-24; triage 1,2,3,12; outcome 15,120
    "discharge": (60, 24, 36, 2.0, 20.0),  # rows 1-5; triage 1,2,2,3; outcome 10,20,30
    "it": (12, 12, 0, None, None),  # row 25, never triaged
    "prescribing": (60, 36, 24, 2.0, 50.0),  # rows 11-15; triage 1,1,2,3,10; outcome 50
    "referrals": (60, 24, 36, 2.0, 70.0),  # rows 6-10; triage 1,1,2,4,5; outcome 40,100
    "results": (60, 24, 36, 1.5, 32.5),  # rows 16-20; triage 1,1,2,8; outcome 5,60
}
SOURCES = {"clinician": 168, "sea": 72, "patient-feedback": 60}  # 14, 6 and 5 rows
SECTORS = {"primary": 192, "secondary": 72, "other": 36}  # 16, 6 and 3 rows
STATUSES = {
    "awaiting-triage": 36, "info-requested": 12, "accepted": 24, "scheduled": 12, "delegated": 36,
    "escalated": 24, "closed": 120, "declined": 24, "duplicate": 12,
}  # fmt: skip
PER_MONTH = {"communication": 4, "discharge": 5, "it": 1, "prescribing": 5, "referrals": 5, "results": 5}
# Days to triage, 22 rows x 12 = 264 values: eight 1s, six 2s, three 3s, one each of 4, 5, 8, 10, 12.
# Median: values 132 and 133 of 264 are 2s. 90th percentile: position 263 x 0.9 = 236.7
# (from 0); places 228-239 are the 8s, so 8.0. Outside the 7-day target: rows 15, 20, 24
# (10, 8, 12 days) x 12 = 36 done late, and the never-triaged rows 5, 19, 25 older than
# 7 days on 1 Jan 2026: all 36 but December's row 25 (6.6 days) = 35 still waiting.
TRIAGE = {"count": 264, "median": 2.0, "p90": 8.0, "target_days": 7, "outside": 71}
# Days to outcome, 10 closed rows x 12 = 120: 5,10,15,20,30,40,50,60,100,120 twelve times each.
# Median: values 60 and 61 are 30 and 40, so 35.0. 90th percentile: position 119 x 0.9 = 107.1;
# place 107 is 100, place 108 is 120: 100 + 0.1 x 20 = 102.0. Outside 90 days: rows 7 and 24
# x 12 = 24 done late, and the 12 open rows of January to September (received more than 90
# days before 1 Jan 2026; October's are not) = 108 still waiting.
OUTCOME = {"count": 120, "median": 35.0, "p90": 102.0, "target_days": 90, "outside": 132}
TRIAGE_BINS = {"under 1": 0, "1-2": 168, "3-6": 60, "7-13": 36, "14-29": 0, "30-89": 0, "90+": 0}
OUTCOME_BINS = {"under 1": 0, "1-2": 0, "3-6": 12, "7-13": 12, "14-29": 24, "30-89": 48, "90+": 24}
# Owed (unanswered) delegations. Prescribing: row 4 all year (12, overdue Jan-Nov: due 30 days
# after receipt, before 1 Jan) + row 12 April-December (answered January-March) (9, overdue
# April-November 8). Primary care: row 23 (12, overdue 11).
ACTIONS = {"Prescribing Operational Group": (21, 19), "Primary Care Operational Group": (12, 11)}
SEA = {"prescribing": 24, "communication": 12, "discharge": 12, "referrals": 12, "results": 12}


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, App]]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MAILPROC_SECRET", SECRET)
        ws = make_workspace(tmp_path_factory.mktemp("year") / "ws", **fx.config_tables())
        app = dataclasses.replace(ws.app(), clock=lambda: fx.NOW)
        fx.build(app)
        yield ws, app
        app.engine.dispose()


@pytest.fixture(scope="module")
def outputs(year: tuple[Workspace, App]) -> dict[str, str]:
    _, app = year
    report = reports.build_report(app, date(2025, 1, 1), date(2025, 12, 31))
    return {
        "text": reports.render_text(report),
        "csv": reports.render_csv(report),
        "json": reports.to_json(report),
        "html": reports.render_html(app, report),
    }


def test_the_model_matches_the_hand_counted_year(year: tuple[Workspace, App]) -> None:
    _, app = year
    r = reports.build_report(app, date(2025, 1, 1), date(2025, 12, 31))
    assert r.total == 300
    assert {a.area: (a.received, a.open, a.closed, a.median_days_to_triage, a.median_days_to_outcome)
            for a in r.by_area} == AREAS  # fmt: skip
    assert (dict(r.by_source), dict(r.by_sector), dict(r.by_status)) == (SOURCES, SECTORS, STATUSES)
    assert r.trend.months == tuple(f"2025-{m:02d}" for m in range(1, 13))
    assert {area: set(values) for area, values in r.trend.series} == {a: {n} for a, n in PER_MONTH.items()}
    for timing, expected, bins in ((r.to_triage, TRIAGE, TRIAGE_BINS), (r.to_outcome, OUTCOME, OUTCOME_BINS)):
        got = {"count": timing.count, "median": timing.median, "p90": timing.p90,
               "target_days": timing.target_days, "outside": len(timing.outside)}  # fmt: skip
        assert (got, dict(timing.distribution)) == (expected, bins), timing.measure
    assert sum(late.waiting for late in r.to_triage.outside) == 35
    assert {g.group: (g.open, g.overdue) for g in r.actions_by_group} == ACTIONS
    assert len(r.overdue) == 30
    assert r.overdue[0] == reports.OverdueAction(
        "IFG-2025-0004", "", "Prescribing Operational Group", date(2025, 2, 3), 332
    )  # January's row 4: received 4 Jan, due 3 Feb 2025, 332 days before 1 Jan 2026
    assert len(r.escalations) == 24 and {e.state for e in r.escalations} == {"escalated"}
    assert r.escalations[0] == reports.Escalation("IFG-2025-0013", "", date(2025, 1, 15), "escalated")
    assert len(r.awaiting_triage) == 36
    assert {t.area: t.issues for t in r.sea_themes} == SEA
    assert dict(r.sea_themes[0].by_status) == {"accepted": 12, "closed": 12}


def test_the_quarter_and_the_period_bounds(year: tuple[Workspace, App]) -> None:
    _, app = year
    q4 = reports.build_report(app, within=reports.quarter_period("2025-Q4"))
    assert q4.period == reports.Period(date(2025, 10, 1), date(2025, 12, 31), q4.period.label)
    assert q4.total == 75 and q4.trend.months == ("2025-10", "2025-11", "2025-12")
    assert dict(q4.by_status)["closed"] == 30
    # the action log is today's, whatever the period
    assert q4.actions_by_group == reports.build_report(app).actions_by_group
    assert reports.build_report(app, date(2025, 3, 5), date(2025, 3, 5)).total == 1  # row 5 of March
    assert reports.build_report(app, date(2026, 1, 1)).total == 0


def test_html_has_charts_and_tables_that_agree_with_csv_and_json(outputs: dict[str, str]) -> None:
    html = outputs["html"]
    figures = re.findall(r"<figure>\s*<svg\b.*?</svg>\s*<figcaption", html, flags=re.DOTALL)
    assert len(figures) >= 4
    page = tables(html)
    from_csv = _csv(outputs["csv"])
    from_json = json.loads(outputs["json"])
    area_table = page["Issues by interface area (finished = closed, declined or duplicate)"]
    assert area_table[0] == [
        "area",
        "received",
        "open",
        "finished",
        "median days to triage",
        "median days to outcome",
    ]
    for area, received, open_, finished, triage, outcome in area_table[1:]:
        expected = AREAS[area]
        assert (int(received), int(open_), int(finished)) == expected[:3]
        assert (_num(triage), _num(outcome)) == expected[3:]
        assert from_csv["area", area, "received"] == received and from_csv["area", area, "open"] == open_
        assert from_csv["area", area, "median_days_to_outcome"] == outcome
    assert {a["area"]: (a["received"], a["open"], a["closed"], a["median_days_to_triage"],
            a["median_days_to_outcome"]) for a in from_json["by_area"]} == AREAS  # fmt: skip
    for caption, section, expected, key in (
        ("Issues by status", "status", STATUSES, "by_status"),
        ("Issues by source", "source", SOURCES, "by_source"),
        ("Issues by sector of the submitter", "sector", SECTORS, "by_sector"),
    ):
        assert {k: int(n) for k, n in page[caption][1:]} == expected
        assert {k: int(from_csv[section, k, "issues"]) for k in expected} == expected
        assert dict(map(tuple, from_json[key])) == expected


def test_trend_timing_and_actions_agree_in_all_formats(outputs: dict[str, str]) -> None:
    page = tables(outputs["html"])
    from_csv = _csv(outputs["csv"])
    from_json = json.loads(outputs["json"])
    trend = page["Issues received per month, by interface area"]
    assert trend[0][1:] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert {row[0]: set(map(int, row[1:])) for row in trend[1:]} == {a: {n} for a, n in PER_MONTH.items()}
    assert from_csv["trend", "it", "2025-07"] == "1" and from_json["trend"]["series"][2] == ["it", [1] * 12]
    timing = {row[0]: row[1:] for row in page["Days from receipt (median and 90th percentile)"][1:]}
    for measure, expected in (("triage", TRIAGE), ("outcome", OUTCOME)):
        cells = timing[f"to {measure}"]
        values = [int(cells[0]), _num(cells[1]), _num(cells[2]), int(cells[3]), int(cells[4])]
        assert values == list(expected.values())
        section = f"days-to-{measure}"
        assert [from_csv[section, "all", k] for k in ("count", "median", "p90")] == timing[f"to {measure}"][
            :3
        ]
        assert from_json[f"to_{measure}"]["p90"] == expected["p90"]
        assert len(from_json[f"to_{measure}"]["outside"]) == expected["outside"]
    bins = page["Issues by days taken"]
    assert {row[0]: (int(row[1]), int(row[2])) for row in bins[1:]} == {
        label: (TRIAGE_BINS[label], OUTCOME_BINS[label]) for label in TRIAGE_BINS
    }
    actions = page["Delegated actions owed, by operational group"]
    assert {row[0]: (int(row[1]), int(row[2])) for row in actions[1:]} == ACTIONS
    assert {
        g: (int(from_csv["actions", g, "open"]), int(from_csv["actions", g, "overdue"])) for g in ACTIONS
    } == ACTIONS
    assert {g["group"]: (g["open"], g["overdue"]) for g in from_json["actions_by_group"]} == ACTIONS
    assert len(page["Overdue actions: 30"]) == 31 and len(page["Escalations: 24"]) == 25


def test_no_patient_identifier_or_submitter_text_in_any_format(outputs: dict[str, str]) -> None:
    for name, content in outputs.items():
        assert find_pid(content) == [], name
        assert CHI not in content, name
        for secret in (fx.SECRET_WORDS, "hidden.person", "Hidden Person", "Problem 1-", "Private detail"):
            assert secret not in content, (name, secret)
    # Not vacuous: the SEA outcome that named a CHI is there, redacted, in every format.
    for name in ("csv", "json", "html"):
        assert "Fixed for [CHI removed]." in outputs[name], name


def test_html_is_self_contained_and_deterministic(
    year: tuple[Workspace, App], outputs: dict[str, str]
) -> None:
    _, app = year
    html = outputs["html"]
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en-GB">' in html
    for tag in ("<script", "<link", "<img", "<iframe", "@import", "@font-face"):
        assert tag not in html, tag
    # Only XML namespaces name a URL; nothing is fetched.
    assert set(re.findall(r"https?://[^\s\"')]+", html)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    assert "@media print" in html and "size: A4" in html
    again = reports.render_html(app, reports.build_report(app, date(2025, 1, 1), date(2025, 12, 31)))
    assert again == html  # same bytes: no dates or random ids in the SVG


def test_cli_writes_each_format(year: tuple[Workspace, App], tmp_path: Path) -> None:
    ws, _ = year
    out = tmp_path / "q4.html"
    done = ws.cli("report", "--quarterly", "2025-Q4", "--format", "html", "--out", str(out))
    assert done.stdout.strip() == f"report (html): {out}"
    assert "2025-Q4 (received 1 Oct 2025 to 31 Dec 2025)" in out.read_text()
    shown = ws.cli("report", "--from", "2025-10-01", "--to", "2025-12-31", "--format", "json")
    assert json.loads(shown.stdout)["total"] == 75
    assert ws.cli("report", "--quarterly", "2025-Q5", check=False).returncode == 2
    mixed = ws.cli("report", "--quarterly", "2025-Q4", "--from", "2025-01-01", check=False)
    assert mixed.returncode == 2 and "not both" in mixed.stderr


def _csv(text: str) -> dict[tuple[str, str, str], str]:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(reports.CSV_HEADER)
    return {(r["section"], r["key"], r["measure"]): r["value"] for r in rows}


def _num(cell: str) -> float | None:
    return float(cell) if cell else None
