"""`mailproc demo` runs the whole flow, a meeting from agenda to minutes included (issue 9)."""

from __future__ import annotations

import mailbox
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

from tests.support.workspace import run_mailproc


def test_the_demo_runs_a_meeting_from_agenda_to_minutes(tmp_path: Path) -> None:
    proc = run_mailproc("demo", "--dir", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "3 agenda emails, each with a text/calendar part" in out
    assert "Decisions applied" in out and "line 3, IFG-" in out and "delegated to Prescribing" in out
    assert "minutes version 1 sent to 1 address(es)" in out and "Issues closed" in out
    sent = [
        message_from_bytes(m.as_bytes(), policy=policy.default)
        for m in mailbox.Maildir(tmp_path / "demo" / "outbox")
    ]
    subjects = Counter(str(m["Subject"]).split("] ", 1)[-1].split(":")[0] for m in sent)
    assert subjects["Agenda"] == 3 and subjects["Minutes"] == 1 and subjects["Decisions applied"] == 1
    assert (tmp_path / "demo" / "register" / "meetings" / "1.html").is_file()
    # Issue 14: the About page and the gold-standard self-check.
    assert "WHY THE INTERFACE IS A PRIORITY" in out and "NHS Example established" in out
    about = out.split("The About page follows")[1].split("The gold-standard self-check")[0]
    assert "Dr A Example, Chair" in about  # members are named: their names are not patient data
    assert "MET          Senior representation" in out and "gold standard: every point met" in out
    assert (tmp_path / "demo" / "register" / "about.html").is_file()
