"""Writes to the meeting aggregate: meetings, their agenda items, and issues scheduled to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from mailproc.errors import MailprocError
from mailproc.store.models import Issue, Meeting, MeetingItem
from mailproc.vocabulary import MeetingItemKind, MeetingStatus

# What a calendar shows: a change to any of these bumps the iCalendar SEQUENCE.
CALENDAR_FIELDS = ("date", "time", "length_minutes", "location", "title")


class MeetingError(MailprocError):
    """A meeting that does not exist, or a change that cannot be made to it."""


@dataclass(frozen=True)
class MeetingDetails:
    """What a new meeting is, or what a change sets (None: keep)."""

    day: date | None = None
    time: time | None = None
    title: str | None = None
    location: str | None = None
    length_minutes: int | None = None


def create_meeting(
    session: Session, day: date, theme: str, details: MeetingDetails, now: datetime
) -> Meeting:
    """A planned meeting; refused when one with this date and theme exists."""
    if find_meeting(session, day, theme) is not None:
        raise MeetingError(
            f"there is already a meeting on {day.isoformat()} with theme {theme or '(none)'!r}; "
            "give another --theme or use that meeting"
        )
    if details.time is None or details.length_minutes is None:
        raise MeetingError("a new meeting needs a start time and a length")
    meeting = Meeting(
        date=day, theme=theme, time=details.time, title=details.title or "", location=details.location or "",
        length_minutes=details.length_minutes, status=MeetingStatus.PLANNED, sequence=0,
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(meeting)
    session.flush()
    return meeting


def find_meeting(session: Session, day: date, theme: str) -> Meeting | None:
    return session.scalar(select(Meeting).where(Meeting.date == day, Meeting.theme == theme))


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    """The meeting with its items, or an error naming the id."""
    stmt = select(Meeting).where(Meeting.id == meeting_id).options(selectinload(Meeting.items))
    meeting = session.scalar(stmt)
    if meeting is None:
        raise MeetingError(f"no meeting with id {meeting_id}; `mailproc meeting list` shows them")
    return meeting


def list_meetings(session: Session) -> list[Meeting]:
    """Every meeting, soonest first."""
    stmt = (
        select(Meeting).order_by(Meeting.date, Meeting.time, Meeting.id).options(selectinload(Meeting.items))
    )
    return list(session.scalars(stmt))


def change_meeting(session: Session, meeting: Meeting, details: MeetingDetails, now: datetime) -> bool:
    """Apply the given fields; bump the SEQUENCE when the calendar entry changes. True if changed."""
    _require_planned(meeting, "change")
    wanted = {
        "date": details.day, "time": details.time, "title": details.title, "location": details.location,
        "length_minutes": details.length_minutes,
    }  # fmt: skip
    changed = {k: v for k, v in wanted.items() if v is not None and getattr(meeting, k) != v}
    if not changed:
        return False
    new_day = changed.get("date", meeting.date)
    other = find_meeting(session, new_day, meeting.theme)  # type: ignore[arg-type]
    if other is not None and other.id != meeting.id:
        raise MeetingError(f"meeting {other.id} already has theme {meeting.theme!r} on {new_day}")
    for key, value in changed.items():
        setattr(meeting, key, value)
    meeting.sequence += 1
    meeting.updated_at = now
    session.flush()
    return True


def cancel_meeting(meeting: Meeting, now: datetime) -> None:
    """Cancelled, with a new SEQUENCE so calendars take the cancellation over the invitation."""
    _require_planned(meeting, "cancel")
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence += 1
    meeting.updated_at = now


def mark_invited(meeting: Meeting, now: datetime) -> None:
    meeting.invited_at = now


def add_item(session: Session, meeting: Meeting, title: str, now: datetime) -> MeetingItem:
    """An agenda item that is not an issue (a sense-check of a new process, a presentation)."""
    _require_planned(meeting, "add items to")
    if not title.strip():
        raise MeetingError("an agenda item needs a title")
    return _append(session, meeting, MeetingItemKind.ITEM, now, title=title.strip())


def schedule_issue(session: Session, issue: Issue, meeting: Meeting, now: datetime) -> None:
    """Put `issue` on the agenda of `meeting`, off any other meeting's where nothing was decided."""
    _require_planned(meeting, "schedule issues to")
    stale = session.scalars(
        select(MeetingItem).where(
            MeetingItem.issue_id == issue.id,
            MeetingItem.meeting_id != meeting.id,
            MeetingItem.decision.is_(None),
        )
    )
    for item in stale:
        session.delete(item)
    issue.meeting_id = meeting.id
    present = session.scalar(
        select(MeetingItem.id).where(MeetingItem.issue_id == issue.id, MeetingItem.meeting_id == meeting.id)
    )
    if present is None:
        _append(session, meeting, MeetingItemKind.ISSUE, now, issue_id=issue.id)


