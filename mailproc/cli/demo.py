"""`mailproc demo`: a throw-away workspace (SQLite + Maildir) and the whole flow, narrated."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import mailbox
import os
import secrets
import tempfile
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import click
from sqlalchemy import select

from mailproc.app import App, open_app
from mailproc.cli import demo_data
from mailproc.cli.demo_meeting import run_meeting
from mailproc.config import load
from mailproc.governance import announce, gold_standard
from mailproc.governance.register import build_register
from mailproc.intake import runner
from mailproc.outbound import outbox
from mailproc.store.models import Issue, OutboxMessage

CONFIG = """\
# A throw-away demo workspace made by `mailproc demo`.
[group]
name = "NHS Example Interface Group"
address = "interface.group@example.nhs.scot"
reference_prefix = "IFG"
board = "NHS Example"
established = "2024-04"
reports_to = "Area Clinical Forum"
reports_to_chain = "Example Health Board Clinical Governance Committee"
terms_of_reference = "General practice and hospital services working as one, learning from each other."
co_opted_note = "Pharmacists and clinical development fellows are co-opted for the issues they know."

[database]
url = "sqlite:///mailproc.db"

[intake]
source = "maildir"
maildir = "inbox"

[outbound]
transport = "maildir"
maildir = "outbox"

[triage]
admins = ["admin@example.nhs.scot"]
secret_env = "MAILPROC_DEMO_SECRET"

[[members]]
name = "Dr A Example"
role = "Chair (GP)"
organisation = "Example Medical Practice"
email = "a.example@example.nhs.scot"
sector = "primary"
senior = true

[[members]]
name = "Dr B Example"
role = "Consultant physician"
organisation = "Example Royal Infirmary"
sector = "secondary"
senior = true

[[members]]
name = "C Example"
role = "Associate Medical Director"
organisation = "NHS Example"
sector = "board"
senior = true

[lists.gp-subgroup]
name = "GP Sub-group"
addresses = ["gp-subgroup@example.nhs.scot"]

[lists.ooh]
name = "Out-of-hours network"
addresses = ["ooh.network@example.nhs.scot"]
kind = "network"

[distribution]
announcements = ["members", "gp-subgroup"]
outcomes = ["gp-subgroup"]
agendas = ["members", "gp-subgroup"]
minutes = ["gp-subgroup"]

[groups.prescribing]
name = "Prescribing Operational Group"
contact = ["prescribing.lead@example.nhs.scot"]

