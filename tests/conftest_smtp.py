"""The SMTP server fixtures: a fresh server per test, open or asking for a login.

tests/conftest.py imports them from here.
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


@pytest.fixture
def auth_server() -> Iterator[SmtpTestServer]:
    """A fresh SMTP server that takes AUTH PLAIN/LOGIN as ifg/s3cret and XOAUTH2 with "tok-123"."""
    server = SmtpTestServer(login=("ifg", "s3cret"), oauth_token="tok-123")
    server.start()
    try:
        yield server
    finally:
        server.stop()
