"""Delivery throughput: N queued messages (default 10,000) delivered to aiosmtpd on loopback.

    python benchmarks/delivery.py                       # SQLite, 10,000 messages
    python benchmarks/delivery.py --messages 2000 --rounds 3
    MAILPROC_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/delivery.py                   # SQLite, then PostgreSQL

Each round builds a fresh workspace, queues N announcement emails (one per address) through
the real send gate (`gate.send`, in transactions of 500), then runs mailproc's delivery
(`runner.deliver`: claim a batch, compose, send, record each) to an aiosmtpd server in a
child process (so that server and client do not share a GIL). The baseline, in the same
round and in alternating order, is plain smtplib sending the same bytes to the same server
over one connection, with no database. It prints messages/s, SMTP connections used and
duplicates seen by the server, medians over the rounds, and the ratio to the baseline.
Nothing here asserts on speed.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from mailproc.intake import runner  # noqa: E402
from mailproc.outbound import catalogue, gate, outbox  # noqa: E402
from mailproc.store.db import ensure_schema, transaction  # noqa: E402
from mailproc.store.models import OutboxMessage  # noqa: E402
from tests.support.workspace import SECRET, make_workspace  # noqa: E402

PG_ENV = "MAILPROC_TEST_PG_URL"
SENDER = "ifg@example.nhs.scot"
ENQUEUE_CHUNK = 500

SERVER = """
import sys, threading
from aiosmtpd.controller import Controller
from tests.support.net import free_port

class Counting:
    def __init__(self):
        self.lock, self.messages, self.sessions, self.ids = threading.Lock(), 0, 0, set()
        self.duplicates = 0
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses
    async def handle_DATA(self, server, session, envelope):
        head = envelope.original_content.split(b"\\r\\n\\r\\n", 1)[0]
        mid = next((l for l in head.split(b"\\r\\n") if l.lower().startswith(b"message-id:")), b"")
        with self.lock:
            self.messages += 1
            self.duplicates += mid in self.ids
            self.ids.add(mid)
        return "250 2.0.0 accepted"

handler = Counting()
port = free_port()
controller = Controller(handler, hostname="127.0.0.1", port=port)
controller.start()
print(port, flush=True)
for line in sys.stdin:
    with handler.lock:
        print(handler.messages, handler.sessions, handler.duplicates, flush=True)
        if line.strip() == "reset":
            handler.messages = handler.sessions = handler.duplicates = 0
            handler.ids.clear()
controller.stop()
"""


@dataclass(frozen=True)
class Counts:
    messages: int
    sessions: int
    duplicates: int


class Server:
    """The counting aiosmtpd server in a child process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def take(self) -> Counts:
        """What arrived since the last take (and start counting afresh)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("reset\n")
        self.proc.stdin.flush()
        return Counts(*(int(x) for x in self.proc.stdout.readline().split()))

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@dataclass(frozen=True)
class Round:
    enqueue_rate: float
    mailproc_rate: float
    baseline_rate: float
    sessions: int
    duplicates: int
    sent: int


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh schema in the test PostgreSQL database, dropped afterwards."""
    base = os.environ[PG_ENV]
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def run_round(server: Server, backend: str, n: int, baseline_first: bool) -> Round:
    with tempfile.TemporaryDirectory(prefix="mailproc-bench-") as tmp, _database(backend, Path(tmp)) as url:
        ws = make_workspace(
            Path(tmp) / "ws",
            url,
            outbound={"transport": "smtp", "max_attempts": 3},
            outbound__smtp={"host": "127.0.0.1", "port": server.port, "security": "none", "timeout": 30},
        )
        app = ws.app()
        try:
            ensure_schema(app.engine)
            return _measure(server, app, n, baseline_first)
        finally:
            app.engine.dispose()


def _measure(server: Server, app: runner.App, n: int, baseline_first: bool) -> Round:
    enqueue_rate = _enqueue(app, n)
    raws = _bytes(app)
    server.take()
    baseline = _baseline(server.port, raws) if baseline_first else 0.0
    server.take()
    started = time.perf_counter()
    report = runner.deliver(app, budget=3600)
    mailproc_rate = n / (time.perf_counter() - started)
    counts = server.take()
    if not baseline_first:
        baseline = _baseline(server.port, raws)
        server.take()
    return Round(enqueue_rate, mailproc_rate, baseline, counts.sessions, counts.duplicates, report.sent)


@contextmanager
def _database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "postgresql":
        with pg_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp / 'mailproc.db'}"


def _enqueue(app: runner.App, n: int) -> float:
    """Queue n announcements through the gate; returns messages queued per second."""
    group = catalogue.group_view(app.settings)
    about = catalogue.awareness(app.settings)
    started = time.perf_counter()
    for first in range(0, n, ENQUEUE_CHUNK):
        with transaction(app.factory) as session:
            for i in range(first, min(n, first + ENQUEUE_CHUNK)):
                address = f"reader{i:05d}@example.org"
                assert gate.send(session, app, catalogue.announcement(group, about, address)).queued
    return n / (time.perf_counter() - started)


def _bytes(app: runner.App) -> list[tuple[bytes, str]]:
    """The messages as they will be sent, with their one recipient (for the baseline)."""
    with app.factory() as session:
        rows = outbox.list_messages(session)
        assert session.scalar(select(func.count(OutboxMessage.id))) == len(rows)
        return [(outbox.message_bytes(r) or b"", r.recipients[0].address) for r in rows]


def _baseline(port: int, raws: list[tuple[bytes, str]]) -> float:
    """smtplib alone: the same bytes over one connection, no database."""
    started = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    for raw, to in raws:
        smtp.sendmail(SENDER, [to], raw)
    smtp.quit()
    return len(raws) / (time.perf_counter() - started)


def report(backend: str, n: int, rounds: list[Round]) -> None:
    med = {
        f: statistics.median(getattr(r, f) for r in rounds)
        for f in ("enqueue_rate", "mailproc_rate", "baseline_rate")
    }
    print(f"\n{backend}: {n} messages, {len(rounds)} round(s), medians")
    print(f"  queued through the gate   {med['enqueue_rate']:8.0f} messages/s")
    print(f"  mailproc delivery         {med['mailproc_rate']:8.0f} messages/s")
    print(f"  baseline (smtplib alone)  {med['baseline_rate']:8.0f} messages/s")
    print(f"  ratio to baseline         {med['mailproc_rate'] / med['baseline_rate']:8.2f}")
    for i, r in enumerate(rounds, 1):
        print(
            f"  round {i}: delivered {r.mailproc_rate:.0f}/s, baseline {r.baseline_rate:.0f}/s, "
            f"sent {r.sent}, SMTP connections {r.sessions}, duplicates at the server {r.duplicates}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    os.environ.setdefault("MAILPROC_SECRET", SECRET)
    backends = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if PG_ENV not in os.environ:
        backends = [b for b in backends if b != "postgresql"]
        print(f"(PostgreSQL skipped: {PG_ENV} is not set)")
    server = Server()
    try:
        for backend in backends:
            rounds = [run_round(server, backend, args.messages, i % 2 == 1) for i in range(args.rounds)]
            report(backend, args.messages, rounds)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
