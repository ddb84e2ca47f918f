"""The register on disk: write only the pages whose bytes changed, delete the ones gone.

A build of 10,000 issues renders every page in memory, then compares each with the file
already on disk; an unchanged page is not touched (its mtime stays, a file share's sync and
backups see nothing), a changed one is written to a temporary file beside it and renamed
over it, so a reader sees either the old or the new page whole, never half a page. A file
the new build does not contain (an unpublished issue, a cancelled meeting, a stray file) is
deleted. The marker file keeps `register build ~` from ever touching someone's files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mailproc.errors import MailprocError

# A directory we may write into carries this file; any other non-empty directory is refused.
MARKER = ".mailproc-register"
MARKER_TEXT = b"built by mailproc register build\n"


@dataclass(frozen=True)
class SyncResult:
    """How many files a build wrote, left alone because unchanged, and deleted."""

    written: int
    unchanged: int
    removed: int


def sync_site(out_dir: Path, files: Mapping[PurePosixPath, bytes]) -> SyncResult:
    """Make `out_dir` hold exactly `files` (relative path → content), writing only changes.

    Raises MailprocError when `out_dir` holds files an earlier build did not write, or
    cannot be written.
    """
    out_dir = out_dir.absolute()
    check_replaceable(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        written = unchanged = 0
        for relative, content in files.items():
            if _write_if_changed(out_dir / relative, content):
                written += 1
            else:
                unchanged += 1
        _write_if_changed(out_dir / MARKER, MARKER_TEXT)
        # The marker's time is when the register was last built (the gold-standard check reads
        # it), even when no page changed.
        os.utime(out_dir / MARKER)
        removed = _remove_others(out_dir, set(files) | {PurePosixPath(MARKER)})
    except OSError as exc:
        raise MailprocError(f"cannot write the register to {out_dir}: {exc}") from None
    return SyncResult(written=written, unchanged=unchanged, removed=removed)


def claim(out_dir: Path) -> None:
    """Check `out_dir` may be written, create it and mark it as the register's."""
    check_replaceable(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_if_changed(out_dir / MARKER, MARKER_TEXT)
    except OSError as exc:
        raise MailprocError(f"cannot write the register to {out_dir}: {exc}") from None


def check_replaceable(out_dir: Path) -> None:
    """Refuse a path that is a file, or a non-empty directory without our marker."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise MailprocError(f"{out_dir} exists and is not a directory")
    if any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise MailprocError(
            f"{out_dir} is not empty and was not written by `mailproc register build`; "
            "give a new or empty directory"
        )


def _write_if_changed(path: Path, content: bytes) -> bool:
    try:
        if path.stat().st_size == len(content) and path.read_bytes() == content:
            return False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    # Beside the target, so the rename stays on one file system and is atomic.
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temporary.write_bytes(content)
        temporary.chmod(0o644)  # the intranet's web server must read it
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return True


def _remove_others(out_dir: Path, keep: set[PurePosixPath]) -> int:
    removed = 0
    # Deepest first, so that a folder emptied of its pages can go too.
    for path in sorted(out_dir.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        relative = PurePosixPath(path.relative_to(out_dir).as_posix())
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif relative not in keep:
            path.unlink()
            removed += 1
    return removed
