"""Ingest against its ceiling: `mailproc poll --no-send` vs batched FETCH + mail-parser, same folder.

    python benchmarks/ingest.py                 # 2000 messages, SQLite (and PostgreSQL if set)
    python benchmarks/ingest.py --n 5000 --rounds 5
    MAILPROC_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test python benchmarks/ingest.py

Each round fills the IMAP test server's INBOX with N varied messages, then, in alternating
order, runs the ceiling (imapclient, FETCH BODY.PEEK[] of 200 UIDs at a time, mail-parser on
each message; read-only) and `mailproc poll --no-send` as a child process on a fresh database
(its figure includes the child's start-up, about a second). Medians over the rounds and the
ratio poll/ceiling are printed. Figures only: nothing here asserts on speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from benchmarks.ceiling_fetch import read_inbox  # noqa: E402
from benchmarks.poll_throughput import (  # noqa: E402
    PG_ENV,
    checked,
    child_env,
    database,
    imap_workspace,
    run_mailproc,
    workspace_root,
)
from tests.support.imapserver import ImapTestServer  # noqa: E402
from tests.support.mail import varied_message  # noqa: E402


def ceiling(server: ImapTestServer) -> float:
    """Seconds of the ceiling's work (`ceiling_fetch.read_inbox`) on the server's INBOX."""
    started = time.perf_counter()
    client = server.client()
    try:
        read_inbox(client)
    finally:
        client.logout()
    return time.perf_counter() - started


def poll(server: ImapTestServer, kind: str, root: Path) -> tuple[float, str]:
    """Seconds of `mailproc poll --no-send` on a fresh database, and what it printed."""
    root.mkdir(parents=True, exist_ok=True)
    with database(kind, root) as db:
        ws = imap_workspace(root, db, server, [])
        env = child_env(server)
        checked(run_mailproc(ws, env, "db", "upgrade"), "mailproc db upgrade")
        run = checked(run_mailproc(ws, env, "poll", "--no-send"), "mailproc poll --no-send")
        return run.seconds, run.stdout


def empty(server: ImapTestServer) -> None:
    """Remove what a poll left in Processed (and INBOX), so every round starts alike."""
    client = server.client()
    try:
        for folder in ("INBOX", "Processed", "Quarantine"):
            if client.folder_exists(folder):
                client.select_folder(folder)
                client.delete_messages(client.search("ALL"))
                client.expunge()
    finally:
        client.logout()


def fill(server: ImapTestServer, n: int) -> None:
    """An INBOX holding exactly the N varied messages."""
    empty(server)
    raws = [varied_message(i) for i in range(n)]
    for start in range(0, n, 250):
        server.deliver(raws[start : start + 250])


def one_round(
    server: ImapTestServer, n: int, kind: str, root: Path, ceiling_first: bool
) -> tuple[float, float]:
    """(ceiling seconds, poll seconds) on the same N messages, in the order given."""
    fill(server, n)
    if ceiling_first:
        top = ceiling(server)  # read-only: the poll then reads the same folder
        seconds, said = poll(server, kind, root)
    else:
        seconds, said = poll(server, kind, root)
        fill(server, n)
        top = ceiling(server)
    if not said.startswith(f"{n} new issue(s)"):
        print(f"!! poll said: {said}", file=sys.stderr)
    return top, seconds


def bench(server: ImapTestServer, n: int, rounds: int, kind: str, base: Path) -> None:
    tops: list[float] = []
    polls: list[float] = []
    for r in range(rounds):
        top, seconds = one_round(server, n, kind, base / f"{kind}-{r}", ceiling_first=r % 2 == 0)
        tops.append(top)
        polls.append(seconds)
        rates = f"ceiling {n / top:.0f}/s, poll --no-send {n / seconds:.1f}/s"
        print(f"  {kind} round {r + 1}: {rates}", flush=True)
    top_rate, poll_rate = n / statistics.median(tops), n / statistics.median(polls)
    print(
        f"{kind}: {n} messages, medians of {rounds} rounds: ceiling {top_rate:.0f} msg/s, "
        f"poll --no-send {poll_rate:.1f} msg/s, ratio {poll_rate / top_rate:.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="messages per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]
    with workspace_root(None) as base, ImapTestServer() as server:
        print(f"IMAP test server: {server.kind}; databases: {', '.join(kinds)}", flush=True)
        for kind in kinds:
            bench(server, args.n, args.rounds, kind, base)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
