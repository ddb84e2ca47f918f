"""`mailproc demo`, the meeting: agenda with invitation, the decisions reply, the minutes."""

from __future__ import annotations

import mailbox
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

import click
from sqlalchemy import select

from mailproc.app import App
from mailproc.governance import meetings
from mailproc.governance.meetings import minutes as meeting_minutes
from mailproc.intake import runner
from mailproc.store import meetings as store
from mailproc.store.db import transaction
from mailproc.store.models import Issue

# The demo's own helpers, passed in so that this module needs nothing from demo.py.
Sent = Callable[[App, str], list[EmailMessage]]
Reply = Callable[[App, mailbox.Maildir, EmailMessage, str], None]
Show = Callable[[EmailMessage, str], str]


def run_meeting(
    app: App, inbox: mailbox.Maildir, sent: Sent, reply: Reply, step: Callable[[str], None]
) -> None:
    """Schedule two issues, send the agenda, decide both by one reply, send the minutes."""
    day = app.today() + timedelta(days=14)
    step(f"6. Two issues are scheduled for the prescribing meeting of {day:%d %B %Y}")
    requests = sent(app, "triage-request")
    reply(app, inbox, sent(app, "command-confirmation")[-1], f"MEETING {day.isoformat()}")
    reply(app, inbox, requests[1], f"ACCEPT prescribing\nMEETING {day.isoformat()}")
    with app.factory() as session:
        refs = list(
            session.scalars(select(Issue.reference).where(Issue.meeting_id.is_not(None)).order_by(Issue.id))
        )
        meeting_id = session.scalar(select(Issue.meeting_id).where(Issue.reference == refs[0]))
    if meeting_id is None:
        raise click.ClickException("the demo's MEETING replies scheduled nothing; see the poll lines above")
    step("7. The agenda goes to the members, the GP sub-group and the administrator, with an invitation")
    with transaction(app.factory) as session:
        queued = meetings.send_agenda(app, session, store.get_meeting(session, meeting_id)).queued
    runner.deliver(app)
    agenda = [m for m in sent(app, "agenda") if "#" in str(m["Subject"])][-1]
    click.echo(f"{queued} agenda emails, each with a text/calendar part; the administrator's subject:")
    click.echo(f"  {agenda['Subject']}")
    step("8. After the meeting the administrator replies to the agenda with every decision at once")
    outcome = "The discharge letter template now has a mandatory 'medicines changed and why' section."
    decisions = (
        "ATTENDEES: Dr A Example, Dr B Example\nAPOLOGIES: Dr C Example\n"
        f"{refs[0]}: CLOSE {outcome}\n"
        f"{refs[1]}: DELEGATE prescribing by {(day + timedelta(days=42)).isoformat()}"
    )
    click.echo("\n".join(f"  {line}" for line in decisions.splitlines()))
    reply(app, inbox, agenda, decisions)
    confirmation = sent(app, "decisions-confirmation")[-1]
    click.echo(f"Subject: {confirmation['Subject']}\n{_text(confirmation)}")
    step("9. The minutes go to the minutes lists: one email per address, stored as version 1")
    with transaction(app.factory) as session:
        result = meeting_minutes.send_minutes(app, session, store.get_meeting(session, meeting_id))
    runner.deliver(app)
    click.echo(f"minutes version {result.version} sent to {result.queued} address(es)")
    click.echo(_text(sent(app, "minutes")[-1]))


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else ""
    return text.replace("\r\n", "\n").split("\n--\n")[0].strip() + "\n"
