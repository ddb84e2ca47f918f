"""Renderer: three parts from one context, autoescape by name, strict undefined, overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailproc.outbound.render import Renderer, RenderError

LONDON = ZoneInfo("Europe/London")


def write_template(root: Path, name: str, subject: str, text: str, html: str) -> None:
    folder = root / "email" / name
    folder.mkdir(parents=True, exist_ok=True)
    for part, content in (("subject.txt.j2", subject), ("body.txt.j2", text), ("body.html.j2", html)):
        (folder / part).write_text(content, encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_template(
        tmp_path,
        "zz-ack",
        "[{{ ref }}] {{ subject }}",
        "Hello {{ name }},\nreceived {{ when | localtime }} ({{ when | date_long }}).\n",
        "<p>Hello {{ name }}</p>",
    )
    return tmp_path


def test_one_context_renders_all_parts_with_html_escaped_only(root: Path) -> None:
    context = {
        "ref": "IFG-2026-0042",
        "subject": "Discharge <letters>\r\nBcc: x@y.org",
        "name": "<b>O'Brien</b> & co",
        "when": datetime(2026, 7, 1, 13, 5, tzinfo=UTC),
    }
    out = Renderer(root, LONDON).render("zz-ack", context)
    assert out.subject == "[IFG-2026-0042] Discharge <letters> Bcc: x@y.org"
    assert "Hello <b>O'Brien</b> & co," in out.text
    assert "received 1 Jul 2026 14:05 (Wednesday 1 July 2026)." in out.text  # BST
    assert out.html == "<p>Hello &lt;b&gt;O&#39;Brien&lt;/b&gt; &amp; co</p>"


def test_missing_variable_names_template_and_line(root: Path) -> None:
    with pytest.raises(RenderError, match=r"email/zz-ack/body.txt.j2 line 2: .*'when'"):
        Renderer(root, LONDON).render("zz-ack", {"ref": "R", "subject": "s", "name": "n"})


def test_naive_datetime_is_refused(root: Path) -> None:
    context = {"ref": "R", "subject": "s", "name": "n", "when": datetime(2026, 1, 1)}
    with pytest.raises(RenderError, match="naive datetime"):
        Renderer(root, LONDON).render("zz-ack", context)


def test_date_long_takes_dates() -> None:
    renderer = Renderer(None, LONDON)
    assert renderer.env.filters["date_long"](date(2026, 11, 21)) == "Saturday 21 November 2026"


def test_override_dir_wins_file_by_file(root: Path, tmp_path: Path) -> None:
    override = tmp_path / "board"
    (override / "email" / "zz-ack").mkdir(parents=True)
    (override / "email" / "zz-ack" / "body.html.j2").write_text("<p>Board: {{ name }}</p>")
    renderer = Renderer(override, LONDON, builtin_dir=root)
    when = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    out = renderer.render("zz-ack", {"ref": "R", "subject": "s", "name": "n", "when": when})
    assert out.html == "<p>Board: n</p>"
    assert out.text.startswith("Hello n,")  # not overridden: built-in part used


def test_check_reports_missing_and_broken_parts(root: Path) -> None:
    (root / "email" / "zz-ack" / "body.html.j2").unlink()
    write_template(root, "zz-broken", "ok", "{% if %}", "<p>ok</p>")
    renderer = Renderer(root, LONDON)
    assert {"zz-ack", "zz-broken"} <= set(renderer.names())
    problems = [p for p in renderer.check() if "/zz-" in p]
    assert problems == [
        "email/zz-ack/body.html.j2: missing",
        "email/zz-broken/body.txt.j2 line 1: Expected an expression, got 'end of statement block'",
    ]
    with pytest.raises(RenderError, match=r"zz-ack/body\.html\.j2 not found"):
        renderer.render("zz-ack", {})


def test_template_name_cannot_escape_the_folder(root: Path) -> None:
    with pytest.raises(RenderError, match="invalid template name"):
        Renderer(root, LONDON).render("../secrets", {})
