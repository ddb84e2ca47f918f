"""A message that keeps failing is quarantined after three tries; the others are not held up."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from mailproc.outbound import outbox
from mailproc.store.models import Event, Issue, OutboxMessage, Quarantined
from tests.support.mail import ADMIN, make_message, read_email
from tests.support.workspace import make_workspace


def test_message_failing_three_times_is_quarantined(tmp_path: Path) -> None:
    # A Health Board's template override with a bug that only this one subject reaches.
    override = tmp_path / "override" / "email" / "acknowledgement"
    override.mkdir(parents=True)
    (override / "subject.txt.j2").write_text(
        '{% if "BOOM" in issue.subject %}{{ no_such_variable }}{% endif %}[{{ issue.reference }}] Received\n'
    )
    ws = make_workspace(tmp_path / "ws", group={"templates_dir": str(tmp_path / "override")})
    ws.receive(make_message(subject="BOOM goes the template", message_id="<boom@example.nhs.scot>"))
    ws.receive(make_message(subject="An ordinary submission", message_id="<fine-1@example.nhs.scot>"))
    first = ws.cli("poll", check=False)
    assert first.stdout.startswith("1 new issue(s)") and "1 failed (will retry)" in first.stdout
    assert first.returncode == 1 and "could not be processed" in first.stderr  # a failure of the work
    for _ in range(2):
        assert "1 failed (will retry)" in ws.cli("poll", check=False).stdout
    fourth = ws.cli("poll").stdout
    assert "1 quarantined" in fourth and "will retry" not in fourth
    app = ws.app()
    with app.factory() as s:
        (held,) = s.scalars(select(Quarantined)).all()
        subjects = [i.subject for i in s.scalars(select(Issue))]
    assert held.reason.startswith("processing failed 3 times; last error: RenderError")
    assert "no_such_variable" in held.reason
    assert held.raw is not None and b"BOOM" in held.raw  # nothing lost
    assert subjects == ["An ordinary submission"]  # the failed attempts left nothing behind
    assert len(list((ws.root / "inbox" / ".Quarantine" / "cur").iterdir())) == 1


def test_sender_we_could_not_answer_still_opens_an_issue(tmp_path: Path) -> None:
    """An address the parser reads but no mail server would accept (an underscore in the
    host) must not make the acknowledgement fail the whole submission."""
    ws = make_workspace(tmp_path / "ws")
    ws.receive(
        make_message(from_="Dr X <dr.x@mail_host.example.nhs.uk>", message_id="<odd-1@example.nhs.scot>")
    )
    out = ws.cli("poll").stdout
    assert out.startswith("1 new issue(s)") and "0 quarantined" in out and "sent 1," in out  # triage only
    shown = ws.cli("issues", "show", f"IFG-{ws.year()}-0001", "--json").stdout
    assert "ack-withheld" in shown and "could not be trusted" in shown


def test_error_replies_to_an_admin_are_capped_per_day(tmp_path: Path) -> None:
    """An admin's auto-responder without Auto-Submitted answering every error: no loop."""
    ws = make_workspace(tmp_path / "ws")
    ws.receive(make_message(subject="Discharge letters late", message_id="<first@example.nhs.scot>"))
    ws.cli("poll")
    app = ws.app()
    with app.factory() as s:
        request = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "triage-request")).one()
    tagged = read_email(outbox.message_bytes(request) or b"")["Subject"]
    for i in range(25):
        ws.receive(make_message(from_=ADMIN, subject=f"RE: {tagged}", body="I am away until Monday.\n",
                             message_id=f"<away-{i}@example.nhs.scot>"))  # fmt: skip
    ws.cli("poll")
    with app.factory() as s:
        errors = s.scalars(select(OutboxMessage).where(OutboxMessage.template == "command-error")).all()
        withheld = s.scalars(select(Event).where(Event.action == "reply-withheld")).all()
    assert (len(errors), len(withheld)) == (20, 5)
