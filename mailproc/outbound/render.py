"""Email templates: one Jinja2 environment, one folder per email, three parts per folder.

Layout under each template root: `email/<name>/{subject.txt.j2, body.txt.j2, body.html.j2}`.
Roots are searched file by file, the Health Board's override root first, so a board can
replace a single part (say the HTML body) and keep the built-in subject and text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from zoneinfo import ZoneInfo

import jinja2

import mailproc
from mailproc.errors import MailprocError
from mailproc.outbound.headers import safe_header

log = logging.getLogger(__name__)

PARTS = ("subject.txt.j2", "body.txt.j2", "body.html.j2")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_SUBJECT_MAX = 250


class RenderError(MailprocError):
    """A template is missing, does not compile or fails to render (names template, line)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def builtin_templates_dir() -> Path:
    """The shipped templates: inside the package in a wheel, else the repository's copy."""
    packaged = Path(mailproc.__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(mailproc.__file__).parent.parent / "templates"


def _autoescape(template_name: str | None) -> bool:
    # Decided by name, explicitly: select_autoescape() matches the last suffix only and
    # would leave "body.html.j2" unescaped.
    return template_name is not None and template_name.endswith(".html.j2")


class Renderer:
    """Renders the three parts of an email template from one context."""

    def __init__(self, override_dir: Path | None, tz: ZoneInfo, *, builtin_dir: Path | None = None) -> None:
        """`builtin_dir` defaults to the shipped templates (tests point it elsewhere)."""
        self.tz = tz
        builtin = builtin_dir if builtin_dir is not None else builtin_templates_dir()
        self.roots = tuple(d for d in (override_dir, builtin) if d is not None)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(r) for r in self.roots]),
            undefined=jinja2.StrictUndefined,
            autoescape=_autoescape,
            keep_trailing_newline=True,
            trim_blocks=False,
            lstrip_blocks=False,
        )
        self.env.filters["localtime"] = self._localtime
        self.env.filters["date_long"] = self._date_long

    def names(self) -> list[str]:
        """Every template name found in any root, sorted."""
        found: set[str] = set()
        for root in self.roots:
            base = root / "email"
            if base.is_dir():
                found.update(p.name for p in base.iterdir() if p.is_dir() and _NAME.fullmatch(p.name))
        return sorted(found)

    def check(self) -> list[str]:
        """Problems with the templates: missing parts and parts that do not compile."""
        problems: list[str] = []
        for name in self.names():
            for part in PARTS:
                path = f"email/{name}/{part}"
                try:
                    self.env.get_template(path)
                except jinja2.TemplateNotFound:
                    problems.append(f"{path}: missing")
                except jinja2.TemplateSyntaxError as exc:
                    problems.append(f"{path} line {exc.lineno}: {exc.message}")
        problems += self._check_pages()
        return problems

    def _check_pages(self) -> list[str]:
        """The register's page templates (and shared layouts) must compile too."""
        problems: list[str] = []
        for folder in ("register", "layout"):
            dirs = [root / folder for root in self.roots if (root / folder).is_dir()]
            names = {p.name for d in dirs for p in d.iterdir()}
            for name in sorted(n for n in names if n.endswith(".j2")):
                try:
                    self.env.get_template(f"{folder}/{name}")
                except jinja2.TemplateSyntaxError as exc:
                    problems.append(f"{folder}/{name} line {exc.lineno}: {exc.message}")
        return problems

    def render(self, name: str, context: Mapping[str, object]) -> Rendered:
        """Render subject, text and HTML of template `name` with the same context."""
        if not _NAME.fullmatch(name):
            raise RenderError(f"invalid template name {name!r}")
        # Load all three first: a missing part is reported before any rendering is done.
        templates = [self._load(f"email/{name}/{part}") for part in PARTS]
        subject, text, html = (self._render_part(t, context) for t in templates)
        return Rendered(subject=safe_header(subject, _SUBJECT_MAX), text=text, html=html)

    def _load(self, path: str) -> jinja2.Template:
        try:
            return self.env.get_template(path)
        except jinja2.TemplateNotFound:
            raise RenderError(f"template {path} not found in {self._where()}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(f"template {path} line {exc.lineno}: {exc.message}") from None

    def _render_part(self, template: jinja2.Template, context: Mapping[str, object]) -> str:
        path = template.name
        try:
            return template.render(context)
        except (jinja2.TemplateError, TypeError, ValueError, LookupError, AttributeError) as exc:
            line = _template_line(exc.__traceback__, template.filename)
            where = f" line {line}" if line else ""
            raise RenderError(f"template {path}{where}: {exc}") from exc

    def _where(self) -> str:
        return ", ".join(str(r) for r in self.roots)

    def _localtime(self, value: datetime, fmt: str = "") -> str:
        """Aware datetime → the group's local time, "21 Nov 2026 14:05" by default."""
        local = _aware(value).astimezone(self.tz)
        return local.strftime(fmt) if fmt else f"{local.day} {local:%b %Y %H:%M}"

    def _date_long(self, value: date | datetime) -> str:
        """A date (or aware datetime, in local time) as "Saturday 21 November 2026"."""
        if isinstance(value, datetime | jinja2.Undefined):
            value = _aware(value).astimezone(self.tz).date()
        return f"{value:%A} {value.day} {value:%B %Y}"


def _aware(value: datetime) -> datetime:
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises here with the variable's name
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        # A naive time is ambiguous (UTC? local?); refuse rather than print a wrong hour.
        raise ValueError("naive datetime given to a time filter; use an aware datetime")
    return value


def _template_line(tb: TracebackType | None, filename: str | None) -> int | None:
    """The template line where rendering failed: Jinja rewrites tracebacks so that
    template frames carry the template's file name and line number."""
    line = None
    while tb is not None:
        if filename and tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
