"""The path of one message: what the flow decides when the storage fails, when a Message-ID is
reused by somebody else, when a quarantined message is retried, and for a backlog's commands."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text

from mailproc.errors import StorageUnavailable
from mailproc.intake import runner
from mailproc.outbound import outbox
from mailproc.store.models import Event, Issue, Message, OutboxMessage, Quarantined, SourceAttempt
from tests.support.mail import ADMIN, make_message
from tests.support.workspace import Workspace, make_workspace


def _limit_pages(ws: Workspace, spare_pages: int) -> Any:
    """An App whose SQLite file may grow by only `spare_pages` pages: a real "database or disk
    is full" from SQLite itself, as on a full disk."""
    app = ws.app()
    with app.engine.connect() as conn:
        used = int(conn.execute(text("PRAGMA page_count")).scalar_one())

    def cap(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {used + spare_pages}")

    event.listen(app.engine, "connect", cap)
    app.engine.dispose()
    return app


def test_a_full_disk_stops_the_pass_and_never_quarantines_healthy_mail(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    ws.cli("db", "upgrade")
    box = mailbox.Maildir(ws.root / "inbox", create=True)
    big = "Discharge letters arrive without the medication changes.\n" * 2000  # ~110 KB
    box.add(make_message(subject="Discharge letters", body=big, message_id="<big-1@example.nhs.scot>"))
    box.add(make_message(subject="Referrals", message_id="<small-2@example.nhs.scot>"))
    full = _limit_pages(ws, spare_pages=4)
    for _ in range(5):  # more passes than intake.max_attempts (3)
        with pytest.raises(StorageUnavailable, match="disk is full"):
            runner.poll_once(full)
    with full.factory() as s:
        assert s.scalars(select(Quarantined)).all() == []
        assert {a.attempts for a in s.scalars(select(SourceAttempt))} <= {0}  # every count forgiven
    assert len(box.keys()) == 2  # both still waiting in the inbox, neither moved aside
    full.engine.dispose()
    out = ws.cli("poll").stdout  # the disk has room again: everything goes through
    assert out.startswith("2 new issue(s)") and "0 quarantined" in out


def test_a_message_id_reused_by_another_sender_is_their_own_submission(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    box = mailbox.Maildir(ws.root / "inbox", create=True)
    box.add(make_message(from_="Dr A <a@example.nhs.scot>", subject="Discharge", message_id="<same@x>"))
    ws.cli("poll")
    box.add(make_message(from_="Dr B <b@example.nhs.scot>", subject="Prescribing", message_id="<same@x>"))
    out = ws.cli("poll").stdout
    assert out.startswith("1 new issue(s)"), out
    app = ws.app()
    with app.factory() as s:
        submitters = sorted(i.submitter_email for i in s.scalars(select(Issue)))
        acks = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "acknowledgement")).all()
    assert submitters == ["a@example.nhs.scot", "b@example.nhs.scot"]
    assert len(acks) == 2


def test_a_copy_from_the_same_sender_is_still_one_issue(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    box = mailbox.Maildir(ws.root / "inbox", create=True)
    box.add(make_message(subject="Discharge", message_id="<same@x>"))
    box.add(make_message(subject="Discharge", message_id="<same@x>", headers=[("X-Hop", "second alias")]))
    out = ws.cli("poll").stdout
    assert out.startswith("1 new issue(s)") and "1 already logged" in out


def _rejected_command(ws: Workspace, box: mailbox.Maildir) -> str:
    """An administrator's reply whose token is wrong: quarantined and answered."""
    box.add(make_message(subject="Discharge letters late", message_id="<first@example.nhs.scot>"))
    ws.cli("poll")
    year = json.loads(ws.cli("issues", "list", "--json").stdout)[0]["reference"]
    key = box.add(make_message(from_=ADMIN, subject=f"RE: [{year} #0-aaaaaaaaaaaaaaaa] Triage",
                               body="ACCEPT\n", message_id="<bad-token@example.nhs.scot>"))  # fmt: skip
    ws.cli("poll")
    return key


def test_a_retried_quarantine_is_not_processed_again_from_the_inbox(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    box = mailbox.Maildir(ws.root / "inbox", create=True)
    key = _rejected_command(ws, box)
    quarantined = ws.root / "inbox" / ".Quarantine" / "cur"
    (held,) = list(quarantined.iterdir())
    # The move to Quarantine failed (a crash just after the commit): the message is still in the inbox.
    shutil.copy(held, ws.root / "inbox" / "cur" / held.name)
    app = ws.app()
    with app.factory() as s:
        (row,) = s.scalars(select(Quarantined)).all()
    assert key in row.source_key
    ws.cli("quarantine", "retry", str(row.id), check=False)
    ws.cli("poll")
    with app.factory() as s:
        rejected = s.scalars(select(Event).where(Event.action == "command-rejected")).all()
        rows = s.scalars(select(Quarantined)).all()
    assert len(rejected) == 2  # the first time, and the administrator's retry: never a third
    assert len(rows) == 2


def test_admin_replies_in_a_backlog_are_logged_not_applied(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    box = mailbox.Maildir(ws.root / "inbox", create=True)
    box.add(make_message(subject="Discharge letters late", message_id="<first@example.nhs.scot>"))
    ws.cli("poll")
    app = ws.app()
    with app.factory() as s:
        request = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "triage-request")).one()
    sent = outbox.message_bytes(request) or b""
    tagged = email.message_from_bytes(sent, policy=email.policy.default)["Subject"]
    box.add(make_message(from_=ADMIN, subject=f"RE: {tagged}", body="CLOSE Sorted with ward 5.\n",
                         message_id="<old-close@example.nhs.scot>"))  # fmt: skip
    out = ws.cli("poll", "--backlog").stdout
    assert "1 command(s)" in out and "sent 0," in out
    with app.factory() as s:
        (issue,) = s.scalars(select(Issue)).all()
        logged = s.scalars(select(Message).where(Message.message_id == "<old-close@example.nhs.scot>")).one()
        events = [e.action for e in s.scalars(select(Event).where(Event.issue_id == issue.id))]
    assert issue.status == "awaiting-triage" and issue.outcome is None
    assert logged.kind == "command" and "command-not-applied" in events and "command" not in events


def test_a_storage_failure_mid_pass_still_moves_what_was_committed(tmp_path: Path) -> None:
    # Processed mail is moved in batches after the commits: a pass that stops on a storage
    # failure must still move the messages it committed before it, not leave them behind.
    # (One message per transaction here: a chunk of several would be rolled back whole.)
    ws = make_workspace(tmp_path / "ws", intake={"batch_size": 1})
    ws.cli("db", "upgrade")
    box = mailbox.Maildir(ws.root / "inbox", create=True)
    for n in range(2):
        box.add(make_message(subject=f"Referrals {n}", message_id=f"<small-{n}@example.nhs.scot>"))
    big = "Discharge letters arrive without the medication changes.\n" * 2000  # ~110 KB
    box.add(make_message(subject="Discharge letters", body=big, message_id="<big@example.nhs.scot>"))
    full = _limit_pages(ws, spare_pages=40)
    with pytest.raises(StorageUnavailable, match="disk is full"):
        runner.poll_once(full)
    with full.factory() as s:
        logged = sorted(s.scalars(select(Message.message_id)))
    full.engine.dispose()
    assert logged == ["<small-0@example.nhs.scot>", "<small-1@example.nhs.scot>"]
    processed = mailbox.Maildir(ws.root / "inbox", create=False).get_folder("Processed")
    assert len(processed.keys()) == 2  # the committed two moved, though the pass failed
    assert len(box.keys()) == 1  # the big one still waiting
