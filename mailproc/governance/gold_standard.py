"""The gold-standard self-check: each point of the national model as met, not met or cannot tell.

The points follow the "Gold Standard Model for Primary-Secondary Care Interface Groups working
in Scotland". "Cannot tell" is for what mailproc cannot see (the register was not named, no
issue arrived last quarter); only "not met" fails the check.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from mailproc.app import App
from mailproc.config import Settings
from mailproc.errors import MailprocError
from mailproc.governance.register import MARKER, page_context
from mailproc.governance.reports.facts import read_facts

LEAD_WORDS = ("chair", "lead")  # a member whose role names one of these leads the group
QUARTER = timedelta(days=91)


class State(StrEnum):
    MET = "met"
    NOT_MET = "not met"
    CANNOT_TELL = "cannot tell"


@dataclass(frozen=True)
class Point:
    title: str  # the model's requirement, in a few words
    state: State
    why: str


@dataclass(frozen=True)
class SelfCheck:
    group: str
    points: tuple[Point, ...]

    @property
    def passed(self) -> bool:
        """No point is "not met" ("cannot tell" does not fail)."""
        return all(p.state != State.NOT_MET for p in self.points)

    def lines(self) -> list[str]:
        out = [f"{p.state.upper():<12} {p.title}: {p.why}" for p in self.points]
        verdict = "every point met or cannot tell" if self.passed else "at least one point not met"
        return [*out, f"gold standard: {verdict}"]


def self_check(app: App, register_dir: Path | None = None, max_age_days: int = 31) -> SelfCheck:
    """Check the configuration, the register at `register_dir` and last quarter's triage."""
    s = app.settings
    points = (
        _recognition(s),
        _representation(s),
        _escalation(s),
        _terms(s),
        _visibility(register_dir, max_age_days, s.group.register_url),
        _resourcing(s),
        _process(app),
    )
    return SelfCheck(group=s.group.name, points=points)


def write_page(app: App, result: SelfCheck, path: Path) -> None:
    """The self-check as an HTML page for the group itself (never part of the public register)."""
    template = app.renderer.env.get_template("register/self-check.html.j2")
    values = {"check": result, "points": tuple((p.title, str(p.state), p.why) for p in result.points)}
    try:
        path.write_text(template.render(page_context(app, "", values)), encoding="utf-8")
    except OSError as exc:
        raise MailprocError(f"cannot write {path}: {exc.strerror}") from None


def _recognition(s: Settings) -> Point:
    title = "Organisational recognition"
    g = s.group
    if g.reports_to and g.reports_to_chain:
        return Point(
            title, State.MET, f"reports to the {g.reports_to}, which reports to the {g.reports_to_chain}"
        )
    missing = " and ".join(
        k for k, v in (("reports_to", g.reports_to), ("reports_to_chain", g.reports_to_chain)) if not v
    )
    return Point(
        title, State.NOT_MET, f"[group] {missing} not set: the board's governance line is not recorded"
    )


def _representation(s: Settings) -> Point:
    title = "Senior representation"
    wanted = {"primary": "primary care", "secondary": "secondary care", "board": "Health Board management"}
    missing = [
        label for key, label in wanted.items() if not any(m.senior and m.sector == key for m in s.members)
    ]
    if not missing:
        return Point(title, State.MET, "a senior member from primary care, secondary care and the board")
    why = f"no member with senior = true from {', '.join(missing)} ([[members]] sector and senior)"
    return Point(title, State.NOT_MET, why)


def _escalation(s: Settings) -> Point:
    title = "Escalation route"
    if s.escalation and s.escalation.contact:
        return Point(title, State.MET, f"ESCALATE goes to the {s.escalation.name}")
    return Point(title, State.NOT_MET, "no [escalation] with a contact: disagreements have nowhere to go")


def _terms(s: Settings) -> Point:
    title = "Terms of reference"
    if s.group.terms_of_reference:
        return Point(
            title, State.MET, "a vision is configured; the register publishes the terms of reference"
        )
    return Point(title, State.NOT_MET, "[group] terms_of_reference is not set")


def _visibility(register_dir: Path | None, max_age_days: int, url: str) -> Point:
    title = "Accessible and visible"
    if register_dir is None:
        return Point(title, State.CANNOT_TELL, "name the published register with --register DIR to check it")
    marker = register_dir / MARKER
    if not marker.is_file() or not (register_dir / "about.html").is_file():
        return Point(title, State.NOT_MET, f"{register_dir} holds no register built by mailproc")
    age_days = (time.time() - marker.stat().st_mtime) / 86400
    if age_days > max_age_days:
        return Point(
            title,
            State.NOT_MET,
            f"the register was last built {age_days:.0f} days ago (limit {max_age_days})",
        )
    built = f"the register in {register_dir} was built {age_days:.0f} day(s) ago"
    where = f"; every email links it at {url}" if url else "; set group.register_url so every email links it"
    return Point(title, State.MET, built + where)


def _resourcing(s: Settings) -> Point:
    title = "Leads and administration resourced"
    leads = [m.name for m in s.members if any(w in m.role.lower() for w in LEAD_WORDS)]
    if s.triage.admins and leads:
        return Point(title, State.MET, f"{len(s.triage.admins)} administrator(s); lead: {', '.join(leads)}")
    return Point(title, State.NOT_MET, "no member whose role names a chair or lead ([[members]] role)")


def _process(app: App) -> Point:
    title = "Issues raised and triaged"
    target = app.settings.reports.triage_target_days
    since = app.clock() - QUARTER
    recent = [f for f in read_facts(app) if f.received >= since]
    if not recent:
        return Point(title, State.CANNOT_TELL, "no issue was received in the last quarter")
    on_time = [f for f in recent if f.days_to_triage is not None and f.days_to_triage <= target]
    if on_time:
        return Point(
            title,
            State.MET,
            f"{len(on_time)} of {len(recent)} issue(s) last quarter triaged within {target} days",
        )
    return Point(
        title, State.NOT_MET, f"none of {len(recent)} issue(s) last quarter was triaged within {target} days"
    )
