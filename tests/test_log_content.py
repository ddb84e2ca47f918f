"""Third-party protocol loggers never write message content, whatever -v says (issue 11, "Also").

imapclient logs every FETCH response at DEBUG, SQLAlchemy's engine logs each statement with
its parameters (the raw message among them) at INFO: a poll at `-vv` over IMAP must still
keep a recognisable body, subject and sender out of the log.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from mailproc.cli import CONTENT_LOGGERS, _logging
from tests.support.imapserver import ImapTestServer
from tests.support.mail import make_message
from tests.support.smtpserver import SmtpTestServer
from tests.support.workspace import imap_workspace

CANARY_BODY = "Zebra-canary-body 7731 about ward 5"
CANARY_SUBJECT = "Okapi-canary-subject"
CANARY_SENDER = "narwhal.canary@example.org"


@pytest.mark.parametrize("flags", [("-v",), ("-vv",)])
def test_a_verbose_poll_logs_no_message_content(
    tmp_path: Path, imap: ImapTestServer, smtp_server: SmtpTestServer, flags: tuple[str, ...]
) -> None:
    ws = imap_workspace(tmp_path / "ws", imap, smtp=smtp_server)
    imap.deliver([make_message(from_=CANARY_SENDER, subject=CANARY_SUBJECT, body=CANARY_BODY + "\n")])
    result = ws.cli(*flags, "poll")
    log = result.stderr
    assert "DEBUG" in log or flags == ("-v",)  # -vv really is at debug level
    assert "1 new issue(s)" in result.stdout
    for canary in ("Zebra-canary", "Okapi-canary", "narwhal.canary"):
        assert canary not in log, f"{canary!r} reached the log"


def test_content_loggers_are_pinned_whatever_the_root_level() -> None:
    before = {name: logging.getLogger(name).level for name in CONTENT_LOGGERS}
    try:
        _logging("poll", 2, False)
        for name in CONTENT_LOGGERS:
            assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING, name
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)
