"""Peak memory of `mailproc poll` over one 25 MB message and 1,000 small ones, against the ceiling.

    python benchmarks/memory.py                  # 3 alternating rounds, SQLite (and PostgreSQL if set)
    python benchmarks/memory.py --rounds 5 --small 1000 --big-mb 25

Each round fills the IMAP test server's INBOX with one message of about 25 MB (a random
attachment, base64: what a scanned letter looks like) among N small varied ones, then, in
alternating order, runs as child processes:
- the ceiling: imapclient FETCHing BODY.PEEK[] 200 UIDs at a time, mail-parser parsing each;
- `mailproc poll` (with delivery, to the Maildir outbox) on a fresh database;
and, once, `mailproc poll` over an empty INBOX (the interpreter, imports and connections: the
floor every poll pays). Peak RSS of each child is its VmHWM (see peak_rss.py: os.wait4's figure
would include this process's own peak). Medians
over the rounds, the ratio poll/ceiling and the goal (4 × the big message above the floor) are
printed. Figures only: nothing here asserts on memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.ingest import empty  # noqa: E402
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
from tests.support.mail import Attachment, make_message, varied_message  # noqa: E402


def big_message(megabytes: float) -> bytes:
    """A submission whose attachment makes the whole message about `megabytes` MB."""
    data = os.urandom(int(megabytes * 1_000_000 * 3 / 4 * 76 / 78))  # base64 and its line ends
    scan = Attachment("scanned-referral-letter.pdf", data, "application/pdf")
    body = "Dear group,\n\nThe referral letter is attached as a scan; it was rejected twice.\n"
    return make_message(subject="Referral rejected, scan attached", body=body, attachments=[scan])


def fill(server: ImapTestServer, big: bytes, small: int) -> None:
    """INBOX: the big message among `small` varied ones (the big one in the middle)."""
    empty(server)
    raws = [varied_message(i) for i in range(small)]
    server.deliver(raws[: small // 2])
    server.deliver([big])
    for start in range(small // 2, small, 250):
        server.deliver(raws[start : min(start + 250, small)])


def peak_kib(env: dict[str, str], what: str, *args: str) -> int:
    """Peak RSS (KiB) of `what` (mailproc or the ceiling) run by peak_rss.py in a child."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "peak"
        cmd = [sys.executable, str(Path(__file__).with_name("peak_rss.py")), str(out), what, *args]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"!! {what} {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}", file=sys.stderr)
        elif what == "mailproc" and "new issue" not in proc.stdout and "0 new" not in proc.stdout:
            print(f"!! mailproc said: {proc.stdout}", file=sys.stderr)
        return int(out.read_text()) if out.exists() else 0


def ceiling(server: ImapTestServer) -> int:
    """Peak RSS (KiB) of the ceiling: FETCH of 200 bodies at a time, mail-parser on each."""
    return peak_kib(child_env(server), "ceiling", server.host, str(server.port), server.username)


def poll(server: ImapTestServer, kind: str, root: Path) -> int:
    """Peak RSS (KiB) of `mailproc poll` on a fresh database over what INBOX holds."""
    root.mkdir(parents=True, exist_ok=True)
    with database(kind, root) as db:
        ws = imap_workspace(root, db, server, [])
        env = child_env(server)
        checked(run_mailproc(ws, env, "db", "upgrade"), "mailproc db upgrade")
        return peak_kib(env, "mailproc", "--config", str(ws.config), "poll")


def bench(server: ImapTestServer, args: argparse.Namespace, kind: str, base: Path) -> None:
    big = big_message(args.big_mb)
    empty(server)
    floor = poll(server, kind, base / f"{kind}-floor")
    tops: list[int] = []
    polls: list[int] = []
    for r in range(args.rounds):
        fill(server, big, args.small)
        if r % 2 == 0:
            tops.append(ceiling(server))  # read-only: the poll then reads the same folder
            polls.append(poll(server, kind, base / f"{kind}-{r}"))
        else:
            polls.append(poll(server, kind, base / f"{kind}-{r}"))
            fill(server, big, args.small)
            tops.append(ceiling(server))
        print(f"  {kind} round {r + 1}: ceiling {tops[-1] / 1024:.0f} MiB, poll {polls[-1] / 1024:.0f} MiB")
    top, peak = statistics.median(tops) / 1024, statistics.median(polls) / 1024
    size = len(big) / 1024 / 1024
    print(
        f"{kind}: one {size:.1f} MiB message and {args.small} small ones, medians of {args.rounds} "
        f"rounds: poll peak RSS {peak:.0f} MiB, ceiling {top:.0f} MiB, ratio {peak / top:.2f}; "
        f"poll over an empty INBOX {floor / 1024:.0f} MiB, so the messages cost {peak - floor / 1024:.0f} "
        f"MiB = {(peak - floor / 1024) / size:.1f} × the big message (goal 4 ×)",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000, help="small messages (default 1000)")
    parser.add_argument("--big-mb", type=float, default=25.0, help="size of the big one (default 25)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]
    with workspace_root(None) as base, ImapTestServer() as server:
        print(f"IMAP test server: {server.kind}; databases: {', '.join(kinds)}", flush=True)
        for kind in kinds:
            bench(server, args, kind, base)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
