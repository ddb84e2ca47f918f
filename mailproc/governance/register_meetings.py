"""The register's page per meeting: `meetings/<id>.html` with its agenda, its decisions once
held and its minutes once sent.

The same rules as the issue pages: every string passes the register's redaction (the page
writer given by `register`), and an issue is shown by its reference only, never the subject
or text its submitter wrote; the reference links to the issue's page only where the register
publishes one. What was discussed (NOTE) appears only once the minutes carrying it were sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mailproc.app import App
from mailproc.store import minutes as versions
from mailproc.store.models import Meeting, MeetingItem
from mailproc.vocabulary import MeetingItemKind, MeetingStatus

# (path, template under register/, root prefix, values): the register's redacting page writer.
PageWriter = Callable[[Path, str, str, Mapping[str, object]], None]
FOLDER = "meetings"


@dataclass(frozen=True)
class ItemView:
    number: int
    reference: str  # "" for an item that is not an issue
    issue_page: str  # "" when the register publishes no page for the issue
    title: str  # only for items that are not issues
    decision: str
    action_owner: str
    due: str
    discussion: str  # "" until the minutes were sent


@dataclass(frozen=True)
class MeetingPage:
    id: int
    page: str
    title: str
    day: str
    time: str
    theme: str
    location: str
    status: str
    held: bool
    minutes_version: int  # 0: no minutes sent yet
    minutes_sent: str
    attendees: tuple[str, ...]
    apologies: tuple[str, ...]
    items: tuple[ItemView, ...]


def page_name(meeting_id: int) -> str:
    return f"{meeting_id}.html"


def write_meeting_pages(app: App, staging: Path, published: Mapping[str, str], write: PageWriter) -> int:
    """Write one page per meeting under `staging/meetings/`; returns how many. `published`:
    the reference → page name of each issue the register publishes."""
    with app.factory() as session:
        pages = [_page(app, session, m, published) for m in _meetings(session)]
    (staging / FOLDER).mkdir(exist_ok=True)
    for page in pages:
        write(staging / FOLDER / page.page, "meeting.html.j2", "../", {"meeting": page})
    return len(pages)


def _meetings(session: Session) -> list[Meeting]:
    stmt = select(Meeting).options(selectinload(Meeting.items).selectinload(MeetingItem.issue))
    return list(session.scalars(stmt.order_by(Meeting.date.desc(), Meeting.id)))


def _page(app: App, session: Session, meeting: Meeting, published: Mapping[str, str]) -> MeetingPage:
    sent = versions.latest(session, meeting.id)
    tz = app.settings.group.timezone
    return MeetingPage(
        id=meeting.id,
        page=page_name(meeting.id),
        title=meeting.title or f"{app.settings.group.name} meeting",
        day=_day(meeting.date),
        time=f"{meeting.time:%H:%M}",
        theme=meeting.theme,
        location=meeting.location,
        status=str(meeting.status),
        held=meeting.status == MeetingStatus.HELD,
        minutes_version=sent.version if sent else 0,
        minutes_sent=_day(sent.created_at.astimezone(tz).date()) if sent else "",
        attendees=tuple(meeting.attendees or ()) if sent else (),
        apologies=tuple(meeting.apologies or ()) if sent else (),
        items=tuple(_item(i, published, minutes_sent=sent is not None) for i in meeting.items),
    )


def _item(item: MeetingItem, published: Mapping[str, str], minutes_sent: bool) -> ItemView:
    issue = item.issue if item.kind == MeetingItemKind.ISSUE else None
    reference = issue.reference if issue else ""
    return ItemView(
        number=item.position,
        reference=reference,
        issue_page=published.get(reference, ""),
        title="" if issue else (item.title or ""),
        decision=item.decision or "",
        action_owner=item.action_owner or "",
        due=_day(item.due_date) if item.due_date else "",
        discussion=(item.discussion or "") if minutes_sent else "",
    )


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"
