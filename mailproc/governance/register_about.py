"""The register's About page and terms of reference, in the awareness text's structure.

Both pages are filled from the configuration (the same `Awareness` view the announcement
email uses, so the two never disagree) and from live counts. With `report=True` the About
page links the governance report that `register.build_register` writes to `reports/latest.html`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from mailproc.app import App
from mailproc.outbound import catalogue
from mailproc.store.models import Meeting
from mailproc.vocabulary import MeetingStatus

ABOUT = "about.html"
TERMS = "terms.html"
WritePage = Callable[[Path, str, str, Mapping[str, object]], None]  # path, template, root, values


@dataclass(frozen=True)
class Live:
    """What the register knows today: counts and the next meeting."""

    issues: int  # received, published or not
    closed: int  # published with an outcome
    meetings: int
    next_meeting: str  # "" when none is scheduled


@dataclass(frozen=True)
class Terms:
    vision: str
    review: str  # the month of the next annual review, "" without an established date


def live(app: App, issues: int, closed: int, meetings: int) -> Live:
    """Today's counts, and the next planned meeting."""
    with app.factory() as session:
        upcoming = session.scalar(
            select(Meeting.date)
            .where(Meeting.date >= app.today(), Meeting.status == MeetingStatus.PLANNED)
            .order_by(Meeting.date)
        )
    return Live(issues, closed, meetings, f"{upcoming.day} {upcoming:%B %Y}" if upcoming else "")


def write_pages(app: App, staging: Path, write: WritePage, live: Live, *, report: bool = False) -> int:
    """Write about.html and terms.html (`report`: the build wrote the report, so link it);
    how many pages."""
    about = catalogue.awareness(app.settings)
    values = {"about": about, "live": live, "has_report": report}
    write(staging / ABOUT, "about.html.j2", "", values)
    terms = Terms(vision=app.settings.group.terms_of_reference, review=_review(app))
    write(staging / TERMS, "terms.html.j2", "", {**values, "terms": terms})
    return 2


def _review(app: App) -> str:
    """The next anniversary of the month the group was established: terms are reviewed yearly."""
    established = app.settings.group.established
    if established is None:
        return ""
    today = app.today()
    due = date(today.year, established.month, 1)
    if due < date(today.year, today.month, 1):
        due = date(today.year + 1, established.month, 1)
    return f"{due:%B %Y}"
