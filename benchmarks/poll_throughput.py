"""The first poll of a large mailbox, as a Health Board sees it on day one: time, memory, size.

Run from anywhere (the project installed, e.g. `pip install -e ".[dev]"`):

    python benchmarks/poll_throughput.py                      # 2000 messages, Maildir, SQLite
    python benchmarks/poll_throughput.py --messages 20000     # a realistic first poll
    python benchmarks/poll_throughput.py --source imap --messages 500
    MAILPROC_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/poll_throughput.py --database postgresql --messages 500

It builds a throw-away workspace (tests/support/workspace.py), fills the inbox with varied messages
(tests/support/mail.py), creates the schema, then runs `mailproc poll` twice as a child process
(the second poll finds nothing new). It prints figures only; nothing here asserts on speed.
"""

from __future__ import annotations

import argparse
import mailbox
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

# The workspace and sample mail live in tests/; make the project root importable as a script.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from mailproc.store.models import OutboxMessage  # noqa: E402
from tests.support.imapserver import ImapTestServer  # noqa: E402
from tests.support.mail import varied_message  # noqa: E402
from tests.support.workspace import SECRET, Workspace, make_workspace  # noqa: E402

PG_ENV = "MAILPROC_TEST_PG_URL"
APPEND_CHUNK = 250  # messages per MULTIAPPEND: one command of 20000 messages is needlessly large
SENT = re.compile(r"\bsent (\d+)\b")


@dataclass(frozen=True)
class Database:
    """Where the workspace keeps its data, and how to measure that on disk."""

    url: str
    size: Callable[[], int]
    measured: str  # what `size` counts


@dataclass(frozen=True)
class Result:
    """What the polls left behind: database bytes, and outbox states after each poll."""

    db_bytes: int
    db_measured: str
    outbox_first: dict[str, int]
    outbox_second: dict[str, int]


@dataclass(frozen=True)
class Run:
    """One `mailproc` child process: what it printed and what it cost."""

    seconds: float
    peak_rss_kib: int
    returncode: int
    stdout: str
    stderr: str


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages", type=int, default=2000, metavar="N",
        help="messages in the inbox (default 2000; 20000 is the realistic first-poll size)",
    )  # fmt: skip
    parser.add_argument(
        "--source",
        choices=("maildir", "imap"),
        default="maildir",
        help="intake: a local Maildir, or the project's IMAP test server (default maildir)",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help=f"sqlite file, or a throw-away schema in ${PG_ENV} (default sqlite)",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="build the workspace in DIR and keep it afterwards"
    )
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    if args.database == "postgresql" and not os.environ.get(PG_ENV):
        parser.error(
            f"--database postgresql needs {PG_ENV}, e.g. postgresql+psycopg://postgres@127.0.0.1/test"
        )
    return args


@contextmanager
def workspace_root(keep: Path | None) -> Iterator[Path]:
    """The directory to build in: `keep` (left in place) or a temporary one (removed)."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    tmp = Path(tempfile.mkdtemp(prefix="mailproc-bench-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sqlite_database(path: Path) -> Database:
    """A SQLite file; its size counts the write-ahead log and shared-memory files too."""

    def size() -> int:
        files = [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm")]
        return sum(f.stat().st_size for f in files if f.exists())

    return Database(f"sqlite:///{path}", size, "SQLite file with -wal and -shm")


@contextmanager
def postgres_schema(base_url: str) -> Iterator[Database]:
    """A new empty schema on the test server, seen as the search path; dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def size() -> int:
        query = text(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relkind IN ('r', 'm')"
        )
        with engine.connect() as conn:
            return int(conn.execute(query, {"s": schema}).scalar_one())

    separator = "&" if "?" in base_url else "?"
    try:
        url = f"{base_url}{separator}options=-csearch_path%3D{schema}"
        yield Database(url, size, f"tables, indexes and TOAST of schema {schema}")
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@contextmanager
def database(kind: str, root: Path) -> Iterator[Database]:
    if kind == "postgresql":
        with postgres_schema(os.environ[PG_ENV]) as db:
            yield db
    else:
        yield sqlite_database(root / "mailproc.db")


