"""Is a first poll linear in the mailbox? `mailproc poll` (with delivery) on N and on a larger N.

    python benchmarks/first_poll.py                   # 2000 and 5000 messages, IMAP, SQLite
    python benchmarks/first_poll.py --large 20000     # the realistic first poll (about 10 minutes)
    MAILPROC_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/first_poll.py --database postgresql

For each size: a fresh workspace and database, the IMAP test server's INBOX filled with varied
messages, `mailproc db upgrade`, then one timed `mailproc poll` (outgoing mail delivered to the
workspace's Maildir outbox). Prints messages/s for each size, their ratio (1.0 = linear; the
issue asks for within 20 %), and database bytes per message. Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.ingest import empty  # noqa: E402
from benchmarks.poll_throughput import (  # noqa: E402
    checked,
    child_env,
    database,
    imap_workspace,
    run_mailproc,
    workspace_root,
)
from tests.support.imapserver import ImapTestServer  # noqa: E402
from tests.support.mail import varied_message  # noqa: E402


def first_poll(server: ImapTestServer, n: int, kind: str, root: Path) -> tuple[float, int]:
    """Messages/s of one first poll of `n` messages, and database bytes per message."""
    empty(server)
    root.mkdir(parents=True, exist_ok=True)
    with database(kind, root) as db:
        ws = imap_workspace(root, db, server, [varied_message(i) for i in range(n)])
        env = child_env(server)
        checked(run_mailproc(ws, env, "db", "upgrade"), "mailproc db upgrade")
        run = checked(run_mailproc(ws, env, "poll"), "first mailproc poll")
        if not run.stdout.startswith(f"{n} new issue(s)"):
            print(f"!! poll said: {run.stdout}", file=sys.stderr)
        print(f"  {n} messages: {run.seconds:.1f} s, {run.stdout}", flush=True)
        return n / run.seconds, db.size() // n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2000, help="the smaller mailbox (default 2000)")
    parser.add_argument("--large", type=int, default=5000, help="the larger mailbox (default 5000)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    with workspace_root(None) as base, ImapTestServer() as server:
        print(f"IMAP test server: {server.kind}; database: {args.database}", flush=True)
        small_rate, small_bytes = first_poll(server, args.small, args.database, base / "small")
        large_rate, large_bytes = first_poll(server, args.large, args.database, base / "large")
    print(f"{args.small} messages: {small_rate:.1f} msg/s, {small_bytes} database bytes per message")
    print(f"{args.large} messages: {large_rate:.1f} msg/s, {large_bytes} database bytes per message")
    print(f"ratio of rates (large / small): {large_rate / small_rate:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
