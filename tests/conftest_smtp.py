"""The `smtp_server` fixture: a fresh SMTP server per test.

tests/conftest.py imports `smtp_server` from here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.smtpserver import SmtpTestServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A fresh SMTP server per test: nothing received, no failures scheduled."""
    server = SmtpTestServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
