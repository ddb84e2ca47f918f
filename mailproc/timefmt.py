"""Dates as people in the group read them: in the group's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def local(value: datetime | None, tz: ZoneInfo, fmt: str = "%d %b %Y %H:%M") -> str:
    """A UTC (or naive-as-UTC) datetime shown in `tz`; "" for None."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(tz).strftime(fmt)
