"""The reporting period: from/to dates or a committee quarter (`2026-Q1`)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from mailproc.errors import UsageError
from mailproc.governance.reports.model import Period

_QUARTER = re.compile(r"(\d{4})-?Q([1-4])", re.IGNORECASE)


def period(start: date | None = None, end: date | None = None, quarter: str | None = None) -> Period:
    """A period from optional bounds, or the quarter named `YYYY-Qn` (which excludes bounds)."""
    if quarter is not None:
        if start is not None or end is not None:
            raise UsageError("give either --quarterly or --from/--to, not both")
        return quarter_period(quarter)
    if start is not None and end is not None and end < start:
        raise UsageError(f"--to {end:%Y-%m-%d} is before --from {start:%Y-%m-%d}")
    return Period(start, end, _label(start, end))


def quarter_period(text: str) -> Period:
    """`2026-Q1` is 1 January to 31 March 2026."""
    match = _QUARTER.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"{text!r} is not a quarter; write it as YYYY-Qn, e.g. 2026-Q1")
    year, n = int(match.group(1)), int(match.group(2))
    start = date(year, 3 * n - 2, 1)
    following = date(year + 1, 1, 1) if n == 4 else date(year, 3 * n + 1, 1)
    end = following - timedelta(days=1)
    return Period(start, end, f"{year}-Q{n} ({_label(start, end)})")


def _label(start: date | None, end: date | None) -> str:
    if start and end:
        return f"received {_day(start)} to {_day(end)}"
    if start:
        return f"received since {_day(start)}"
    if end:
        return f"received up to {_day(end)}"
    return "all issues"


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"
