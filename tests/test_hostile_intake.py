"""Hostile mail does not stall the poller (issue 11, point 2, must-show 2).

One real poll, over a real mailbox (Maildir, and Dovecot over IMAP), of ten ordinary
messages and five hostile ones: a megabyte-long Message-ID and References without an "@"
(the References once took minutes in a quadratic pattern), a MIME part whose Content-Type
carries a megabyte of parameters (minutes in the standard library's parameter parser), a
600 KB References (under the header cap, over the field cap), and a message that runs into
a catastrophic site-configured privacy pattern, which only the per-message budget can stop.
The poll finishes, the ten are logged, the five are quarantined with their reasons.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from mailproc.store.models import Message, Quarantined
from tests.support.imapserver import ImapTestServer
from tests.support.mail import Attachment, make_message, message_id, varied_message
from tests.support.workspace import Workspace, imap_workspace, make_workspace

MEGABYTE = 1_000_000
BUDGET_SECONDS = 3
# A pattern an administrator might write for unit numbers, with a nested quantifier: on a run
# of "a" not followed by the end it backtracks exponentially, and runs forever in practice.
SLOW_PATTERN = '[[privacy.patterns]]\nname = "unit"\nregex = "(a+)+$"\n'


def hostile_messages() -> dict[str, bytes]:
    long_id = make_message(subject="Long id", message_id="<" + "a" * MEGABYTE)
    long_refs = make_message(subject="Long refs", references=["<" + "b" * MEGABYTE])
    pdf = Attachment("letter.pdf", b"%PDF-1.4\n", "application/pdf")
    part_params = make_message(subject="Part params", body="Hello\n", attachments=[pdf]).replace(
        b'Content-Type: text/plain; charset="utf-8"',
        b'Content-Type: text/plain; charset="utf-8"' + b";" * MEGABYTE,
        1,
    )
    assert part_params.index(b";" * 100) > part_params.index(b"\r\n\r\n")  # in a part's header
    slow = make_message(subject="Slow", body="Ward " + "a" * 60 + "!\n")
    # Under the 1 MB header cap: the field cap names it (and the id pattern would be linear anyway).
    field = make_message(subject="Long field", references=["<" + "c" * (MEGABYTE * 6 // 10)])
    return {
        "message-id": long_id, "references": long_refs, "part": part_params, "budget": slow, "field": field,
    }  # fmt: skip


def check_one_poll(ws: Workspace, ordinary: list[bytes]) -> None:
    result = ws.cli("poll", timeout=240)
    assert result.stdout.startswith("10 new issue(s)") and "5 quarantined" in result.stdout, result.stdout
    app = ws.app()
    with app.factory() as s:
        logged = set(s.scalars(select(Message.message_id)))
        reasons = sorted(q.reason for q in s.scalars(select(Quarantined)))
    app.engine.dispose()
    assert logged == {message_id(raw) for raw in ordinary}
    assert len(reasons) == 5, reasons
    assert any(r.startswith("could not be parsed: References field is 600") for r in reasons), reasons
    assert sum(r.startswith("could not be parsed: header section larger") for r in reasons) == 2, reasons
    assert any("a MIME part's Content-Type field is" in r for r in reasons), reasons
    assert any(f"processing took longer than {BUDGET_SECONDS} seconds" in r for r in reasons), reasons


def workspace_with_slow_pattern(ws: Workspace) -> Workspace:
    with ws.config.open("a", encoding="utf-8") as fh:
        fh.write(SLOW_PATTERN)
    return ws


def interleaved() -> tuple[list[bytes], list[bytes]]:
    ordinary = [varied_message(i) for i in range(10)]
    hostile = list(hostile_messages().values())
    mixed = [*ordinary[:3], hostile[0], *ordinary[3:5], hostile[1], hostile[2], *ordinary[5:8], *hostile[3:]]
    return ordinary, [*mixed, *ordinary[8:]]


def test_hostile_mail_in_a_maildir_is_quarantined_and_the_pass_goes_on(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", intake={"message_budget_seconds": BUDGET_SECONDS})
    ws = workspace_with_slow_pattern(ws)
    ordinary, mixed = interleaved()
    ws.receive(*mixed)
    check_one_poll(ws, ordinary)
    assert len(list((ws.root / "inbox" / ".Quarantine" / "cur").iterdir())) == 5


def test_hostile_mail_over_imap_is_quarantined_and_the_pass_goes_on(
    tmp_path: Path, imap: ImapTestServer
) -> None:
    ws = imap_workspace(tmp_path / "ws", imap, intake={"message_budget_seconds": BUDGET_SECONDS})
    ws = workspace_with_slow_pattern(ws)
    ordinary, mixed = interleaved()
    imap.deliver(mixed)
    check_one_poll(ws, ordinary)
    assert imap.count("Quarantine") == 5 and imap.count("INBOX") == 0
    assert imap.count("Processed") == 10
