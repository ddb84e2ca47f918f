"""Headless Debian chromium driven by Playwright, for pages mailproc writes to disk.

`open_page` loads a file:// URL and records what a person's browser would complain about:
console errors, uncaught page errors, and every request that is not file: or data: (those
are aborted, so a test can never reach the network). `audit` runs axe-core (bundled by
axe-playwright-python) on the page. Screenshots go to `ARTIFACTS` for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("MAILPROC_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOCAL_SCHEMES = ("file:", "data:", "about:")


@dataclass
class PageLog:
    """What happened while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    remote_requests: list[str] = field(default_factory=list)


@contextmanager
def chromium() -> Iterator[Any]:
    """A Playwright Browser on Debian's chromium (never a downloaded one)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_page(browser: Any, path: Path, width: int = 1280) -> Iterator[tuple[Any, PageLog]]:
    """`path` opened from a file:// URL in a fresh context; the log of what went wrong."""
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=True)
    log = PageLog()

    def route(route: Any) -> None:
        if route.request.url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            log.remote_requests.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda msg: log.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
    page.on(
        "request",
        lambda req: None if req.url.startswith(LOCAL_SCHEMES) else log.remote_requests.append(req.url),
    )
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        yield page, log
    finally:
        context.close()


def audit(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page (empty when it passes)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and its first offending elements, for an assertion message."""
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
    )


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG under test-artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
