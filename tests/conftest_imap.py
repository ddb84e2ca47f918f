"""Pytest fixtures for a real IMAP server: one per session, emptied before each test.

tests/conftest.py imports `imap` and `imap_server` from here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.imapserver import ImapTestServer

__all__ = ["imap", "imap_server"]


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapTestServer]:
    """Dovecot (or pymap, see tests/support/imapserver.py) for the whole session."""
    with ImapTestServer() as server:
        yield server


@pytest.fixture
def imap(imap_server: ImapTestServer) -> ImapTestServer:
    """The session's server with INBOX empty and no other folders."""
    imap_server.reset()
    return imap_server
