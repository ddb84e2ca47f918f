"""A local Maildir as a mail source (the embedded default).

Layout is Maildir++: the inbox is root/{new,cur,tmp}; processed and quarantined mail go to
the sub-folders root/.Processed and root/.Quarantine. A message leaves the inbox only by an
atomic rename, so a crash never leaves it in two places or none.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from mailproc.errors import SourceError
from mailproc.intake.sources.base import SourceMessage, key_part

log = logging.getLogger(__name__)

PROCESSED = "Processed"
QUARANTINE = "Quarantine"
INFO_SEP = ":"  # Maildir "unique:2,flags"; the stdlib uses the same separator
MAX_HEADER_BYTES = 1024 * 1024  # header-only reads of oversize mail stop here regardless


class MaildirSource:
    """Messages in root/new and root/cur; done/quarantine rename them into sub-folders."""

    def __init__(self, root: Path, max_message_bytes: int) -> None:
        """`max_message_bytes`: larger messages are yielded as header only, oversize=True."""
        self.root = Path(root)
        # Keys name the Maildir (its real path), as two Maildirs may hold files of one name.
        self.name = f"maildir:{key_part(str(self.root.resolve()))}"
        self._max_bytes = max_message_bytes
        self._paths: dict[str, Path] = {}  # key → where pending() last saw it

    def open(self) -> None:
        """Create the inbox and the Processed and Quarantine folders where missing.

        Done by hand rather than with mailbox.Maildir(create=True), which skips new/cur/tmp
        when the directory already exists. Mode 0700: the mail holds patient data.
        """
        try:
            for folder in (self.root, self.root / f".{PROCESSED}", self.root / f".{QUARANTINE}"):
                for sub in ("new", "cur", "tmp"):
                    (folder / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
                if folder != self.root:
                    (folder / "maildirfolder").touch()  # marks a Maildir++ sub-folder
        except OSError as exc:
            raise SourceError(f"cannot create Maildir at {self.root}: {exc}") from exc

    def close(self) -> None:
        """Nothing to release: every operation opens and closes its own files."""
        self._paths.clear()

    def _files(self) -> list[tuple[float, str, Path]]:
        """(mtime, name, path) of every message in new/ and cur/, oldest first."""
        found: list[tuple[float, str, Path]] = []
        for sub in ("new", "cur"):
            try:
                entries = list(os.scandir(self.root / sub))
            except OSError as exc:
                raise SourceError(f"cannot read Maildir {self.root / sub}: {exc}") from exc
            for entry in entries:
                if entry.name.startswith("."):
                    continue  # not a message (editor and NFS leftovers)
                try:
                    stat = entry.stat()
                except FileNotFoundError:
                    continue  # moved out by another process meanwhile
                found.append((stat.st_mtime, entry.name, Path(entry.path)))
        found.sort(key=lambda item: (item[0], item[1]))
        return found

    def count_pending(self) -> int:
        """How many messages wait in new/ and cur/."""
        return len(self._files())

    def pending(self) -> Iterator[SourceMessage]:
        """Every message in new/ and cur/, oldest first (by mtime, then name)."""
        for _mtime, name, path in self._files():
            key = self.key_of(name)
            try:
                message = self._read(key, path)
            except FileNotFoundError:
                continue  # moved out by another process since the directory scan
            self._paths[key] = path
            yield message

    def key_of(self, file_name: str) -> str:
        """The source key of the message in `file_name` (in new/ or cur/, flags or not)."""
        return f"{self.name}:{key_part(_unique(file_name))}"

    def _read(self, key: str, path: Path) -> SourceMessage:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size <= self._max_bytes:
                return SourceMessage(key, raw=fh.read(), size=size)
            log.info("%s is %d bytes, over the limit: header only", key, size)
            return SourceMessage(key, raw=_header_block(fh), size=size, oversize=True)

    def done(self, key: str) -> None:
        """Move the message to .Processed/cur (no error if it is already gone)."""
        self._move_out(key, PROCESSED)

    def done_many(self, keys: Sequence[str]) -> None:
        """done() for each key: a rename costs the same alone or in a batch."""
        for key in keys:
            self.done(key)

    def quarantine(self, key: str, reason: str) -> None:
        """Move the message to .Quarantine/cur, logging why."""
        log.warning("quarantining %s: %s", key, reason)
        self._move_out(key, QUARANTINE)

    def _move_out(self, key: str, folder: str) -> None:
        unique = self._unique_part(key)
        target_dir = self.root / f".{folder}" / "cur"
        for path in self._candidates(key, unique):
            # Files from new/ have no info part yet; in cur/ every name carries one.
            name = path.name if INFO_SEP in path.name else f"{path.name}{INFO_SEP}2,"
            try:
                os.rename(path, target_dir / name)
            except FileNotFoundError:
                if not target_dir.is_dir():
                    raise SourceError(f"Maildir folder {target_dir} is missing (call open() first)") from None
                continue  # gone meanwhile: try the next place it might be
            except OSError as exc:
                raise SourceError(f"cannot move {path} to {target_dir}: {exc}") from exc
            self._paths.pop(key, None)
            return
        log.debug("%s is no longer in %s: already moved", key, self.root)

    def _candidates(self, key: str, unique: str) -> Iterator[Path]:
        """Where the message may be: where pending() saw it, else a fresh look in new/, cur/."""
        known = self._paths.get(key)
        if known is not None:
            yield known
        for sub in ("new", "cur"):
            try:
                names = os.listdir(self.root / sub)
            except FileNotFoundError:
                continue
            for name in names:
                if key_part(_unique(name)) == unique:
                    yield self.root / sub / name

    def _unique_part(self, key: str) -> str:
        """The file part of one of this Maildir's keys (a digest if the name is long)."""
        mine = key.startswith(f"{self.name}:")
        unique = key[len(self.name) + 1 :] if mine else ""
        if not unique or "/" in unique or unique.startswith("."):
            raise SourceError(
                f"{key!r} is not a key of this Maildir ({self.name}:<file name>); "
                "it came from another mailbox"
            )
        return unique

    def wait(self, timeout: float) -> bool:
        """Sleep for the timeout; a Maildir has no push notification here."""
        time.sleep(timeout)
        return False


def _unique(name: str) -> str:
    """The stable part of a Maildir file name (flags after ':' change as mail is read)."""
    return name.split(INFO_SEP, 1)[0]


def _header_block(fh: BinaryIO) -> bytes:
    """The header lines and the blank line that ends them (as IMAP BODY[HEADER] gives)."""
    lines: list[bytes] = []
    total = 0
    for line in fh:
        lines.append(line)
        total += len(line)
        if line in (b"\n", b"\r\n") or total >= MAX_HEADER_BYTES:
            break
    return b"".join(lines)
