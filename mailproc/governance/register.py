"""The published register: a static HTML site for the Health Board intranet.

Pages: `index.html` (the group, how to raise an issue, members, counts by status),
`issues.html` (every issue, newest first, sortable and filterable by `register.js`),
`issues/<REF>.html` (one per issue), `meetings.html` and, when asked, `reports/latest.html` (the
governance report). A build renders every page in memory and `register_files` writes only
those whose bytes changed. The site is public within the Board, so it shows what the group decided and
never who wrote in or what they wrote: no submitter names or addresses, no subjects or message
bodies, no internal notes. An issue appears only once an administrator has published it
(PUBLISH <public summary>), under that summary; the others are only counted by area. Every
string passes `detector.redact` in `page_context`, the one place where data reaches a template.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import TypeVar

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mailproc.app import App
from mailproc.governance import register_about, register_files, register_meetings, reports
from mailproc.outbound.render import RenderError
from mailproc.privacy import detector, public
from mailproc.store.models import Event, Issue, Meeting
from mailproc.vocabulary import IssueStatus

MARKER = register_files.MARKER
# Written by every build, referenced relatively (the site works from a file share). The
# stylesheet is inline in every page instead: axe-core and some browsers refuse to read a
# linked stylesheet's rules from file:// URLs.
SCRIPT = "register.js"
REPORT = "reports/latest.html"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # DELEGATE's due date among its arguments
T = TypeVar("T")


@dataclass(frozen=True)
class RegisterReport:
    """What `build_register` wrote."""

    out_dir: Path
    pages: int
    issues: int
    written: int = 0  # files whose bytes changed (pages, script, stylesheet, report)
    removed: int = 0  # files of an earlier build that are gone (e.g. an unpublished issue)

    def line(self) -> str:
        return f"register: {self.pages} pages for {self.issues} issues in {self.out_dir}"

    def changes(self) -> str:
        return f"{self.written} file(s) written, {self.removed} removed, the rest unchanged"


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
    received_iso: str  # the sort key of the issues table
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
    """Render the whole register and bring `out_dir` up to date, rewriting only changed pages.

    `report` adds the governance report of all issues as `reports/latest.html`, linked from
    every page. Raises MailprocError when `out_dir` holds files that an earlier build did
    not write.
    """
    register_files.claim(out_dir.absolute())
    issues, meetings, unpublished = _load(app)
    site = _Site(app, out_dir.absolute(), {"has_report": report})
    site.render(Path("index.html"), "index.html.j2", "", _index_values(app, issues, unpublished))
    site.render(Path("issues.html"), "issues.html.j2", "", {"issues": issues})
    site.render(Path("meetings.html"), "meetings.html.j2", "", {"meetings": meetings})
    site.static(SCRIPT)
    if report:
        site.files[PurePosixPath(REPORT)] = reports.render_html(app, reports.build_report(app)).encode()
    published = {view.reference: view.page for view in issues}
    meeting_pages = register_meetings.write_meeting_pages(app, site.out_dir, published, site.write)
    closed = sum(1 for view in issues if view.status == IssueStatus.CLOSED)
    received = len(issues) + sum(count for _, count in unpublished)
    live = register_about.live(app, received, closed, len(meetings))
    about_pages = register_about.write_pages(app, site.out_dir, site.write, live, report=report)
    for done, view in enumerate(issues, start=1):
        site.render(Path("issues") / view.page, "issue.html.j2", "../", {"issue": view})
        if on_progress is not None:
            on_progress(done, len(issues))
    synced = register_files.sync_site(site.out_dir, site.files)
    return RegisterReport(
        out_dir=out_dir,
        pages=3 + len(issues) + meeting_pages + about_pages,
        issues=len(issues),
        written=synced.written,
        removed=synced.removed,
    )


class _Site:
    """The pages of one build, rendered into memory (relative path → bytes)."""

    def __init__(self, app: App, out_dir: Path, shared: Mapping[str, object]) -> None:
        self.app = app
        self.out_dir = out_dir
        self.shared = shared
        self.files: dict[PurePosixPath, bytes] = {}

    def render(self, relative: Path, template: str, root: str, values: Mapping[str, object]) -> None:
        html = _render(self.app, template, root, {**self.shared, **values})
        self.files[PurePosixPath(relative.as_posix())] = html.encode("utf-8")

    def write(self, path: Path, template: str, root: str, values: Mapping[str, object]) -> None:
        """The page writer register_meetings is given: `path` lies under `out_dir`."""
        self.render(path.relative_to(self.out_dir), template, root, values)

    def static(self, name: str) -> None:
        """A file shipped as is (the script): no data, so no redaction."""
        env = self.app.renderer.env
        if env.loader is None:  # the Renderer always gives one; this keeps mypy honest
            raise RenderError(f"no template folder to read register/{name} from")
        text, _, _ = env.loader.get_source(env, f"register/{name}")
        self.files[PurePosixPath(name)] = text.encode("utf-8")


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
    received = issue.created_at.astimezone(tz).date()
    return IssueView(
        reference=issue.reference,
        page=_page(issue.reference),
        subject=issue.public_summary or "",
        area=_area(issue),
        status=issue.status,
        priority=issue.priority,
        received=_day(received),
        received_iso=received.isoformat(),
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


def _render(app: App, template: str, root: str, values: Mapping[str, object]) -> str:
    name = f"register/{template}"
    try:
        return app.renderer.env.get_template(name).render(page_context(app, root, values))
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template {name} line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {name}: {exc}") from None


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"
