"""Latency under `watch`: APPEND of a submission → its acknowledgement accepted by SMTP.

    python benchmarks/latency.py                   # 100 messages, SQLite (and PostgreSQL if set)
    python benchmarks/latency.py --n 50 --gap 0.5
    MAILPROC_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test python benchmarks/latency.py

`mailproc watch` runs as a child process on the IMAP test server's INBOX with IDLE (and a
poll_interval of 300 s, so only IDLE wakes it), sending through an aiosmtpd server in this
process. Submissions are APPENDed one at a time, `--gap` seconds apart; the latency of one is
from just before its APPEND to the moment the aiosmtpd handler accepts the DATA of the
acknowledgement to its sender. The baseline, measured in the same run on the same appends: a
second imapclient connection idling on INBOX, from the APPEND to the first EXISTS it is told
of (what any IDLE client must wait for). Medians and 95th percentiles are printed, and the
ratio to the baseline. Figures only: nothing here asserts on speed.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from benchmarks.poll_throughput import PG_ENV, child_env, database, workspace_root  # noqa: E402
from tests.support.imapserver import ImapTestServer  # noqa: E402
from tests.support.mail import make_message  # noqa: E402
from tests.support.net import free_port  # noqa: E402
from tests.support.workspace import make_workspace  # noqa: E402


class Stamps:
    """aiosmtpd handler: the first time each envelope recipient's mail was accepted."""

    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.monotonic()
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.accepted.setdefault(rcpt.lower(), now)
        return "250 2.0.0 accepted"

    def count(self) -> int:
        with self.lock:
            return len(self.accepted)


class IdleWitness(threading.Thread):
    """A plain IDLE client on INBOX: the times at which the server announced new mail."""

    def __init__(self, server: ImapTestServer) -> None:
        super().__init__(daemon=True)
        self.client = server.client()
        self.client.select_folder("INBOX")
        self.client.idle()
        self.seen: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for _num, kind in self.client.idle_check(timeout=0.5):
                if kind == b"EXISTS":
                    self.seen.append(time.monotonic())

    def first_after(self, moment: float) -> float | None:
        return next((t for t in self.seen if t >= moment), None)

    def close(self) -> None:
        self.stop.set()
        self.join(5)
        self.client.idle_done()
        self.client.logout()


def submission(i: int) -> tuple[str, bytes]:
    sender = f"latency.{i}@example-practice.scot.nhs.uk"
    body = f"Dear group,\n\nLatency sample {i}: a discharge letter came without its medicines.\n"
    return sender, make_message(from_=sender, subject=f"Discharge letter, case {i}", body=body)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_watch(root: Path, db_url: str, server: ImapTestServer, smtp_port: int) -> subprocess.Popen[bytes]:
    imap = {"host": server.host, "port": server.port, "security": "none", "username": server.username}
    smtp = {"host": "127.0.0.1", "port": smtp_port, "security": "none", "timeout": 10}
    ws = make_workspace(
        root, db_url=db_url, intake={"source": "imap"}, intake__imap={**imap, "poll_interval": 300},
        outbound={"transport": "smtp"}, outbound__smtp=smtp,
    )  # fmt: skip
    env = child_env(server)
    base = [sys.executable, "-m", "mailproc", "-q", "--config", str(ws.config)]
    subprocess.run([*base, "db", "upgrade"], env=env, check=True, capture_output=True)
    return subprocess.Popen([*base, "watch"], env=env, stderr=subprocess.PIPE)


def run(server: ImapTestServer, kind: str, root: Path, n: int, gap: float) -> None:
    stamps = Stamps()
    controller = Controller(stamps, hostname="127.0.0.1", port=free_port())
    controller.start()
    root.mkdir(parents=True, exist_ok=True)
    with database(kind, root) as db:
        proc = start_watch(root, db.url, server, controller.port)
        witness = IdleWitness(server)
        witness.start()
        appender = server.client()
        appended: dict[str, float] = {}
        try:
            time.sleep(3)  # watch has started, made its first pass and is idling
            for i in range(n):
                sender, raw = submission(i)
                appended[sender] = time.monotonic()
                appender.append("INBOX", raw)
                time.sleep(gap)
            deadline = time.monotonic() + 60
            while stamps.count() < n and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            appender.logout()
            witness.close()
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
            controller.stop()
    report(kind, appended, stamps, witness, err.decode(errors="replace"))


def report(kind: str, appended: dict[str, float], stamps: Stamps, witness: IdleWitness, err: str) -> None:
    acks = [stamps.accepted[s] - t for s, t in appended.items() if s in stamps.accepted]
    idles = [w - t for t in appended.values() if (w := witness.first_after(t)) is not None]
    if len(acks) < len(appended):
        missing = len(appended) - len(acks)
        print(f"!! {missing} acknowledgement(s) missing; watch said:\n{err}", file=sys.stderr)
    if not acks or not idles:
        return
    ack_med, ack_95 = statistics.median(acks), percentile(acks, 0.95)
    idle_med, idle_95 = statistics.median(idles), percentile(idles, 0.95)
    print(
        f"{kind}: {len(acks)} submissions; APPEND → acknowledgement accepted: median {ack_med:.3f} s, "
        f"p95 {ack_95:.3f} s, max {max(acks):.3f} s; baseline APPEND → IDLE EXISTS: median "
        f"{idle_med:.3f} s, p95 {idle_95:.3f} s; median ratio {ack_med / max(idle_med, 1e-6):.1f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="submissions (default 100)")
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between APPENDs (default 0.3)")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]
    with workspace_root(None) as base, ImapTestServer() as server:
        print(f"IMAP test server: {server.kind}; databases: {', '.join(kinds)}", flush=True)
        for kind in kinds:
            run(server, kind, base / kind, args.n, args.gap)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
