"""The outbox against a real SMTP server (aiosmtpd on loopback) and a real SQLite file."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from mailproc.config import OutboundSettings, SmtpSettings
from mailproc.errors import MailprocError
from mailproc.outbound import outbox
from mailproc.outbound.compose import Envelope
from mailproc.outbound.render import Rendered
from mailproc.outbound.stored import Outgoing
from mailproc.outbound.transports import RecipientResult, make_transport
from mailproc.store.db import make_engine, session_factory, transaction, upgrade
from mailproc.store.models import OutboxMessage, utcnow
from mailproc.vocabulary import DeliveryState, make_message_id
from tests.support.smtpserver import SmtpTestServer

SENDER = "ifg@example.nhs.scot"
GP, NURSE = "gp@example.org", "nurse@example.org"


class Clock:
    """An injectable `now` that tests move forward to skip backoff."""

    def __init__(self) -> None:
        self.at = utcnow()

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def factory(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'mailproc.db'}")
    upgrade(engine)
    return session_factory(engine)


def settings(tmp_path: Path, server: SmtpTestServer | None = None, **smtp: object) -> OutboundSettings:
    smtp_settings = SmtpSettings(
        host="127.0.0.1",
        port=server.port if server else 1,
        security="none",
        username="",
        auth="password",
        password=None,
        token_command="",
        timeout=10,
    )
    return OutboundSettings(
        transport="smtp" if server else "maildir",
        maildir=tmp_path / "outbox",
        max_attempts=3,
        backoff_seconds=60,
        backoff_max_seconds=3600,
        acknowledge=True,
        auto_per_address_per_day=10,
        smtp=replace(smtp_settings, **smtp),  # type: ignore[arg-type]
    )


def queue(factory: sessionmaker[Session], recipients: Sequence[str], unique: str = "u1") -> int:
    rendered = Rendered(subject="[IFG-2026-0042] Received", text="Noted.\n", html="<p>Noted.</p>")
    mid = make_message_id("IFG-2026-0042", "ack", unique, "example.nhs.scot")
    msg = Outgoing(rendered, Envelope(to=tuple(recipients)), "IFG", SENDER, mid, utcnow())
    with transaction(factory) as session:
        row = outbox.enqueue(
            session, issue_id=None, template="ack", message=msg, recipients=recipients, now=utcnow()
        )
        assert row is not None
        return row.id


def load(factory: sessionmaker[Session], outbox_id: int) -> OutboxMessage:
    with factory() as session:
        return next(m for m in outbox.list_messages(session) if m.id == outbox_id)


def deliver(factory: sessionmaker[Session], cfg: OutboundSettings, clock: Clock) -> outbox.DeliveryReport:
    return outbox.deliver_due(factory, make_transport(cfg), cfg, SENDER, now=clock)


def states(row: OutboxMessage) -> dict[str, str]:
    return {r.address: r.state for r in row.recipients}


def test_accepted_message_is_sent(
    factory: sessionmaker[Session], smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    oid = queue(factory, [GP, "Nurse@Example.org", NURSE])
    report = deliver(factory, settings(tmp_path, smtp_server), Clock())
    assert report == outbox.DeliveryReport(sent=1, retrying=0, failed=0)
    [got] = smtp_server.messages
    assert got.mail_from == SENDER and sorted(got.rcpt_tos) == [GP, NURSE]
    assert b"Message-ID: <IFG-2026-0042.ack." in got.data
    row = load(factory, oid)
    assert row.state == "sent" and row.attempts == 1 and row.sent_at is not None
    assert {r.last_reply for r in row.recipients} == {"250 2.0.0 Message accepted for delivery"}


@pytest.mark.parametrize("where", ["rcpt", "data"])
def test_temporary_failure_is_retried_and_delivered_once(
    factory: sessionmaker[Session], smtp_server: SmtpTestServer, tmp_path: Path, where: str
) -> None:
    oid = queue(factory, [GP])
    cfg, clock = settings(tmp_path, smtp_server), Clock()
    smtp_server.fail(GP, 421) if where == "rcpt" else smtp_server.fail_data(421)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(0, 1, 0)
    row = load(factory, oid)
    assert row.state == "pending" and row.attempts == 1 and "421 4.3.2" in row.last_error
    assert timedelta(seconds=60) <= row.next_attempt_at - clock() <= timedelta(seconds=66)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(0, 0, 0)  # not due yet
    clock.advance(67)  # past the backoff and its jitter
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(1, 0, 0)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(0, 0, 0)
    assert len(smtp_server.received_by(GP)) == 1
    assert load(factory, oid).state == "sent"


def test_permanent_failure_is_listed_and_can_be_retried(
    factory: sessionmaker[Session], smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    oid = queue(factory, [GP])
    cfg, clock = settings(tmp_path, smtp_server), Clock()
    smtp_server.fail(GP, 550)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(0, 0, 1)
    with factory() as session:
        [failed] = outbox.list_messages(session, failed_only=True)
    assert failed.id == oid and failed.recipients[0].last_reply == "550 5.1.1 No such user"
    assert failed.last_error == f"{GP}: 550 5.1.1 No such user"
    with transaction(factory) as session:
        outbox.retry(session, oid, now=clock())
    clock.advance(1)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(1, 0, 0)
    assert len(smtp_server.messages) == 1
    with factory() as session:
        assert outbox.list_messages(session, failed_only=True) == []
        with pytest.raises(MailprocError, match="already sent"):
            outbox.retry(session, oid, now=utcnow())
        with pytest.raises(MailprocError, match="does not exist"):
            outbox.retry(session, 999, now=utcnow())
    # A failed message whose body purge has removed is refused up front, not failed again later.
    with transaction(factory) as session:
        row = session.get_one(OutboxMessage, oid)
        row.state, row.raw, row.content = DeliveryState.FAILED, None, None
    with factory() as session, pytest.raises(MailprocError, match="purge` removed its body"):
        outbox.retry(session, oid, now=utcnow())


def test_partial_refusal_resends_only_to_the_refused(
    factory: sessionmaker[Session], smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    oid = queue(factory, [GP, NURSE])
    cfg, clock = settings(tmp_path, smtp_server), Clock()
    smtp_server.fail(GP, 550)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(0, 0, 1)
    assert states(load(factory, oid)) == {GP: "failed", NURSE: "sent"}
    with transaction(factory) as session:
        outbox.retry(session, oid, now=clock())
    clock.advance(1)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(1, 0, 0)
    assert [m.rcpt_tos for m in smtp_server.messages] == [(NURSE,), (GP,)]


def test_partial_temporary_refusal_keeps_the_accepted_one_done(
    factory: sessionmaker[Session], smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    oid = queue(factory, [GP, NURSE])
    cfg, clock = settings(tmp_path, smtp_server), Clock()
    smtp_server.fail(GP, 451)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(0, 1, 0)
    assert states(load(factory, oid)) == {GP: "retry", NURSE: "sent"}
    clock.advance(3600)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(1, 0, 0)
    assert len(smtp_server.received_by(NURSE)) == 1 and len(smtp_server.received_by(GP)) == 1


@pytest.mark.parametrize(
    ("where", "code", "bucket"),
    [("rcpt", 552, "retrying"), ("data", 552, "retrying"), ("data", 554, "failed")],
)
def test_reply_codes(
    factory: sessionmaker[Session],
    smtp_server: SmtpTestServer,
    tmp_path: Path,
    where: str,
    code: int,
    bucket: str,
) -> None:
    queue(factory, [GP, NURSE])
    smtp_server.fail(GP, code) if where == "rcpt" else smtp_server.fail_data(code)
    report = deliver(factory, settings(tmp_path, smtp_server), Clock())
    assert getattr(report, bucket) == 1


def test_attempts_are_bounded_and_failure_is_loud(
    factory: sessionmaker[Session],
    smtp_server: SmtpTestServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    oid = queue(factory, [GP])
    cfg, clock = replace(settings(tmp_path, smtp_server), max_attempts=2, backoff_seconds=0), Clock()
    smtp_server.fail(GP, 451, times=5)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(0, 1, 0)
    with caplog.at_level(logging.ERROR, logger="mailproc.outbound.outbox"):
        assert deliver(factory, cfg, clock) == outbox.DeliveryReport(0, 0, 1)
    row = load(factory, oid)
    assert row.state == "failed" and row.attempts == 2 and states(row) == {GP: "failed"}
    assert any("FAILED" in r.getMessage() and "451" in r.getMessage() for r in caplog.records)


def test_attempt_is_claimed_before_sending(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """A crash inside send() leaves the attempt counted and the message leased, not lost."""

    class Crashing:
        def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> dict[str, RecipientResult]:
            raise RuntimeError("power cut")

        def close(self) -> None:
            pass

    oid = queue(factory, [GP])
    cfg, clock = settings(tmp_path), Clock()
    with pytest.raises(RuntimeError):
        outbox.deliver_due(factory, Crashing(), cfg, SENDER, now=clock)
    row = load(factory, oid)
    assert row.state == "pending" and row.attempts == 1
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(0, 0, 0)  # leased
    clock.advance(cfg.claim_lease_seconds)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(1, 0, 0)  # maildir transport
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 1


def test_a_send_cut_short_by_a_crash_is_retried_within_minutes(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """The lease is `outbound.claim_lease_seconds` (default five minutes), not half an hour."""

    class Crashing:
        def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> dict[str, RecipientResult]:
            raise RuntimeError("killed mid-send")

        def close(self) -> None:
            pass

    oid = queue(factory, [GP])
    cfg, clock = dataclasses.replace(settings(tmp_path), claim_lease_seconds=120), Clock()
    assert settings(tmp_path).claim_lease_seconds == 300
    with pytest.raises(RuntimeError):
        outbox.deliver_due(factory, Crashing(), cfg, SENDER, now=clock)
    clock.advance(119)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(0, 0, 0)  # still leased
    clock.advance(1)
    assert deliver(factory, cfg, clock) == outbox.DeliveryReport(1, 0, 0)
    assert load(factory, oid).attempts == 2


def test_unusable_transport_stops_the_pass(
    factory: sessionmaker[Session], smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    first, second = queue(factory, [GP], "a"), queue(factory, [GP], "b")
    cfg = settings(tmp_path, smtp_server, security="starttls")
    assert deliver(factory, cfg, Clock()) == outbox.DeliveryReport(0, 1, 0)
    assert "does not offer STARTTLS" in load(factory, first).last_error
    assert load(factory, second).attempts == 0
    assert smtp_server.messages == []


def test_enqueue_is_idempotent_and_counts_for_the_rate_limit(factory: sessionmaker[Session]) -> None:
    rendered = Rendered(subject="s", text="t", html="<p>t</p>")
    mid = make_message_id("IFG-2026-0042", "ack", "<in@x>", "example.nhs.scot")
    msg = Outgoing(rendered, Envelope(to=(GP,)), "IFG", SENDER, mid, utcnow())
    with transaction(factory) as session:
        assert outbox.enqueue(
            session,
            issue_id=None,
            template="ack",
            message=msg,
            recipients=[GP, "GP@example.org"],
            now=utcnow(),
        )
        assert (
            outbox.enqueue(session, issue_id=None, template="ack", message=msg, recipients=[GP], now=utcnow())
            is None
        )
    with transaction(factory) as session:
        assert (
            outbox.enqueue(session, issue_id=None, template="ack", message=msg, recipients=[GP], now=utcnow())
            is None
        )
    with factory() as session:
        assert session.scalar(select(func.count(OutboxMessage.id))) == 1
        [row] = outbox.list_messages(session)
        assert [r.address for r in row.recipients] == [GP]
        sent = outbox.message_bytes(row) or b""
        assert row.raw is None and sent.startswith(b"From: IFG <") and b"\r\n" in sent
        hour_ago = utcnow() - timedelta(hours=1)
        assert outbox.automatic_sent_to(session, "GP@Example.org", hour_ago) == 1
        assert outbox.automatic_sent_to(session, NURSE, hour_ago) == 0
        assert outbox.automatic_sent_to(session, GP, utcnow() + timedelta(seconds=1)) == 0


def test_enqueue_refuses_bad_recipients(factory: sessionmaker[Session]) -> None:
    rendered = Rendered(subject="s", text="t", html="<p>t</p>")
    mid = make_message_id(None, "note", "x", "example.nhs.scot")
    msg = Outgoing(rendered, Envelope(to=(GP,)), "IFG", SENDER, mid, utcnow())
    with transaction(factory) as session:
        with pytest.raises(ValueError):
            outbox.enqueue(
                session,
                issue_id=None,
                template="t",
                message=msg,
                recipients=["a@x.org, b@y.org"],
                now=utcnow(),
            )
        with pytest.raises(ValueError):
            outbox.enqueue(session, issue_id=None, template="t", message=msg, recipients=[], now=utcnow())


def test_a_batch_shares_one_connection_and_one_login(
    factory: sessionmaker[Session], auth_server: SmtpTestServer, tmp_path: Path
) -> None:
    first, *rest = [queue(factory, [GP, NURSE], f"u{i}") for i in range(4)]
    auth_server.fail(GP, 550)  # the first message's GP only: results stay per recipient
    cfg = settings(tmp_path, auth_server, username="ifg", password="s3cret")
    assert deliver(factory, cfg, Clock()) == outbox.DeliveryReport(sent=3, retrying=0, failed=1)
    assert (auth_server.sessions, auth_server.logins) == (1, 1)
    assert states(load(factory, first)) == {GP: "failed", NURSE: "sent"}
    assert all(states(load(factory, oid)) == {GP: "sent", NURSE: "sent"} for oid in rest)
    assert len(auth_server.received_by(GP)) == 3 and len(auth_server.received_by(NURSE)) == 4


@pytest.mark.parametrize("last_words", ["", "421 4.4.2 Idle timeout, closing connection"])
def test_a_connection_dropped_between_messages_is_replaced(
    factory: sessionmaker[Session], auth_server: SmtpTestServer, tmp_path: Path, last_words: str
) -> None:
    ids = [queue(factory, [GP], f"u{i}") for i in range(3)]
    # The kept session has ended when message 2 starts (silently, or with a 421).
    auth_server.drop_connection_at_mail(2, reply=last_words)
    cfg = settings(tmp_path, auth_server, username="ifg", password="s3cret")
    assert deliver(factory, cfg, Clock()) == outbox.DeliveryReport(sent=3, retrying=0, failed=0)
    assert (auth_server.sessions, auth_server.logins) == (2, 2)
    assert [load(factory, oid).attempts for oid in ids] == [1, 1, 1]
    assert len(auth_server.received_by(GP)) == 3  # each once


def test_a_fresh_connection_that_drops_is_retried_later_not_at_once(
    factory: sessionmaker[Session], smtp_server: SmtpTestServer, tmp_path: Path
) -> None:
    oid = queue(factory, [GP])
    smtp_server.drop_connection_at_mail(1, 2)
    assert deliver(factory, settings(tmp_path, smtp_server), Clock()) == outbox.DeliveryReport(0, 1, 0)
    assert smtp_server.sessions == 1 and smtp_server.messages == []
    assert load(factory, oid).last_error.startswith(f"{GP}: connection:")
