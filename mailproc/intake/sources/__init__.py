"""Where inbound mail comes from: an IMAP folder or a local Maildir."""

from mailproc.intake.sources.base import CursorStore, Source, SourceMessage

__all__ = ["CursorStore", "Source", "SourceMessage"]
