"""An IMAP folder as a mail source (imapclient).

Everything still in the folder is pending: done() and quarantine() move mail out, so the
source never depends on \\Seen, and bodies are read with BODY.PEEK so flags stay untouched.
"""

from __future__ import annotations

import imaplib
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from imapclient import IMAPClient

from mailproc.config import ImapSettings
from mailproc.errors import SourceError
from mailproc.intake.sources.base import IDLE_RENEW_SECONDS, CursorStore, SourceMessage, key_part
from mailproc.intake.sources.imap_connect import abandon, guard, log_in, where
from mailproc.intake.sources.imap_idle import NEW_MAIL, idle_until

log = logging.getLogger(__name__)


def mailbox_name(settings: ImapSettings) -> str:
    """The source's name, which its keys begin with: server, account and folder (a digest
    of them when long), so that no other mailbox's UIDs can ever be taken for its own."""
    s = settings
    return f"imap:{key_part(f'{s.username}@{s.host.lower()}:{s.port}/{s.folder}')}"


class ImapSource:
    """One IMAP folder; messages leave it by MOVE (or COPY + UID EXPUNGE) to other folders."""

    def __init__(
        self,
        settings: ImapSettings,
        cursor: CursorStore,
        max_message_bytes: int,
        *,
        use_move: bool | None = None,
    ) -> None:
        """`use_move`: None picks MOVE when the server offers it; False forces COPY+EXPUNGE."""
        self.settings = settings
        self.name = mailbox_name(settings)
        self._cursor = cursor
        self._max_bytes = max_message_bytes
        self._use_move = use_move
        self._client: IMAPClient | None = None
        self._uidvalidity = 0
        self._highest_seen = 0
        self._where = where(settings)  # for messages

    # -- connection -------------------------------------------------------------------------

    def open(self) -> None:
        """Connect, log in, create the target folders, select the folder, check UIDVALIDITY."""
        self.close()
        client = log_in(self.settings)
        try:
            self._client = client
            for folder in (self.settings.processed_folder, self.settings.quarantine_folder):
                self._ensure_folder(folder)
            with guard("SELECT", self.settings):
                info = client.select_folder(self.settings.folder)
        except BaseException:
            self._client = None
            abandon(client)
            raise
        self._uidvalidity = int(info[b"UIDVALIDITY"])
        self._highest_seen = 0
        self._check_uidvalidity()

    def _ensure_folder(self, folder: str) -> None:
        client = self._require()
        with guard(f"create folder {folder!r}", self.settings):
            if client.folder_exists(folder):
                return
            try:
                client.create_folder(folder)
            except imaplib.IMAP4.error:
                # Another instance may have created it meanwhile; only then is this fine.
                if not client.folder_exists(folder):
                    raise

    def _check_uidvalidity(self) -> None:
        stored = self._cursor.load(self.name)
        if stored is not None and stored[0] == self._uidvalidity:
            return
        if stored is not None:
            log.warning(
                "UIDVALIDITY of %s changed from %d to %d: rescanning the whole folder "
                "(already logged messages are recognised by Message-ID and SHA-256)",
                self.name,
                stored[0],
                self._uidvalidity,
            )
        self._cursor.save(self.name, self._uidvalidity, 0)

    def close(self) -> None:
        """Log out; a connection that is already broken is simply dropped."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception as exc:  # closing must not fail over a dead socket
            log.debug("IMAP logout from %s failed: %s", self._where, exc)
            abandon(client)

    def _require(self) -> IMAPClient:
        if self._client is None:
            raise SourceError(f"IMAP source {self.name} is not open (call open() first)")
        return self._client

    # -- reading ----------------------------------------------------------------------------

    def _all_uids(self) -> list[int]:
        client = self._require()
        with guard("UID SEARCH", self.settings):
            # Servers (Dovecot) may answer SEARCH from the session's last view of the folder;
            # NOOP makes them take in mail delivered since.
            client.noop()
            return sorted(int(uid) for uid in client.search("ALL"))

    def count_pending(self) -> int:
        """How many messages are in the folder."""
        return len(self._all_uids())

    def pending(self) -> Iterator[SourceMessage]:
        """Every message in the folder, lowest UID first, fetched batch by batch."""
        uids = self._all_uids()
        size = self.settings.batch_size
        for start in range(0, len(uids), size):
            batch = uids[start : start + size]
            yield from self._fetch_batch(batch)
            # Once per batch, after the caller has dealt with its messages.
            self._save_cursor()

    def _save_cursor(self) -> None:
        stored = self._cursor.load(self.name)
        last = stored[1] if stored is not None and stored[0] == self._uidvalidity else 0
        if self._highest_seen > last:
            self._cursor.save(self.name, self._uidvalidity, self._highest_seen)

    def _fetch_batch(self, batch: list[int]) -> Iterator[SourceMessage]:
        with guard("FETCH RFC822.SIZE", self.settings):
            sizes = _sizes(self._require().fetch(batch, ["RFC822.SIZE"]))
        present = [uid for uid in batch if uid in sizes]  # the rest vanished since SEARCH
        big = [uid for uid in present if sizes[uid] > self._max_bytes]
        small = [uid for uid in present if sizes[uid] <= self._max_bytes]
        # Headers of oversize mail are small: get them at once. Bodies come chunk by chunk,
        # in UID order, so memory stays bounded by `fetch_bytes` (or one message larger than
        # it, fetched alone), not by the batch size.
        headers = self._fetch(big, b"BODY.PEEK[HEADER]", b"BODY[HEADER]") if big else {}
        bodies: dict[int, bytes] = {}
        chunks = _by_budget(small, sizes, self.settings.fetch_bytes)
        fetched: set[int] = set()
        for uid in present:
            oversize = sizes[uid] > self._max_bytes
            if not oversize and uid not in fetched:
                chunk = next(chunks)
                bodies = self._fetch(chunk, b"BODY.PEEK[]", b"BODY[]")
                fetched.update(chunk)
            raw = headers.get(uid) if oversize else bodies.get(uid)
            if raw is None:
                continue  # expunged by someone else between SEARCH and FETCH
            self._highest_seen = max(self._highest_seen, uid)
            if oversize:
                log.info("IMAP UID %d is %d bytes, over the limit: header only", uid, sizes[uid])
            yield SourceMessage(self._key(uid), raw=raw, size=sizes[uid], oversize=oversize)

    def _fetch(self, uids: list[int], item: bytes, key: bytes) -> dict[int, bytes]:
        log.debug("FETCH %s of %d message(s) from %s", item.decode(), len(uids), self._where)
        with guard(f"FETCH {item.decode()}", self.settings):
            data = self._require().fetch(uids, [item])
        wanted = set(uids)
        found = {int(uid): d.get(key) for uid, d in data.items() if int(uid) in wanted}
        return {uid: bytes(raw) for uid, raw in found.items() if raw is not None}

    # -- moving out -------------------------------------------------------------------------

    def _key(self, uid: int) -> str:
        return f"{self.name}:{self._uidvalidity}:{uid}"

    def _uid_of(self, key: str) -> int:
        mine = key.startswith(f"{self.name}:")
        validity, _, uid = key[len(self.name) + 1 :].partition(":") if mine else ("", "", "")
        if not (validity.isdigit() and uid.isdigit()):
            raise SourceError(
                f"{key!r} is not a key of this mailbox ({self.name}:<uidvalidity>:<uid>); "
                "it came from another server, account or folder"
            )
        if int(validity) != self._uidvalidity:
            raise SourceError(
                f"key {key!r} is for UIDVALIDITY {validity}, but {self.name} now has "
                f"{self._uidvalidity}; the message must be fetched again"
            )
        return int(uid)

    def done(self, key: str) -> None:
        """Move the message to the processed folder (no error if it is already gone)."""
        self._move_out([self._uid_of(key)], self.settings.processed_folder)

    def done_many(self, keys: Sequence[str]) -> None:
        """Move many messages to the processed folder with one command (UID MOVE, or UID COPY
        + STORE + UID EXPUNGE): Dovecot's cost per MOVE grows with the folder, so moving one
        at a time makes a first poll quadratic."""
        if keys:
            self._move_out([self._uid_of(key) for key in keys], self.settings.processed_folder)

    def quarantine(self, key: str, reason: str) -> None:
        """Move the message to the quarantine folder, logging why."""
        uid = self._uid_of(key)
        log.warning("quarantining %s to %r: %s", key, self.settings.quarantine_folder, reason)
        self._move_out([uid], self.settings.quarantine_folder)

    def _moves(self) -> bool:
        if self._use_move is not None:
            return self._use_move
        return bool(self._require().has_capability("MOVE"))

    def _move_out(self, uids: list[int], target: str) -> None:
        client = self._require()
        if self._moves():
            # UID MOVE of UIDs no longer there is answered OK: idempotent by itself.
            with guard(f"UID MOVE to {target!r}", self.settings):
                client.move(uids, target)
            return
        if not client.has_capability("UIDPLUS"):
            raise SourceError(
                f"IMAP server {self._where} offers neither MOVE nor UIDPLUS; without UID "
                "EXPUNGE removing one message would also expunge others marked \\Deleted"
            )
        with guard(f"UID COPY to {target!r}", self.settings):
            # Only the UIDs still here: copying nothing again keeps done() idempotent.
            found = {int(u) for u in client.search(["UID", ",".join(map(str, uids))])}
            present = [uid for uid in uids if uid in found]
            if not present:
                return
            # A crash between COPY and EXPUNGE leaves a second copy in the target on retry:
            # harmless, whereas trusting a \Deleted flag set by someone else could lose mail.
            client.copy(present, target)
            client.add_flags(present, [b"\\Deleted"])
            client.uid_expunge(present)

    # -- waiting ----------------------------------------------------------------------------

    def wait(self, timeout: float) -> bool:
        """IDLE until mail arrives or timeout (at most 540 s: the caller loops); else sleep."""
        client = self._require()
        with guard("IDLE", self.settings):
            if not (self.settings.idle and client.has_capability("IDLE")):
                time.sleep(timeout)
                return False
            if self._arrived_since_pending():
                return True
            kinds = idle_until(client, time.monotonic() + min(timeout, IDLE_RENEW_SECONDS))
        if b"BYE" in kinds:
            raise SourceError(f"IMAP server {self._where} closed the connection during IDLE")
        return bool(kinds & NEW_MAIL)

    def _arrived_since_pending(self) -> bool:
        """Mail that came while we were busy: its EXISTS was already consumed, so look."""
        client = self._require()
        client.noop()  # see _all_uids: without it the server may not show new mail yet
        uids = client.search(["UID", f"{self._highest_seen + 1}:*"])
        # "n:*" always matches the highest UID, even below n: filter.
        return any(int(uid) > self._highest_seen for uid in uids)


def _sizes(data: dict[int, dict[bytes, Any]]) -> dict[int, int]:
    """UID → RFC822.SIZE, ignoring unsolicited FETCH responses that carry no size."""
    return {int(uid): int(item[b"RFC822.SIZE"]) for uid, item in data.items() if b"RFC822.SIZE" in item}


def _by_budget(uids: Sequence[int], sizes: dict[int, int], budget: int) -> Iterator[list[int]]:
    """Split UIDs so one FETCH never asks for more than `budget` bytes (but at least one)."""
    chunk: list[int] = []
    total = 0
    for uid in uids:
        if chunk and total + sizes[uid] > budget:
            yield chunk
            chunk, total = [], 0
        chunk.append(uid)
        total += sizes[uid]
    if chunk:
        yield chunk