def outbox_states(db: Database) -> dict[str, int]:
    """Outbox messages by delivery state (pending, sent, failed), read straight from the database."""
    engine = create_engine(db.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
            return {state: int(count) for state, count in rows}
    finally:
        engine.dispose()


def fill_maildir(inbox: Path, raws: list[bytes]) -> None:
    box = mailbox.Maildir(inbox, create=True)
    for raw in raws:
        box.add(raw)


def imap_workspace(root: Path, db: Database, server: ImapTestServer, raws: list[bytes]) -> Workspace:
    """A workspace reading the test server's INBOX (default batch size), which holds `raws`."""
    for start in range(0, len(raws), APPEND_CHUNK):
        server.deliver(raws[start : start + APPEND_CHUNK], "INBOX")
    settings = {"host": server.host, "port": server.port, "security": "none", "username": server.username}
    return make_workspace(root, db_url=db.url, intake={"source": "imap"}, intake__imap=settings)


def child_env(server: ImapTestServer | None) -> dict[str, str]:
    env = {**os.environ, "MAILPROC_SECRET": SECRET}
    if server is not None:
        env["MAILPROC_IMAP_PASSWORD"] = server.password
    return env


def run_mailproc(ws: Workspace, env: dict[str, str], *args: str) -> Run:
    """Run `python -m mailproc -q --config ... ARGS`; wall time and this child's own peak RSS.

    os.wait4 gives the rusage of exactly this child, where getrusage(RUSAGE_CHILDREN) would
    report the largest of all children reaped so far (so the second poll would echo the first).
    """
    cmd = [sys.executable, "-m", "mailproc", "-q", "--config", str(ws.config), *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    return Run(seconds, usage.ru_maxrss, proc.returncode, stdout.strip(), stderr.strip())


def checked(run: Run, what: str) -> Run:
    """The run, after saying so loudly if it failed (figures of a failed run mislead)."""
    if run.returncode != 0:
        print(f"!! {what} exited {run.returncode}:\n{run.stderr or run.stdout}", file=sys.stderr)
    return run


def sent_count(run: Run) -> str:
    """The `sent N` the poll printed for its delivery step."""
    found = SENT.search(run.stdout)
    return found.group(1) if found else "?"


def mib(nbytes: float) -> str:
    return f"{nbytes / 1024 / 1024:.1f} MiB"


def states_line(states: dict[str, int]) -> str:
    return ", ".join(f"{count} {state}" for state, count in sorted(states.items())) or "empty"


def report(args: argparse.Namespace, first: Run, second: Run, result: Result) -> None:
    """Print the figures, one per line, then a one-line summary."""
    rate = args.messages / first.seconds
    rss = mib(first.peak_rss_kib * 1024)  # Linux reports ru_maxrss in KiB
    size = mib(result.db_bytes)
    print(f"source / database:      {args.source} / {args.database}")
    print(f"messages:               {args.messages}")
    print(f"first poll:             {first.seconds:.2f} s")
    print(f"messages/second:        {rate:.1f}")
    print(f"peak RSS (first poll):  {rss}")
    print(f"database size on disk:  {size} ({result.db_measured})")
    print(f"outbox messages sent:   {sent_count(first)}")
    print(f"outbox after 1st poll:  {states_line(result.outbox_first)}")
    print(f"first poll said:        {first.stdout or '(nothing)'}")
    print(f"second poll:            {second.seconds:.2f} s, peak RSS {mib(second.peak_rss_kib * 1024)}")
    print(f"second poll said:       {second.stdout or '(nothing)'}")
    print(f"outbox after 2nd poll:  {states_line(result.outbox_second)}")
    print(
        f"summary: {args.messages} messages via {args.source}/{args.database}: "
        f"first poll {first.seconds:.1f} s ({rate:.0f}/s), peak RSS {rss}, database {size}, "
        f"sent {sent_count(first)}; "
        f"second poll {second.seconds:.2f} s"
    )


def fill(args: argparse.Namespace, root: Path, db: Database, server: ImapTestServer | None) -> Workspace:
    """The workspace, its inbox (Maildir or the IMAP server's INBOX) holding the varied messages."""
    raws = [varied_message(i) for i in range(args.messages)]
    started = time.perf_counter()
    if server is not None:
        ws = imap_workspace(root, db, server, raws)
    else:
        ws = make_workspace(root, db_url=db.url)
        fill_maildir(root / "inbox", raws)
    filled = time.perf_counter() - started
    print(f"filled the {args.source} inbox with {len(raws)} messages in {filled:.1f} s", flush=True)
    return ws


def bench(args: argparse.Namespace, root: Path, db: Database, server: ImapTestServer | None) -> int:
    """Build and fill the workspace, create the schema, poll twice, report."""
    ws = fill(args, root, db, server)
    env = child_env(server)
    # Day one: the schema is created first (`mailproc db upgrade`), so it is not in the poll figure.
    if checked(run_mailproc(ws, env, "db", "upgrade"), "mailproc db upgrade").returncode != 0:
        return 1
    first = checked(run_mailproc(ws, env, "poll"), "first mailproc poll")
    after_first = outbox_states(db)
    second = checked(run_mailproc(ws, env, "poll"), "second mailproc poll")
    report(args, first, second, Result(db.size(), db.measured, after_first, outbox_states(db)))
    if args.keep is not None:
        print(f"workspace kept in {root}")
    return 1 if first.returncode or second.returncode else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    imap: AbstractContextManager[ImapTestServer | None] = (
        ImapTestServer() if args.source == "imap" else nullcontext()
    )
    with workspace_root(args.keep) as root, database(args.database, root) as db, imap as server:
        if server is not None:
            print(f"IMAP test server: {server.kind} on {server.host}:{server.port}")
        return bench(args, root, db, server)


if __name__ == "__main__":
    raise SystemExit(main())
