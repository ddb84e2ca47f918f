"""Issue 14: the About and terms pages in headless Debian chromium, with axe-core.

Opened from file:// URLs as the intranet serves the register: no console errors, no request
that leaves the file system, no serious or critical accessibility violations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import audit, describe, open_page, screenshot
from tests.support.example_config import example_workspace


@pytest.mark.parametrize("name", ["about", "terms"])
def test_about_and_terms_pages_pass_axe(tmp_path: Path, browser: Any, name: str) -> None:
    ws = example_workspace(tmp_path / "ws")
    ws.cli("register", "build", str(tmp_path / "site"), "--report")
    with open_page(browser, tmp_path / "site" / f"{name}.html") as (page, log):
        assert page.get_by_role("heading", level=1).count() == 1
        for landmark in ("banner", "navigation", "main", "contentinfo"):
            assert page.get_by_role(landmark).count() == 1, landmark
        violations = audit(page)
        assert violations == [], describe(violations)
        screenshot(page, f"register-{name}")
        if name == "about":
            page.get_by_role("link", name="Terms of reference").first.click()
            assert page.title().startswith("Terms of reference")
    assert (log.console_errors, log.page_errors, log.remote_requests) == ([], [], [])
