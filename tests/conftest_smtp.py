"""The `smtp_server` fixture; test modules load it with `pytest_plugins = ["tests.conftest_smtp"]`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smtpserver import SmtpTestServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A fresh SMTP server per test: nothing received, no failures scheduled."""
    server = SmtpTestServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
