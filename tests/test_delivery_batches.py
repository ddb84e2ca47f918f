"""Delivery in batches: the stored form composed at delivery, several workers, crashes, old rows.

Real aiosmtpd on loopback, real SQLite files and PostgreSQL (`db_url` runs both).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import select, text

from mailproc.outbound import delivery, outbox
from mailproc.outbound.transports import make_transport
from mailproc.store import db as dbmod
from mailproc.store.db import transaction
from mailproc.store.models import OutboxMessage, utcnow
from mailproc.vocabulary import DeliveryState
from tests.support.net import wait_until
from tests.support.outgoing import GP, NURSE, SENDER, later, outbound_settings, queue_many
from tests.support.smtpserver import SmtpTestServer
from tests.support.workspace import make_workspace


def _message_ids(server: SmtpTestServer) -> Counter[str]:
    found = Counter[str]()
    for m in server.messages:
        head = m.data.split(b"\r\n\r\n", 1)[0]
        line = next(x for x in head.split(b"\r\n") if x.lower().startswith(b"message-id:"))
        found[line.split(b":", 1)[1].strip().decode()] += 1
    return found


def test_every_attempt_sends_the_same_bytes(tmp_path: Path, smtp_server: SmtpTestServer) -> None:
    factory = dbmod.session_factory(dbmod.make_engine(f"sqlite:///{tmp_path / 'm.db'}"))
    dbmod.upgrade(factory.kw["bind"])
    [oid] = queue_many(factory, 1, to=(GP, NURSE))
    cfg = outbound_settings(tmp_path, smtp_server)
    smtp_server.fail(NURSE, 421)  # the first attempt reaches only GP; the second only NURSE
    first = outbox.deliver_due(factory, make_transport(cfg), cfg, SENDER)
    second = outbox.deliver_due(factory, make_transport(cfg), cfg, SENDER, now=later(hours=2))
    assert (first.retrying, second.sent) == (1, 1)
    [to_gp] = smtp_server.received_by(GP)
    [to_nurse] = smtp_server.received_by(NURSE)
    assert to_gp.data == to_nurse.data  # the same Date, Message-ID and MIME boundary
    with factory() as session:
        row = session.get_one(OutboxMessage, oid)
        assert row.raw is None and outbox.message_bytes(row) == to_gp.data


def test_two_workers_never_send_a_message_twice(
    tmp_path: Path, db_url: str, smtp_server: SmtpTestServer
) -> None:
    engine = dbmod.make_engine(db_url)
    dbmod.upgrade(engine)
    queued = queue_many(dbmod.session_factory(engine), 240)
    cfg = outbound_settings(tmp_path, smtp_server)
    reports: list[outbox.DeliveryReport] = []

    def worker() -> None:
        own = dbmod.make_engine(db_url)  # an engine each: two processes' worth of connections
        factory = dbmod.session_factory(own)
        while (report := outbox.deliver_due(factory, make_transport(cfg), cfg, SENDER, limit=40)).sent:
            reports.append(report)
        own.dispose()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    counts = _message_ids(smtp_server)
    assert len(counts) == len(queued) and set(counts.values()) == {1}
    assert sum(r.sent for r in reports) == len(queued)
    engine.dispose()


# Queues messages, then runs `mailproc send` as a child until the SMTP server has taken a few.
def test_a_crash_mid_batch_resends_only_what_was_not_recorded(
    tmp_path: Path, smtp_server: SmtpTestServer
) -> None:
    ws = make_workspace(
        tmp_path / "ws",
        outbound={"transport": "smtp", "claim_lease_seconds": 60, "backoff_seconds": 0},
        outbound__smtp={
            "host": smtp_server.host,
            "port": smtp_server.port,
            "security": "none",
            "timeout": 10,
        },
    )
    ws.cli("db", "upgrade")
    app = ws.app()
    queue_many(app.factory, 30)
    smtp_server.slow_data(0.1)
    child = ws.start("send", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: len(smtp_server.messages) >= 6, timeout=60, interval=0.02)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    smtp_server.slow_data(0)
    with app.factory() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        recorded = {r.message_id for r in rows if r.state == DeliveryState.SENT}
        claimed = {r.message_id for r in rows if r.attempts == 1}
    at_kill = _message_ids(smtp_server)
    assert recorded and recorded <= set(at_kill) and len(claimed) == 30  # the child claimed its batch
    # The lease keeps the claimed messages from anyone until it has run out.
    cfg = app.settings.outbound
    assert outbox.deliver_due(app.factory, make_transport(cfg), cfg, SENDER).sent == 0
    outbox.deliver_due(app.factory, make_transport(cfg), cfg, SENDER, now=later(seconds=61))
    final = _message_ids(smtp_server)
    assert len(final) == 30 and all(n >= 1 for n in final.values())
    twice = {mid for mid, n in final.items() if n > 1}
    assert not twice & recorded  # a recorded result is never sent again
    assert twice <= set(at_kill) - recorded and max(final.values()) <= 2
    app.engine.dispose()


def test_a_row_queued_before_0007_is_sent_as_stored(
    tmp_path: Path, db_url: str, smtp_server: SmtpTestServer
) -> None:
    engine = dbmod.make_engine(db_url)
    command.upgrade(dbmod._alembic_config(engine), "0006")
    raw = b"From: IFG <ifg@example.nhs.scot>\r\nTo: gp@example.org\r\nSubject: old\r\n" \
        b"Message-ID: <old.1@example.nhs.scot>\r\n\r\nComposed before 0007.\r\n"  # fmt: skip
    now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO outbox (id, template, message_id, subject, raw, state, attempts,"
                " next_attempt_at, last_error, created_at) VALUES (1, 'ack', '<old.1@example.nhs.scot>',"
                " 'old', :raw, 'pending', 0, :now, '', :now)"
            ),
            {"raw": raw, "now": now},
        )
        conn.execute(
            text(
                "INSERT INTO outbox_recipients (outbox_id, address, state, last_reply, updated_at)"
                " VALUES (1, :to, 'pending', '', :now)"
            ),
            {"to": GP, "now": now},
        )
    dbmod.upgrade(engine)
    factory = dbmod.session_factory(engine)
    cfg = outbound_settings(tmp_path, smtp_server)
    assert outbox.deliver_due(factory, make_transport(cfg), cfg, SENDER).sent == 1
    [got] = smtp_server.messages
    assert got.data == raw and got.rcpt_tos == (GP,)
    engine.dispose()


def test_messages_not_started_by_the_deadline_are_released(
    tmp_path: Path, smtp_server: SmtpTestServer
) -> None:
    factory = dbmod.session_factory(dbmod.make_engine(f"sqlite:///{tmp_path / 'm.db'}"))
    dbmod.upgrade(factory.kw["bind"])
    ids = queue_many(factory, 5)
    cfg = outbound_settings(tmp_path, smtp_server)
    report = outbox.deliver_due(factory, make_transport(cfg), cfg, SENDER, deadline=0.0)
    assert report == outbox.DeliveryReport(0, 0, 0, unfinished=True)
    # Claimed as a batch, none started: every claim given back, so UNDO can still cancel them.
    lease = timedelta(seconds=cfg.claim_lease_seconds)
    batch = delivery.claim(factory, utcnow(), lease, limit=10)
    delivery.release(factory, batch, utcnow())
    with transaction(factory) as session:
        assert [session.get_one(OutboxMessage, i).attempts for i in ids] == [0] * 5
        assert outbox.cancel(session, ids[0])
