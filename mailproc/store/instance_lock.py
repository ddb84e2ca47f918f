"""One pass at a time per mailbox, across processes: the lock two mailproc instances share.

Two `watch` (or `poll`) processes on one mailbox and one database would otherwise fetch the
same messages at once. The database's unique keys already keep each message logged once and
the outbox's claims keep each email sent once, but the loser of every race does the work for
nothing and MOVEs a message the winner is moving too (Dovecot then leaves a spare copy in
Processed). So a pass holds this lock: the second instance waits for the first one's pass to
end, then looks for itself (and usually finds the mailbox empty).

PostgreSQL: a session advisory lock keyed on a hash of the mailbox's name, on a connection
held for the pass (a killed process's connection closes and releases it). SQLite: a lock file
beside the database (held by the open file, so a killed process releases it too); SQLite
admits one writer at a time anyway, so this only spares the duplicate fetches and moves.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)
RETRY_SECONDS = 0.5  # how often a waiting instance tries again: short against a pass


def lock_key(mailbox: str) -> int:
    """A signed 64-bit key for `mailbox` (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.blake2b(f"mailproc-mailbox:{mailbox}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class MailboxLock:
    """A non-blocking lock on one mailbox, shared by every process on the same database."""

    def __init__(self, engine: Engine, mailbox: str) -> None:
        self.engine = engine
        self.key = lock_key(mailbox)
        self._conn: Connection | None = None
        self._file: IO[bytes] | None = None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; False (at once) if another instance does."""
        if self.engine.dialect.name == "postgresql":
            return self._try_pg()
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return True  # no other process can see this database
        path = database.removeprefix("file:") if self.engine.url.query.get("uri") else database
        try:
            fh = open(f"{path}.mailbox-{self.key & 0xFFFFFFFFFFFFFFFF:016x}.lock", "a+b")  # noqa: SIM115
        except OSError:
            # A folder we may not write to: the database will say what is wrong (read-only),
            # and SQLite's own lock still admits one writer at a time.
            log.debug("no mailbox lock file beside %s", path, exc_info=True)
            return True
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        self._file = fh
        return True

    def _try_pg(self) -> bool:
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
            conn.commit()  # a session lock outlives the transaction; don't sit idle in one
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        """Let the next instance in; safe to call when not held."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                conn.commit()
            except Exception:
                # The connection is unusable: dropping it releases the lock with the session.
                log.debug("could not unlock the mailbox; dropping the connection", exc_info=True)
                conn.invalidate()
            finally:
                conn.close()
        fh, self._file = self._file, None
        if fh is not None:
            fh.close()  # closing the file releases its flock


@contextmanager
def mailbox_held(
    engine: Engine, mailbox: str, wait: Callable[[float], object], retry: float = RETRY_SECONDS
) -> Iterator[None]:
    """Hold `mailbox` for the body, calling `wait(retry)` while another instance holds it
    (`watch` passes a wait that a signal interrupts)."""
    lock = MailboxLock(engine, mailbox)
    told = False
    while not lock.try_acquire():
        if not told:
            log.info("another mailproc is processing %s; waiting for its pass to end", mailbox)
            told = True
        wait(retry)
    try:
        yield
    finally:
        lock.release()
