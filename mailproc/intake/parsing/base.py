"""Limits and the one exception that parsing may raise."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParseLimits:
    """Caps that keep a hostile message from exhausting the poller (a MIME bomb)."""

    max_depth: int = 20
    max_parts: int = 500
    max_header_bytes: int = 1_000_000
    # One header field, of the message or of any MIME part. The standard library's parameter
    # parsing is quadratic (a Content-Type of a megabyte of ";" takes minutes), and no real
    # field comes near this: a References of a thousand Message-IDs is about 60 KB.
    max_field_bytes: int = 65_536


class ParseError(ValueError):
    """A message that cannot be turned into an `Inbound`; `reason` goes into the quarantine record.

    `internal` is True when the failure was an unexpected exception inside the parsers rather
    than a property of the message we recognised; such a failure is worth a bug report.
    """

    def __init__(self, reason: str, *, internal: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.internal = internal
