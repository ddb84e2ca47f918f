"""Issue 13, must-show 3 (the test half; benchmarks/register_build.py has the figures): a
second `register build` rewrites only the pages whose bytes changed, and deletes the page of
an issue no longer published. Files are told apart by inode and mtime in nanoseconds: a
rewritten file is a new inode (written beside, renamed over), an untouched one keeps both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mailproc.app import App
from mailproc.errors import MailprocError
from mailproc.governance.register import build_register
from mailproc.store import db
from tests.support.register_issues import change_summary, publish_many, unpublish
from tests.support.workspace import make_workspace

Stamps = dict[str, tuple[int, int]]


def _stamps(site: Path) -> Stamps:
    """The pages' identities and times; the marker is touched by every build (its time is the
    build's), so it is left out."""
    return {
        p.relative_to(site).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in site.rglob("*")
        if p.is_file() and p.name != ".mailproc-register"
    }


def _changed(before: Stamps, after: Stamps) -> set[str]:
    return {name for name in after if before.get(name) != after[name]}


@pytest.fixture
def app(tmp_path: Path) -> App:
    app = make_workspace(tmp_path / "ws").app()
    db.ensure_schema(app.engine)
    return app


def test_rebuild_rewrites_only_changed_pages_and_deletes_unpublished(tmp_path: Path, app: App) -> None:
    refs = publish_many(app, 40)
    site = tmp_path / "site"
    first = build_register(app, site)
    assert (first.issues, first.removed) == (40, 0)
    assert first.written == len(_stamps(site))  # every file (the marker aside), once
    built = _stamps(site)

    again = build_register(app, site)
    assert (again.written, again.removed) == (0, 0)
    assert _stamps(site) == built  # nothing touched at all

    change_summary(app, refs[7], "Reworded by the group")
    changed = build_register(app, site)
    after = _stamps(site)
    assert _changed(built, after) == {f"issues/{refs[7]}.html", "issues.html"}
    assert (changed.written, changed.removed) == (2, 0)
    assert "Reworded by the group" in (site / "issues" / f"{refs[7]}.html").read_text()

    unpublish(app, refs[3])
    gone = build_register(app, site)
    assert not (site / "issues" / f"{refs[3]}.html").exists()
    assert (gone.removed, gone.issues) == (1, 39)
    # The index counts it as unpublished now; the list loses its row; no other page changes.
    assert _changed(after, _stamps(site)) == {"index.html", "issues.html"}
    assert not [p.name for p in site.rglob(".*.tmp-*")]  # no temporary files left behind


def test_rebuild_removes_stray_files_and_still_refuses_foreign_directories(tmp_path: Path, app: App) -> None:
    publish_many(app, 3)
    site = tmp_path / "site"
    build_register(app, site)
    (site / "issues" / "stale.html").write_text("an issue page from long ago")
    assert build_register(app, site).removed == 1
    assert not (site / "issues" / "stale.html").exists()
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "minutes.docx").write_text("precious")
    with pytest.raises(MailprocError, match="not written by"):
        build_register(app, foreign)
    assert [p.name for p in foreign.iterdir()] == ["minutes.docx"]