def follow_issue(session: Session, issue: Issue, now: datetime) -> None:
    """Make the agendas agree with `issue.meeting_id` after it was set back (UNDO): off every
    other meeting's agenda where nothing was decided, and on its meeting's if still planned."""
    meeting = session.get(Meeting, issue.meeting_id) if issue.meeting_id is not None else None
    if meeting is not None and meeting.status == MeetingStatus.PLANNED:
        schedule_issue(session, issue, meeting, now)
        return
    undecided = select(MeetingItem).where(MeetingItem.issue_id == issue.id, MeetingItem.decision.is_(None))
    for item in session.scalars(undecided):
        if meeting is None or item.meeting_id != meeting.id:
            session.delete(item)


def meeting_for_issue(
    session: Session, day: date, theme: str, defaults: MeetingDetails, now: datetime
) -> tuple[Meeting, bool]:
    """The meeting on `day` with this theme, else the only meeting that day if it has no theme
    or the issue none, else a new one with this theme. Returns (meeting, created)."""
    same_theme = find_meeting(session, day, theme)
    if same_theme is not None:
        return same_theme, False
    that_day = list(session.scalars(select(Meeting).where(Meeting.date == day).order_by(Meeting.id)))
    if len(that_day) == 1 and not (theme and that_day[0].theme):
        return that_day[0], False
    if len(that_day) > 1 and not theme:
        themes = ", ".join(repr(m.theme) for m in that_day)
        raise MeetingError(
            f"there are {len(that_day)} meetings on {day.isoformat()} (themes {themes}); "
            "set the issue's AREA to one of those themes first"
        )
    return create_meeting(session, day, theme, defaults, now), True


def _append(
    session: Session, meeting: Meeting, kind: MeetingItemKind, now: datetime, **fields: object
) -> MeetingItem:
    last = session.scalar(select(func.max(MeetingItem.position)).where(MeetingItem.meeting_id == meeting.id))
    item = MeetingItem(meeting_id=meeting.id, position=(last or 0) + 1, kind=kind, created_at=now, **fields)
    session.add(item)
    session.flush()
    session.refresh(meeting, ["items"])
    return item


def _require_planned(meeting: Meeting, what: str) -> None:
    if meeting.status != MeetingStatus.PLANNED:
        raise MeetingError(f"meeting {meeting.id} is {meeting.status}; cannot {what} it")


def decision_item(
    session: Session, meeting: Meeting, issue: Issue, now: datetime
) -> tuple[MeetingItem, bool]:
    """The meeting's item for `issue`, appended if the issue was not on the agenda.
    Returns (item, was on the agenda)."""
    found = session.scalar(
        select(MeetingItem).where(MeetingItem.meeting_id == meeting.id, MeetingItem.issue_id == issue.id)
    )
    if found is not None:
        return found, True
    return _append(session, meeting, MeetingItemKind.ISSUE, now, issue_id=issue.id), False


def item_at(session: Session, meeting: Meeting, number: int) -> MeetingItem | None:
    """The item added by hand with this ITEM number (its position), or None."""
    return session.scalar(
        select(MeetingItem).where(
            MeetingItem.meeting_id == meeting.id,
            MeetingItem.position == number,
            MeetingItem.kind == MeetingItemKind.ITEM,
        )
    )


def item_numbers(meeting: Meeting) -> list[int]:
    return [i.position for i in meeting.items if i.kind == MeetingItemKind.ITEM]