[escalation]
name = "Clinical Governance Committee"
contact = ["governance@example.nhs.scot"]
"""


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    help="Workspace folder [default: a new temporary one].",
)
def demo(directory: Path | None) -> None:
    """Run the whole flow on sample mail in a throw-away workspace."""
    _demo(directory)


def _demo(directory: Path | None) -> None:
    root = directory or Path(tempfile.mkdtemp(prefix="mailproc-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text(CONFIG, encoding="utf-8")
    os.environ.setdefault("MAILPROC_DEMO_SECRET", secrets.token_urlsafe(32))
    app = open_app(load(root / "config.toml"), upgrade_schema=True)  # an earlier demo's --dir
    click.secho(f"Demo workspace: {root}", bold=True)
    inbox = mailbox.Maildir(root / "inbox", create=True)
    _submissions(app, inbox)
    _reply_threads(app, inbox)
    _triage(app, inbox)
    run_meeting(app, inbox, _sent, _admin_reply, _step)
    _after_hold(app)
    _publish(app, inbox)
    _show_issues(app)
    _step("12. The published register for the intranet (published issues only; a page per meeting)")
    click.echo(build_register(app, root / "register").line())
    _public_face(app, root / "register")
    click.echo(f"\nEverything sent is in {root / 'outbox'}; to look around (the secret is this demo's own):")
    click.echo(f"  export MAILPROC_DEMO_SECRET={os.environ['MAILPROC_DEMO_SECRET']}")
    click.echo(f"  mailproc --config {root / 'config.toml'} issues show IFG-{app.clock().year}-0001")


def _public_face(app: App, register: Path) -> None:
    _step("13. The About page follows the national awareness text; `mailproc announce` emails the same")
    click.echo(f"About page: {register / 'about.html'} (terms of reference: {register / 'terms.html'})")
    click.echo(announce.preview(app).text.split("WHAT THE GROUP WILL DO")[0].strip())
    click.echo(f"(`mailproc announce --send` emails {len(announce.recipients(app))} addresses, once each)")
    _step("14. The gold-standard self-check (`mailproc check --gold-standard --register DIR`)")
    click.echo("\n".join(gold_standard.self_check(app, register).lines()))


def _submissions(app: App, inbox: mailbox.Maildir) -> None:
    _step("1. Three clinicians email the group; an out-of-office and a broken message arrive too")
    now = app.clock()
    for i, (name, address, subject, body) in enumerate(demo_data.SUBMISSIONS):
        inbox.add(demo_data.submission(name, address, subject, body, now + timedelta(seconds=i)))
    inbox.add(demo_data.out_of_office(demo_data.SUBMISSIONS[0][2], now))
    inbox.add(demo_data.MALFORMED)
    _poll(app)
    _show_issues(app)
    acks = _sent(app, "acknowledgement")
    _step("2. The acknowledgement the first clinician received")
    click.echo(_headers(acks[0], "Subject", "To", "Auto-Submitted", "In-Reply-To") + "\n" + _text(acks[0]))
    _step("3. The third email quoted a CHI number: its acknowledgement warns, and the number is gone")
    warning = [p for p in _text(acks[2]).split("\n\n") if "IMPORTANT" in p]
    click.echo("\n".join(warning))
    triage_text = _text(_sent(app, "triage-request")[2])
    click.echo(
        f"(the CHI number appears in the triage request: {'yes' if '0101011237' in triage_text else 'no'})"
    )


def _reply_threads(app: App, inbox: mailbox.Maildir) -> None:
    _step("4. The first clinician replies with more information (Outlook style); it joins her issue")
    first = _sent(app, "acknowledgement")[0]
    name, address = demo_data.SUBMISSIONS[0][:2]
    body = "The most recent example was on ward 12 last Tuesday."
    inbox.add(
        demo_data.reply(name, address, str(first["Subject"]), str(first["Message-ID"]), body, app.clock())
    )
    _poll(app)


def _triage(app: App, inbox: mailbox.Maildir) -> None:
    _step("5. The administrator replies to the triage request with one line")
    request = _sent(app, "triage-request")[0]
    click.echo(_headers(request, "Subject", "To"))
    _admin_reply(app, inbox, request, "ACCEPT prescribing\n\nThanks")
    confirmation = _sent(app, "command-confirmation")[-1]
    click.echo(_headers(confirmation, "Subject") + "\n" + _text(confirmation))


def _after_hold(app: App) -> None:
    minutes = app.settings.outbound.list_hold_minutes
    _step(f"10. Mail to lists and groups waited {minutes} minutes, so that UNDO could stop it; now it goes")
    later = dataclasses.replace(app, clock=lambda: app.clock() + timedelta(minutes=minutes + 1))
    click.echo(f"delivered {runner.deliver(later).sent} held email(s)")


def _publish(app: App, inbox: mailbox.Maildir) -> None:
    _step("11. The administrator publishes the closed issue under a summary the group agreed")
    summary = "Discharge letters now say which medicines changed and why"
    _admin_reply(app, inbox, _sent(app, "triage-request")[0], f"PUBLISH {summary}")
    click.echo(_text(_sent(app, "command-confirmation")[-1]))


def _admin_reply(app: App, inbox: mailbox.Maildir, to: EmailMessage, body: str) -> None:
    admin = ("Group Administrator", "admin@example.nhs.scot")
    inbox.add(demo_data.reply(*admin, str(to["Subject"]), str(to["Message-ID"]), body, app.clock()))
    _poll(app)


def _step(title: str) -> None:
    click.secho(f"\n== {title}", fg="cyan", bold=True)


def _poll(app: App) -> None:
    summary, report = runner.poll_once(app)
    click.echo(f"poll: {summary.line()}; sent {report.sent}")


def _show_issues(app: App) -> None:
    with app.factory() as session:
        for issue in session.scalars(select(Issue).order_by(Issue.id)):
            flag = "  [patient identifier detected]" if issue.pid_detected else ""
            area = issue.area or issue.suggested_area or "-"
            click.echo(f"  {issue.reference}  {issue.status:<16} {area:<14} {issue.subject}{flag}")


def _sent(app: App, template: str) -> list[EmailMessage]:
    with app.factory() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id)
        )
        raws = [outbox.message_bytes(r) or b"" for r in rows]
    return [email.message_from_bytes(raw, policy=email.policy.default) for raw in raws]


def _headers(msg: EmailMessage, *names: str) -> str:
    return "\n".join(f"{n}: {msg[n]}" for n in names if msg[n] is not None)


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else ""
    return "\n" + text.replace("\r\n", "\n").strip() + "\n"
