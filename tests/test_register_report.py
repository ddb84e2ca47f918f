"""The published register and the governance report, on a real SQLite workspace.

Mail goes into the Maildir inbox and through `service.poll_once`; triage commands are applied
as the CLI applies them, with an injected clock so that times to triage and outcome are known.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mailproc.app import App
from mailproc.errors import MailprocError
from mailproc.governance import reports
from mailproc.governance.register import build_register
from mailproc.intake import runner as service
from mailproc.privacy.detector import find_pid
from mailproc.store.models import Issue
from tests.support.mail import make_message
from tests.support.pid_samples import CHI
from tests.support.workspace import Workspace, make_workspace, triage

SPELLINGS = ("0101011237", "010 101 1237", "010101 1237")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # GMT: London time equals UTC in early March
SUBMITTER = "Dr Hidden Submitter <hidden.submitter@practice.example>"
BODY = "The ward kept the patient's letter in a drawer marked zebra-quokka.\n"
NOTE = "internal remark about the pelican ward manager"
_calls = itertools.count()


def _workspace(root: Path) -> Workspace:
    ws = make_workspace(root, group={"reports_to": "Area Clinical Forum"})
    # make_workspace merges tables, not arrays of tables: a second member is appended as TOML.
    extra = '\n[[members]]\nname = "Ms B Pharmacist"\nrole = "Lead pharmacist"\n'
    extra += 'organisation = "Example Hospital"\nemail = "b.pharmacist@example.nhs.scot"\n'
    ws.config.write_text(ws.config.read_text() + extra)
    return ws


def _at(app: App, when: datetime) -> App:
    return dataclasses.replace(app, clock=lambda: when)


def _submit(ws: Workspace, subject: str, body: str = BODY, sender: str = SUBMITTER) -> None:
    n = next(_calls)
    raw = make_message(from_=sender, subject=subject, body=body, message_id=f"<rr-{n}@practice.example>")
    ws.receive(raw)


def _refs(app: App) -> dict[str, str]:
    """Subject → reference (Maildir order is not submission order)."""
    with app.factory() as session:
        return {i.subject: i.reference for i in session.scalars(select(Issue))}


def _triage(app: App, reference: str, when: datetime, *words: str) -> None:
    triage(_at(app, when), reference, " ".join(words))


def _site_files(site: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(site.rglob("*")):
        if path.is_file():
            yield path, path.read_text(encoding="utf-8")


def _assert_no_chi(where: str, content: str) -> None:
    """No CHI in any spelling, nor its digits once separators are gone. (The digits-only check
    could in principle false-alarm on dates and references running together; it does not on
    these fixtures, and find_pid plus the spellings would still stand if it ever had to go.)"""
    # Only numbers: the pages name the group's members ("Dr A Example"), as they should.
    assert [f for f in find_pid(content) if f.kind in ("chi", "chi-like", "nhs")] == [], where
    assert not [s for s in SPELLINGS if s in content], where
    assert CHI not in re.sub(r"\D", "", content), where


@pytest.fixture
def populated(tmp_path: Path) -> tuple[Workspace, App, dict[str, str]]:
    """Five issues at T0 with a known history: closed, declined, duplicate, CHI-bearing."""
    ws = _workspace(tmp_path / "ws")
    app = _at(ws.app(), T0)
    _submit(ws, "Discharge letters arriving late")
    _submit(ws, "<script>alert(1)</script>")
    for spelling in SPELLINGS:
        _submit(ws, f"Letter missing for CHI {spelling}", body=f"Patient {spelling} again.\n{BODY}")
    service.poll_once(app)
    refs = _refs(app)
    first = refs["Discharge letters arriving late"]
    _triage(app, first, T0 + timedelta(days=1), "ACCEPT", "discharge")
    _triage(app, first, T0 + timedelta(days=1), "MEETING", "2026-12-03")
    _triage(app, first, T0 + timedelta(days=2), "NOTE", NOTE)
    _triage(app, first, T0 + timedelta(days=3), "DELEGATE", "prescribing", "by", "2026-04-01")
    _triage(app, first, T0 + timedelta(days=5), "CLOSE", "Ward 5 now sends letters the same day.")
    _triage(
        app, refs["<script>alert(1)</script>"], T0 + timedelta(days=1), "DECLINE", "Not an interface matter."
    )
    _triage(app, refs[f"Letter missing for CHI {SPELLINGS[1]}"], T0 + timedelta(days=1), "DUPLICATE", first)
    # The administrator typed the number into the outcome: the register must still not show it.
    _triage(
        app,
        refs[f"Letter missing for CHI {SPELLINGS[0]}"],
        T0 + timedelta(days=2),
        "CLOSE",
        f"Fixed for {CHI}.",
    )
    # Published under words an administrator chose (issue 10); the third CHI issue stays
    # unpublished. PUBLISH refuses a summary with a CHI in it; two summaries written with one
    # all the same (by an older mailproc, or straight into the database) must still not show.
    day6 = T0 + timedelta(days=6)
    _triage(app, first, day6, "PUBLISH", "Discharge letters reach practices late")
    _triage(app, refs["<script>alert(1)</script>"], day6, "PUBLISH", "<script>alert(1)</script>")
    with pytest.raises(MailprocError, match="seems to contain CHI numbers"):
        _triage(app, refs[f"Letter missing for CHI {SPELLINGS[0]}"], day6, "PUBLISH", f"CHI {SPELLINGS[0]}")
    with app.factory() as session, session.begin():
        for spelling in SPELLINGS[:2]:
            reference = refs[f"Letter missing for CHI {spelling}"]
            issue = session.scalars(select(Issue).where(Issue.reference == reference)).one()
            issue.public_summary, issue.published_at = f"Missing letter, CHI {spelling}", day6
    return ws, app, refs


def test_register_pages_list_every_issue_with_area_status_and_outcome(
    tmp_path: Path, populated: tuple[Workspace, App, dict[str, str]]
) -> None:
    _, app, refs = populated
    site = tmp_path / "site"
    result = build_register(app, site)
    assert (result.pages, result.issues) == (3 + 2 + 4 + 1, 4)  # one meeting page; About and terms
    assert result.line() == f"register: 10 pages for 4 issues in {site}"
    for name in ("index.html", "issues.html", "meetings.html"):
        assert (site / name).is_file()
    published = {ref for subject, ref in refs.items() if SPELLINGS[2] not in subject}
    assert {p.name for p in (site / "issues").iterdir()} == {f"{ref}.html" for ref in published}
    listing = (site / "issues.html").read_text()
    rows = re.findall(r"<tr><td><a href=\"issues/(IFG-[\d-]+)\.html\">.*?</tr>", listing)
    assert sorted(rows) == sorted(published)
    first = refs["Discharge letters arriving late"]
    row = re.search(rf"<tr><td><a href=\"issues/{first}\.html\">.*?</tr>", listing)
    assert row is not None
    assert "discharge" in row.group() and "closed" in row.group() and "same day" in row.group()
    # Under the public summary, never the submitter's subject.
    assert "reach practices late" in row.group() and "arriving late" not in listing
    assert "declined" in listing and "Not an interface matter." in listing
    assert f"duplicate of {first}" in listing
    page = (site / "issues" / f"{first}.html").read_text()
    for phrase in (
        "received",
        "accepted (area discharge)",
        "scheduled for 3 Dec 2026",
        "closed",
        "delegated to Prescribing Operational Group, due 1 Apr 2026",
        "2 Mar 2026",
    ):
        assert phrase in page, phrase
    meetings = (site / "meetings.html").read_text()
    assert "3 Dec 2026" in meetings and first in meetings


def test_register_escapes_html_and_hides_people_bodies_and_notes(
    tmp_path: Path, populated: tuple[Workspace, App, dict[str, str]]
) -> None:
    _, app, _ = populated
    site = tmp_path / "site"
    build_register(app, site)
    index = (site / "index.html").read_text()
    assert "Area Clinical Forum" in index and "interface.group@example.nhs.scot" in index
    assert "patient-identifiable data" in index
    for shown in ("Dr A Example", "Chair (GP)", "Ms B Pharmacist", "Lead pharmacist", "Example Hospital"):
        assert shown in index, shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (site / "issues.html").read_text()
    for path, content in _site_files(site):
        # The register's own script, by a relative link, is the only script a page may carry.
        own = content.replace('<script src="register.js"></script>', "")
        assert "<script" not in own, path
        for secret in (
            "a.example@",
            "b.pharmacist@",
            "hidden.submitter",
            "Hidden Submitter",
            "zebra-quokka",
            "pelican",
        ):
            assert secret not in content, (path, secret)


def test_chi_never_reaches_register_report_or_csv(
    tmp_path: Path, populated: tuple[Workspace, App, dict[str, str]]
) -> None:
    _, app, _ = populated
    site = tmp_path / "site"
    build_register(app, site)
    files = list(_site_files(site))
    for path, content in files:
        _assert_no_chi(str(path), content)
    # Not vacuous: the CHI-bearing subjects and outcome are on the pages, redacted.
    assert sum(content.count("[CHI removed]") for _, content in files) >= 4
    later = _at(app, T0 + timedelta(days=10))  # the CHI issue still awaiting triage is listed
    report = reports.build_report(later)
    text = reports.render_text(report)
    reports.write_csv(report, tmp_path / "report.csv")
    _assert_no_chi("report", text)
    _assert_no_chi("csv", (tmp_path / "report.csv").read_text())
    # The waiting issue is listed by reference only: the submitter's subject never reaches a report.
    waiting = [w.reference for w in report.awaiting_triage]
    assert waiting and all(ref in text for ref in waiting) and "Letter missing" not in text


def test_report_figures_on_a_known_set(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    app = _at(ws.app(), T0)
    for subject in ("Letters A", "Letters B", "Tablets C", "Bloods E"):
        _submit(ws, subject, body="Please look at this.\n")
    service.poll_once(app)
    _submit(ws, "Significant event analysis D", body="Please look at this.\n")
    service.poll_once(_at(app, T0 + timedelta(days=1)))
    r = _refs(app)
    _triage(app, r["Letters A"], T0 + timedelta(days=1), "ACCEPT", "discharge")
    _triage(app, r["Letters A"], T0 + timedelta(days=5), "CLOSE", "Done.")
    _triage(app, r["Letters B"], T0 + timedelta(days=3), "ACCEPT", "discharge")
    _triage(app, r["Letters B"], T0 + timedelta(days=9), "CLOSE", "Done.")
    _triage(app, r["Tablets C"], T0 + timedelta(days=2), "ACCEPT", "prescribing")
    _triage(app, r["Tablets C"], T0 + timedelta(days=2), "DELEGATE", "prescribing", "by", "2026-03-06")
    _triage(app, r["Bloods E"], T0 + timedelta(days=1), "AREA", "results")
    _triage(app, r["Bloods E"], T0 + timedelta(days=1, hours=12), "DECLINE", "Out of scope.")

    report = reports.build_report(_at(app, T0 + timedelta(days=10)))
    rows = {row.area: row for row in report.by_area}
    assert rows == {
        "discharge": reports.AreaRow("discharge", 2, 0, 2, 2.0, 7.0),
        "prescribing": reports.AreaRow("prescribing", 1, 1, 0, 2.0, None),
        "results": reports.AreaRow("results", 1, 0, 1, 1.0, None),
        "unassigned": reports.AreaRow("unassigned", 1, 1, 0, None, None),
    }
    assert dict(report.by_status) == {"awaiting-triage": 1, "delegated": 1, "closed": 2, "declined": 1}
    assert dict(report.by_source) == {"clinician": 4, "sea": 1}
    assert report.overdue == (
        reports.OverdueAction(r["Tablets C"], "", "Prescribing Operational Group", date(2026, 3, 6), 6),
    )
    waiting = [(w.reference, w.days) for w in report.awaiting_triage]
    assert waiting == [(r["Significant event analysis D"], 9.0)]
    # triage.waiting_days (3 by default) is the one threshold, for the report and the digest alike
    assert reports.build_report(_at(app, T0 + timedelta(days=4))).awaiting_triage == ()
    assert len(reports.build_report(_at(app, T0 + timedelta(days=5))).awaiting_triage) == 1

    text = reports.render_text(report)
    assert "5 issue(s), all issues" in text
    assert re.search(r"discharge\s+2\s+0\s+2\s+2\.0\s+7\.0", text)
    assert re.search(rf"{r['Tablets C']}\s+Prescribing Operational Group\s+06 Mar 2026\s+6", text)
    assert "Tablets C" not in text  # the submitter's subject is not the report's to show
    path = tmp_path / "report.csv"
    reports.write_csv(report, path)
    with path.open(newline="") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == list(reports.CSV_HEADER)
    cells = {(row["section"], row["key"], row["measure"]): row["value"] for row in table}
    assert [cells["area", "discharge", m] for m in ("received", "open", "closed")] == ["2", "0", "2"]
    assert cells["area", "discharge", "median_days_to_outcome"] == "7.0"
    assert cells["area", "unassigned", "median_days_to_triage"] == ""

    since = reports.build_report(_at(app, T0 + timedelta(days=10)), date(2026, 3, 3))
    assert since.total == 1 and [row.area for row in since.by_area] == ["unassigned"]
    assert since.overdue == report.overdue  # today's work owed, whatever the period


def test_rebuild_replaces_the_site_and_refuses_foreign_directories(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    app = ws.app()
    site = tmp_path / "out" / "site"
    assert build_register(app, site).pages == 5  # an empty register: home, About, terms, issues, meetings
    (site / "stale.html").write_text("old")
    _submit(ws, "Referrals bounced")
    service.poll_once(app)
    assert build_register(app, site).issues == 0  # not published yet
    triage(app, _refs(app)["Referrals bounced"], "PUBLISH Referrals bounced between services")
    assert build_register(app, site).issues == 1
    assert not (site / "stale.html").exists() and len(list((site / "issues").iterdir())) == 1
    assert [p.name for p in site.parent.iterdir()] == ["site"]  # no staging or old copies left
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(MailprocError, match="not written by"):
        build_register(app, foreign)
    assert (foreign / "thesis.tex").read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_register_build_and_report(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    _submit(ws, "Discharge letters arriving late")
    ws.cli("poll")
    [ref] = _refs(ws.app()).values()
    published = ws.cli("triage", ref, "PUBLISH", "Discharge letters reach practices late").stdout
    assert 'published under "Discharge letters reach practices late"' in published
    site = tmp_path / "site"
    built = ws.cli("register", "build", str(site))
    assert built.stdout.splitlines() == [
        f"register: 6 pages for 1 issues in {site}",
        "7 file(s) written, 0 removed, the rest unchanged",  # and register.js
    ]
    assert (site / "issues.html").is_file() and not (site / "reports" / "latest.html").exists()
    again = ws.cli("register", "build", str(site), "--with-report").stdout.splitlines()
    # The report is new, and the six pages gain the link to it; register.js is unchanged.
    assert again[1] == "7 file(s) written, 0 removed, the rest unchanged"
    assert "governance report" in (site / "reports" / "latest.html").read_text()
    issue_page = (site / "issues" / f"{ref}.html").read_text()
    assert '<a href="../reports/latest.html">Governance report</a>' in issue_page
    dropped = ws.cli("register", "build", str(site)).stdout.splitlines()
    assert dropped[1] == "6 file(s) written, 1 removed, the rest unchanged"
    out = tmp_path / "report.csv"
    shown = ws.cli("report", "--from", "2026-01-01")
    assert "By interface area" in shown.stdout and "discharge" in shown.stdout
    earlier = ws.cli("report", "--since", "2026-01-01").stdout  # the earlier spelling still works
    assert earlier.splitlines()[1:] == shown.stdout.splitlines()[1:]  # (line 1 says when it ran)
    ws.cli("report", "--from", "2026-01-01", "--format", "csv", "--out", str(out))
    assert out.read_text().splitlines()[0] == ",".join(reports.CSV_HEADER)
    bad = ws.cli("report", "--from", "yesterday", check=False)
    assert bad.returncode == 2
