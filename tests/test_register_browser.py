"""Issue 13, must-show 2 for the register: its pages in headless Debian chromium.

The register is built as `register build --with-report` builds it, then opened from file://
URLs as a reader opens it from a file share: no console errors, no request leaving the file
system, the issues table's headings and rows, sorting by keyboard (Tab to a heading's button,
Enter), filtering, the plain table without the script, and no serious or critical axe-core
violations. Screenshots go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailproc.governance.register import build_register
from mailproc.store import db
from tests.support.browser import PageLog, audit, describe, open_page, screenshot
from tests.support.register_issues import AREAS, STATUSES, meeting_with, publish_many
from tests.support.workspace import make_workspace

COUNT = 24
HEADINGS = ["Reference", "Received", "Interface area", "Status", "Summary", "Outcome"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """A register of COUNT published issues, a meeting with three of them, and the report."""
    root = tmp_path_factory.mktemp("register")
    with pytest.MonkeyPatch.context() as patch:  # the autouse secret fixture is per test
        from tests.support.workspace import SECRET

        patch.setenv("MAILPROC_SECRET", SECRET)
        app = make_workspace(root / "ws").app()
        db.ensure_schema(app.engine)
        refs = publish_many(app, COUNT)
        meeting = meeting_with(app, refs[:3])
        build_register(app, root / "site", report=True)
        app.engine.dispose()
    assert (root / "site" / "meetings" / f"{meeting}.html").is_file()
    yield root / "site", refs


def _clean(log: PageLog) -> None:
    assert (log.console_errors, log.page_errors, log.remote_requests) == ([], [], [])


def _axe(page: Any) -> None:
    violations = audit(page)
    assert violations == [], describe(violations)


def _every(cycle: tuple[str, ...], value: str) -> int:
    """How many of the COUNT issues publish_many gave `value` (it deals them out in turn)."""
    return sum(1 for n in range(COUNT) if cycle[n % len(cycle)] == value)


def _column(page: Any, index: int) -> list[str]:
    cells = page.locator(f"#issues tbody tr:not([hidden]) td:nth-child({index})")
    return [text.strip() for text in cells.all_inner_texts()]


def test_index_and_issue_page_are_landmarked_clean_and_pass_axe(
    site: tuple[Path, list[str]], browser: Any
) -> None:
    root, refs = site
    meeting = next((root / "meetings").glob("*.html")).relative_to(root).as_posix()
    for name in ("index.html", f"issues/{refs[5]}.html", "meetings.html", meeting):
        with open_page(browser, root / name) as (page, log):
            for landmark in ("banner", "navigation", "main", "contentinfo"):
                assert page.get_by_role(landmark).count() == 1, (name, landmark)
            assert page.get_by_role("heading", level=1).count() == 1, name
            assert page.locator("table caption").count() == page.locator("table").count(), name
            assert page.locator("html").get_attribute("lang") == "en-GB"
            _axe(page)
            screenshot(page, "register-" + name.replace("/", "-").removesuffix(".html"))
            page.keyboard.press("Tab")  # the first stop is the skip link
            assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
        _clean(log)
    with open_page(browser, root / "index.html") as (page, log):
        page.get_by_role("link", name="The latest governance report").click()  # --with-report linked it
        page.wait_for_load_state()
        assert page.url.endswith("/reports/latest.html") and "governance report" in page.title()
    _clean(log)


def test_issues_table_sorts_by_keyboard_and_filters(site: tuple[Path, list[str]], browser: Any) -> None:
    root, refs = site
    with open_page(browser, root / "issues.html") as (page, log):
        current = page.get_by_role("navigation").locator("[aria-current=page]")
        assert current.inner_text() == "Issues"
        headings = [t.strip() for t in page.locator("#issues thead th").all_inner_texts()]
        assert headings == HEADINGS
        assert _column(page, 1) == refs[::-1]  # newest first, as built
        button = page.get_by_role("button", name="Reference")
        button.focus()
        page.keyboard.press("Enter")
        reference = page.locator("#issues thead th").first
        assert reference.get_attribute("aria-sort") == "ascending"
        assert page.locator("#issues th[aria-sort]").count() == 1  # Received is no longer sorted
        assert _column(page, 1) == refs
        assert page.locator("#issues caption").inner_text().endswith("sorted by Reference, ascending")
        page.keyboard.press("Enter")  # the button keeps the focus: Enter again reverses
        assert (reference.get_attribute("aria-sort"), _column(page, 1)) == ("descending", refs[::-1])
        page.get_by_role("button", name="Interface area").press("Enter")
        assert _column(page, 3) == sorted(_column(page, 3))
        _axe(page)
        screenshot(page, "register-issues-sorted")

        page.get_by_label("Interface area").select_option("results")
        assert set(_column(page, 3)) == {"results"} and len(_column(page, 3)) == _every(AREAS, "results")
        page.get_by_label("Search the issues").fill("summary number 7 ")
        assert _column(page, 1) == [refs[7]]
        assert page.get_by_role("status").inner_text() == f"Showing 1 of {COUNT} issues."
        page.get_by_label("Interface area").select_option("")
        page.get_by_label("Status").select_option("closed")
        page.get_by_label("Search the issues").fill("")
        assert set(_column(page, 4)) == {"closed"} and len(_column(page, 4)) == _every(STATUSES, "closed")
        _axe(page)
        screenshot(page, "register-issues-filtered")
    _clean(log)


def test_issues_table_without_the_script_is_the_whole_plain_table(
    site: tuple[Path, list[str]], browser: Any
) -> None:
    root, refs = site
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto((root / "issues.html").as_uri())
        assert _column(page, 1) == refs[::-1]
        assert page.locator("#issues button").count() == 0  # no controls that would do nothing
        assert not page.locator("#issue-filters").is_visible()
        screenshot(page, "register-issues-no-script")
    finally:
        context.close()


def test_print_stylesheet_hides_navigation_and_controls(site: tuple[Path, list[str]], browser: Any) -> None:
    root, _ = site
    with open_page(browser, root / "issues.html") as (page, log):
        page.emulate_media(media="print")
        assert not page.locator("nav").is_visible()
        assert not page.locator("#issue-filters").is_visible()
        assert page.locator("#issues").is_visible()
        screenshot(page, "register-issues-print")
    _clean(log)
