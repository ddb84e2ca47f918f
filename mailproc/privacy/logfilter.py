"""A logging filter that redacts patient identifiers from every record it passes.

The code logs counts and kinds, never values; this is the backstop for a message built from
text we did not write (an exception's text, a server's reply, a third-party library's line).
"""

from __future__ import annotations

import logging

from mailproc.privacy.detector import redact


class RedactingFilter(logging.Filter):
    """Replace a record's message by its redacted form (the arguments are merged in first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record: logging reports it as it always does
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of `logger` (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
