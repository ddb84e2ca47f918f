"""The published register: a static HTML site for the Health Board intranet.

Pages: `index.html` (the group, how to raise an issue, members, counts by status),
`issues.html` (every issue, newest first), `issues/<REF>.html` (one per issue) and
`meetings.html`. The site is public within the Board, so it shows what the group decided and
never who wrote in or what they wrote: no submitter names or addresses, no subjects or message
bodies, no internal notes. An issue appears only once an administrator has published it
(PUBLISH <public summary>), under that summary; the others are only counted by area. Every
string passes `detector.redact` in `page_context`, the one place where data reaches a template.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mailproc.app import App
from mailproc.errors import MailprocError
from mailproc.governance import register_about, register_meetings
from mailproc.outbound.render import RenderError
from mailproc.privacy import detector, public
from mailproc.store.models import Event, Issue, Meeting
from mailproc.vocabulary import IssueStatus

# A directory we may replace carries this file; any other non-empty directory is refused,
# so that `register build ~` can never wipe someone's files.
MARKER = ".mailproc-register"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # DELEGATE's due date among its arguments
T = TypeVar("T")


@dataclass(frozen=True)
class RegisterReport:
    """What `build_register` wrote."""

    out_dir: Path
    pages: int
    issues: int

    def line(self) -> str:
        return f"register: {self.pages} pages for {self.issues} issues in {self.out_dir}"


@dataclass(frozen=True)
class TimelineEntry:
    day: str
    what: str


@dataclass(frozen=True)
class IssueView:
    """What the register shows of one issue (strings only from here on; redacted later)."""

    reference: str
    page: str
    subject: str
    area: str
    status: str
    priority: str
    received: str
    updated: str
    closed: str
    meeting: str
    delegated_to: str
    due: str
    outcome: str
    duplicate_of: str
    duplicate_page: str
    timeline: tuple[TimelineEntry, ...]


@dataclass(frozen=True)
class MeetingView:
    page: str  # meetings/<id>.html
    day: str
    theme: str
    issues: tuple[IssueView, ...]


@dataclass(frozen=True)
class MemberView:
    name: str
    role: str
    organisation: str


@dataclass(frozen=True)
class GroupView:
    name: str
    address: str
    reports_to: str


def build_register(
    app: App,
    out_dir: Path,
    on_progress: Callable[[int, int], None] | None = None,
    *,
    report: bool = False,
) -> RegisterReport:
    """Render the whole register into `out_dir`, replacing an earlier build atomically.

    The site is rendered into a temporary directory beside `out_dir` and swapped in only when
    complete, so readers never see a half-written register. Raises MailprocError when
    `out_dir` holds files that an earlier build did not write. With `report`, the governance
    report is written to reports/latest.html and the About page links it.
    """
    issues, meetings, unpublished = _load(app)
    pages = 3 + len(issues) + len(meetings) + (3 if report else 2)

    def write(staging: Path) -> None:
        (staging / "issues").mkdir()
        _write(app, staging / "index.html", "index.html.j2", "", _index_values(app, issues, unpublished))
        _write(app, staging / "issues.html", "issues.html.j2", "", {"issues": issues})
        _write(app, staging / "meetings.html", "meetings.html.j2", "", {"meetings": meetings})
        published = {view.reference: view.page for view in issues}
        register_meetings.write_meeting_pages(app, staging, published, lambda *page: _write(app, *page))
        closed = sum(1 for view in issues if view.status == IssueStatus.CLOSED)
        received = len(issues) + sum(count for _, count in unpublished)
        live = register_about.live(app, received, closed, len(meetings))
        register_about.write_pages(app, staging, lambda *page: _write(app, *page), live, report=report)
        for done, view in enumerate(issues, start=1):
            _write(app, staging / "issues" / view.page, "issue.html.j2", "../", {"issue": view})
            if on_progress is not None:
                on_progress(done, len(issues))

    _replace_atomically(out_dir, write)
    return RegisterReport(out_dir=out_dir, pages=pages, issues=len(issues))


def page_context(app: App, root: str, values: Mapping[str, object]) -> dict[str, object]:
    """The context of one page, with every string redacted of patient identifiers.

    The one gate between data and templates: whatever a view holds (subjects, outcomes,
    areas typed by an administrator, configured names) is redacted here, recursively.
    """
    # redact() memoises the compiled configuration, so calling it per page costs nothing extra.
    extra = app.settings.privacy.patterns
    s = app.settings.group
    context: dict[str, object] = {
        "group": GroupView(s.name, s.address, s.reports_to),
        "root": root,
        "generated": _day(app.today()),
        **values,
    }
    # The members' names as configured, and a meeting's attendees and apologies, are public.
    keep = public.public_phrases((m.name for m in app.settings.members), values)
    return {key: _scrub(value, extra, keep) for key, value in context.items()}


def _scrub(value: T, extra: Sequence[detector.ExtraPattern], keep: tuple[str, ...] = ()) -> T:
    result: object = value
    if isinstance(value, str):
        result = detector.redact(value, extra, keep=keep)
    elif isinstance(value, tuple | list):
        result = type(value)(_scrub(item, extra, keep) for item in value)
    elif isinstance(value, dict):
        result = {key: _scrub(item, extra, keep) for key, item in value.items()}
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _scrub(getattr(value, f.name), extra, keep) for f in dataclasses.fields(value)}
        result = dataclasses.replace(value, **changes)
    return result  # type: ignore[return-value]  # same type as given, with strings redacted


def _load(app: App) -> tuple[tuple[IssueView, ...], tuple[MeetingView, ...], tuple[tuple[str, int], ...]]:
    with app.factory() as session:
        everything = list(
            session.scalars(
                select(Issue)
                .options(selectinload(Issue.events))
                .order_by(Issue.created_at.desc(), Issue.year.desc(), Issue.seq.desc())
            )
        )
        rows = [row for row in everything if row.public_summary is not None]
        unpublished = Counter(
            row.area or "not yet assigned" for row in everything if row.public_summary is None
        )
        meetings = list(session.scalars(select(Meeting).order_by(Meeting.date.desc())))
        references = {row.id: row.reference for row in rows}
        by_meeting = {m.id: m for m in meetings}
        views = tuple(_issue_view(app, row, by_meeting, references) for row in rows)
        ids = [row.meeting_id for row in rows]
    meeting_views = tuple(
        MeetingView(
            page=f"{register_meetings.FOLDER}/{register_meetings.page_name(m.id)}",
            day=_day(m.date),
            theme=m.theme,
            issues=tuple(v for v, mid in zip(views, ids, strict=True) if mid == m.id),
        )
        for m in meetings
    )
    return views, meeting_views, tuple(sorted(unpublished.items()))


def _issue_view(
    app: App, issue: Issue, meetings: Mapping[int, Meeting], refs: Mapping[int, str]
) -> IssueView:
    tz = app.settings.group.timezone
    meeting = meetings.get(issue.meeting_id) if issue.meeting_id else None
    group = app.settings.groups.get(issue.delegated_to or "")
    duplicate = refs.get(issue.duplicate_of_id, "") if issue.duplicate_of_id else ""
    closes = [e for e in issue.events if e.action == "command" and e.detail.get("keyword") == "CLOSE"]
    return IssueView(
        reference=issue.reference,
        page=_page(issue.reference),
        subject=issue.public_summary or "",
        area=_area(issue),
        status=issue.status,
        priority=issue.priority,
        received=_day(issue.created_at.astimezone(tz).date()),
        updated=_day(issue.updated_at.astimezone(tz).date()),
        closed=_day(closes[-1].at.astimezone(tz).date())
        if closes and issue.status == IssueStatus.CLOSED
        else "",
        meeting=_day(meeting.date) if meeting else "",
        delegated_to=group.name if group else (issue.delegated_to or ""),
        due=_day(issue.due_date) if issue.due_date and issue.delegated_to else "",
        outcome=issue.outcome or "",
        duplicate_of=duplicate,
        duplicate_page=_page(duplicate) if duplicate else "",
        timeline=tuple(_timeline(app, issue.events)),
    )


def _page(reference: str) -> str:
    return _SAFE_NAME.sub("_", reference) + ".html"


def _area(issue: Issue) -> str:
    if issue.area:
        return issue.area
    return f"{issue.suggested_area} (suggested)" if issue.suggested_area else ""


def _timeline(app: App, events: Iterable[Event]) -> Iterable[TimelineEntry]:
    tz = app.settings.group.timezone
    for event in events:
        what = _phrase(app, event)
        if what:
            yield TimelineEntry(_day(event.at.astimezone(tz).date()), what)


def _phrase(app: App, event: Event) -> str:
    """A plain phrase for a public event, "" for internal ones (notes, reminders, errors)."""
    fixed = {
        "submitted": "received",
        "reply": "further information received",
        "undo": "previous change undone",
    }
    if event.action == "status" and event.detail.get("status") == IssueStatus.AWAITING_TRIAGE:
        return "returned for triage"
    if event.action != "command":
        return fixed.get(event.action, "")
    raw_args = event.detail.get("args")
    args = [str(a) for a in raw_args] if isinstance(raw_args, list) else []
    return _command_phrase(app, str(event.detail.get("keyword", "")), args)


def _command_phrase(app: App, keyword: str, args: Sequence[str]) -> str:
    first = args[0] if args else ""
    s = app.settings
    if keyword == "DELEGATE":
        group = s.groups.get(first)
        dates = [a for a in args[1:] if _ISO_DATE.fullmatch(a)]
        due = f", due {_day(date.fromisoformat(dates[0]))}" if dates else ""
        return f"delegated to {group.name if group else first}{due}"
    if keyword == "MEETING" and first:
        return f"scheduled for {_day(date.fromisoformat(first))}"
    if keyword == "ESCALATE":
        return f"escalated to {s.escalation.name}" if s.escalation else "escalated"
    phrases = {
        "ACCEPT": f"accepted (area {first})" if first else "accepted",
        "AREA": f"interface area set to {first}",
        "INFO": "more information requested",
        "DECLINE": "declined",
        "DUPLICATE": f"marked as a duplicate of {first}",
        "CLOSE": "closed",
        "PRIORITY": f"priority set to {first}",
    }
    return phrases.get(keyword, "")  # NOTE and anything unknown stay internal


def _index_values(
    app: App, issues: Sequence[IssueView], unpublished: tuple[tuple[str, int], ...]
) -> dict[str, object]:
    counts = Counter(view.status for view in issues)
    order = [s for s in IssueStatus if counts[s]] + sorted(set(counts) - set(IssueStatus))
    members = tuple(MemberView(m.name, m.role, m.organisation) for m in app.settings.members)
    return {
        "members": members,
        "status_counts": tuple((status, counts[status]) for status in order),
        "total": len(issues),
        "unpublished": unpublished,
    }


def _write(app: App, path: Path, template: str, root: str, values: Mapping[str, object]) -> None:
    name = f"register/{template}"
    try:
        html = app.renderer.env.get_template(name).render(page_context(app, root, values))
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template {name} line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {name}: {exc}") from None
    path.write_text(html, encoding="utf-8")


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def _replace_atomically(out_dir: Path, write: Callable[[Path], None]) -> None:
    """Build into a staging directory beside `out_dir`, then swap it in with two renames."""
    out_dir = out_dir.absolute()
    _check_replaceable(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    except OSError as exc:
        raise MailprocError(f"cannot write the register beside {out_dir}: {exc.strerror}") from None
    try:
        staging.chmod(0o755)  # mkdtemp makes 0700; the intranet's web server must read it
        write(staging)
        (staging / MARKER).write_text("built by mailproc register build\n", encoding="utf-8")
        _swap(staging, out_dir)
    except OSError as exc:
        raise MailprocError(f"cannot write the register to {out_dir}: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_replaceable(out_dir: Path) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise MailprocError(f"{out_dir} exists and is not a directory")
    if any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise MailprocError(
            f"{out_dir} is not empty and was not written by `mailproc register build`; "
            "give a new or empty directory"
        )


def _swap(staging: Path, out_dir: Path) -> None:
    # POSIX cannot rename a directory over a non-empty one; the old site steps aside first,
    # and comes back if the new one cannot be moved in.
    old = out_dir.parent / f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}"
    had_old = out_dir.exists()
    if had_old:
        os.replace(out_dir, old)
    try:
        os.replace(staging, out_dir)
    except OSError:
        if had_old:
            os.replace(old, out_dir)
        raise
    if had_old:
        shutil.rmtree(old, ignore_errors=True)
