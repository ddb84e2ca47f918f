"""Pick and open the configured mail source."""

from __future__ import annotations

from mailproc.config import IntakeSettings
from mailproc.errors import SourceError
from mailproc.intake.sources.base import CursorStore, Source
from mailproc.intake.sources.imap import ImapSource
from mailproc.intake.sources.maildir import MaildirSource


def open_source(intake: IntakeSettings, cursor: CursorStore) -> Source:
    """Build the source named by `intake.source` and open it (connect, create folders).

    Calling `open()` again on the result reconnects; `close()` releases it.
    """
    source: Source
    if intake.source == "imap":
        if intake.imap is None:
            raise SourceError('intake.source = "imap" but there is no [intake.imap] table')
        source = ImapSource(intake.imap, cursor, intake.max_message_bytes)
    elif intake.source == "maildir":
        source = MaildirSource(intake.maildir, intake.max_message_bytes)
    else:
        raise SourceError(f"unknown intake.source {intake.source!r}: use maildir or imap")
    source.open()
    return source
