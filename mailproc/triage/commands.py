"""A command email from start to end: authorise, read, apply, confirm (or reject)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.intake.inbound import Inbound
from mailproc.intake.replytrim import visible_reply
from mailproc.intake.sources import SourceMessage
from mailproc.outbound import gate as notify
from mailproc.outbound import outbox
from mailproc.privacy.findings import scan_message
from mailproc.store import issues, messages
from mailproc.store.models import Issue, Message
from mailproc.triage.apply import Actor, Applied, TriageRefused, apply_commands
from mailproc.triage.auth import check_authentication_results, check_sender
from mailproc.triage.grammar import (
    CHEAT_SHEET,
    CommandError,
    ParsedReply,
    Vocabulary,
    parse_commands,
)
from mailproc.triage.tokens import make_token, verify_token
from mailproc.vocabulary import reference_pattern, subject_tag, token_in_message_id


@dataclass(frozen=True)
class CommandResult:
    fate: Literal["done", "quarantine"]
    reference: str | None
    reason: str


def vocabulary(app: App) -> Vocabulary:
    s = app.settings
    return Vocabulary(
        areas=tuple(s.areas),
        groups=tuple(s.groups),
        reference_pattern=reference_pattern(s.group.reference_prefix),
    )


def handle(app: App, session: Session, item: SourceMessage, msg: Inbound) -> CommandResult:
    """Authorise and apply one command email; a refusal is logged and quarantined."""
    reference, token = find_token(app, msg)
    issue = session.scalar(select(Issue).where(Issue.reference == reference)) if reference else None
    problem = authorise(app, msg, reference, token, issue)
    if problem or issue is None:  # authorise() refuses a missing issue; this tells mypy so
        return reject(app, session, item, msg, issue, problem or "no issue with that reference")
    if _is_replay(session, msg):
        return CommandResult("done", issue.reference, "command email already applied (same Message-ID)")
    text = visible_reply(msg.first_text or msg.text)
    row = messages.log_message(
        session, msg, item.raw, item.key, messages.LogEntry("command", text, "", {}), issue, now=app.clock()
    )
    scan_message(app, session, row, msg)
    actor = Actor(address=msg.from_address, via=msg.message_id)
    try:
        parsed = parse_commands(text, vocabulary(app), app.today())
        applied = apply_commands(app, session, issue, parsed.commands, actor)
    except (CommandError, TriageRefused) as exc:
        row.detail = {**row.detail, "error": str(exc)}
        issues.add_event(
            session, issue, actor.address, actor.via, "command-error", app.clock(), error=str(exc)
        )
        _reply(
            app,
            session,
            issue,
            msg,
            "command-error",
            {"error": str(exc), "cheat_sheet": CHEAT_SHEET},
        )
        return CommandResult("done", issue.reference, f"command error: {exc}")
    _confirm(app, session, issue, msg, parsed, applied)
    return CommandResult("done", issue.reference, f"{len(applied)} command(s) applied")


def find_token(app: App, msg: Inbound) -> tuple[str | None, str | None]:
    """The (reference, token) from the subject tag, or from our triage Message-ID in
    References where a mail client dropped the subject tag."""
    tag = subject_tag(msg.subject, app.settings.group.reference_prefix)
    if tag and tag.token:
        return tag.reference, tag.token
    for mid in (*msg.references, *([msg.in_reply_to] if msg.in_reply_to else [])):
        found = token_in_message_id(mid, app.domain)
        if found:
            return found
    return None, None


def authorise(app: App, msg: Inbound, reference: str | None, token: str | None, issue: Issue | None) -> str:
    """ "" when the email may command `issue`, else why not."""
    t = app.settings.triage
    sender = check_sender(msg.from_addresses, msg.from_defects, t.admins)
    if not sender.ok or sender.admin is None:
        return f"sender not authorised: {sender.reason}"
    if not reference or not token or issue is None:
        return "no valid issue reference and token in the subject or References"
    check = verify_token(
        t.secret, token, reference, sender.admin, app.clock(), timedelta(days=t.token_max_age_days)
    )
    if not check.ok:
        return f"token refused: {check.reason}"
    if t.require_authentication_results:
        domain = sender.admin.rpartition("@")[2]
        auth = check_authentication_results(
            msg.headers_named("Authentication-Results"), t.authserv_id, domain
        )
        if not auth.ok:
            return f"Authentication-Results refused: {auth.reason}"
    return ""


def reject(
    app: App, session: Session, item: SourceMessage, msg: Inbound, issue: Issue | None, reason: str
) -> CommandResult:
    """Log, quarantine, and answer only an allow-listed sender (never backscatter a forger)."""
    reason_text = f"rejected command: {reason}"
    messages.quarantine_record(session, item.key, item.raw, reason_text, item.size, now=app.clock())
    if issue is not None:
        issues.add_event(
            session,
            issue,
            msg.from_address or ", ".join(msg.from_addresses),
            msg.message_id,
            "command-rejected",
            app.clock(),
            reason=reason,
        )
    if _verified_admin(app, msg):
        _reply(app, session, issue, msg, "command-rejected", {"reason": reason})
    return CommandResult("quarantine", issue.reference if issue else None, f"rejected command: {reason}")


def _verified_admin(app: App, msg: Inbound) -> bool:
    """Whether a rejection may be answered: an allow-listed sender whose mail, where
    required, passed DMARC/DKIM; a forged From never makes us write to anyone."""
    t = app.settings.triage
    sender = check_sender(msg.from_addresses, msg.from_defects, t.admins)
    if not sender.ok or sender.admin is None:
        return False
    if not t.require_authentication_results:
        return True
    domain = sender.admin.rpartition("@")[2]
    return check_authentication_results(msg.headers_named("Authentication-Results"), t.authserv_id, domain).ok


def _is_replay(session: Session, msg: Inbound) -> bool:
    stmt = select(Message.id).where(Message.message_id == msg.message_id, Message.kind == "command")
    return session.scalar(stmt.limit(1)) is not None


def _confirm(
    app: App,
    session: Session,
    issue: Issue,
    msg: Inbound,
    parsed: ParsedReply,
    applied: list[Applied],
) -> None:
    _reply(
        app,
        session,
        issue,
        msg,
        "command-confirmation",
        {"applied": applied, "ignored": parsed.ignored},
    )


ERROR_TEMPLATES = ("command-error", "command-rejected")
ERROR_REPLIES_PER_DAY = 20


def _errors_today(app: App, session: Session, admin: str) -> int:
    since = app.clock() - timedelta(days=1)
    return outbox.automatic_sent_to(session, admin, since, templates=ERROR_TEMPLATES)


def _reply(
    app: App,
    session: Session,
    issue: Issue | None,
    msg: Inbound,
    template: str,
    context: dict[str, object],
) -> None:
    admin = msg.from_address
    if template in ERROR_TEMPLATES and _errors_today(app, session, admin) >= ERROR_REPLIES_PER_DAY:
        # An administrator's auto-responder that sets no Auto-Submitted header would answer
        # each error with another tagged email: a loop. Past the cap, errors are only logged.
        issues.add_event(session, issue, admin, msg.message_id, "reply-withheld", app.clock(),
                         reason=f"more than {ERROR_REPLIES_PER_DAY} error replies today")  # fmt: skip
        return
    token = make_token(app.settings.triage.secret, issue.reference, admin, app.clock()) if issue else ""
    out = notify.Outgoing(
        template=template,
        to=(admin,),
        purpose=f"triage-{token}" if token else template,
        unique=f"{template}/{msg.message_id}",
        in_reply_to=msg.message_id,
        references=(*msg.references, msg.message_id),
        auto="auto-replied",
    )
    notify.send(session, app, issue, out, {"token": token, "subject": msg.subject, **context})
