"""An administrator's command email: the verdict on whether it may command its issue (the
flow quarantines a refusal), then reading, applying and confirming the commands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailproc.app import App
from mailproc.intake.inbound import Inbound
from mailproc.outbound import catalogue, outbox
from mailproc.outbound import gate as notify
from mailproc.store import issues
from mailproc.store.models import Issue, Message
from mailproc.triage.apply import Actor, TriageRefused, apply_commands
from mailproc.triage.auth import check_authentication_results, check_sender
from mailproc.triage.grammar import (
    CHEAT_SHEET,
    CommandError,
    Vocabulary,
    parse_commands,
)
from mailproc.triage.tokens import make_token, verify_token
from mailproc.vocabulary import reference_pattern, subject_tag, token_in_message_id


@dataclass(frozen=True)
class Verdict:
    """Whether an email may command an issue: `problem` is "" when it may."""

    reference: str | None
    issue: Issue | None
    problem: str


def vocabulary(app: App) -> Vocabulary:
    s = app.settings
    return Vocabulary(
        areas=tuple(s.areas),
        groups=tuple(s.groups),
        reference_pattern=reference_pattern(s.group.reference_prefix),
    )


def authorise(app: App, session: Session, msg: Inbound) -> Verdict:
    """Find the issue the email names and decide whether its sender may command it."""
    reference, token = find_token(app, msg)
    issue = session.scalar(select(Issue).where(Issue.reference == reference)) if reference else None
    problem = sender_problem(app, msg, reference, token, issue is not None)
    return Verdict(reference=issue.reference if issue else reference, issue=issue, problem=problem)


def run_commands(app: App, session: Session, issue: Issue, msg: Inbound, row: Message) -> str:
    """Read the logged command email, apply every command or none, and answer the sender:
    a confirmation of what was applied, or the error naming the line. Returns a summary."""
    actor = Actor(address=msg.from_address, via=msg.message_id)
    try:
        parsed = parse_commands(row.visible_text, vocabulary(app), app.today())
        applied = apply_commands(app, session, issue, parsed.commands, actor)
    except (CommandError, TriageRefused) as exc:
        error = str(exc)
        row.detail = {**row.detail, "error": error}
        issues.add_event(session, issue, actor.address, actor.via, "command-error", app.clock(), error=error)
        _reply(app, session, issue, msg, lambda r: catalogue.command_error(r, error, CHEAT_SHEET))
        return f"command error: {exc}"
    done = tuple(
        catalogue.AppliedView(
            catalogue.CommandView(a.command.keyword, a.command.text, a.command.line_no, msg.message_id),
            a.summary,
            a.sent_text,
            a.outgoing,
        )
        for a in applied
    )
    _reply(app, session, issue, msg, lambda r: catalogue.command_confirmation(r, done, parsed.ignored))
    return f"{len(applied)} command(s) applied"


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


def sender_problem(app: App, msg: Inbound, reference: str | None, token: str | None, found: bool) -> str:
    """ "" when the email may command what `reference` names (an issue, a meeting: `found`
    says it exists), else why not: allow-list, token for that reference, DMARC if required."""
    t = app.settings.triage
    sender = check_sender(msg.from_addresses, msg.from_defects, t.admins)
    if not sender.ok or sender.admin is None:
        return f"sender not authorised: {sender.reason}"
    if not reference or not token or not found:
        return "no valid reference and token in the subject or References"
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


def answer_rejection(app: App, session: Session, msg: Inbound, verdict: Verdict) -> None:
    """Record a refused command on its issue, and answer only an allow-listed sender (never
    backscatter a forger). The flow quarantines the email itself."""
    if verdict.issue is not None:
        sender = msg.from_address or ", ".join(msg.from_addresses)
        issues.add_event(session, verdict.issue, sender, msg.message_id, "command-rejected", app.clock(),
                         reason=verdict.problem)  # fmt: skip
    if _verified_admin(app, msg):
        reason = verdict.problem
        meeting = verdict.reference or ""
        meeting = meeting if meeting.startswith("MTG-") else ""
        _reply(app, session, verdict.issue, msg, lambda r: catalogue.command_rejected(r, reason, meeting))


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
    write: Callable[[catalogue.CommandReply], catalogue.Email],
) -> None:
    admin = msg.from_address
    token = make_token(app.settings.triage.secret, issue.reference, admin, app.clock()) if issue else ""
    view = catalogue.issue_view(session, issue) if issue else None
    incoming = catalogue.Incoming(admin, msg.message_id, msg.references, msg.subject)
    email = write(catalogue.CommandReply(catalogue.group_view(app.settings), view, incoming, token))
    # An administrator's auto-responder that sets no Auto-Submitted header would answer
    # each error with another tagged email: a loop. Past the cap, errors are only logged.
    capped = email.template in ERROR_TEMPLATES and _errors_today(app, session, admin) >= ERROR_REPLIES_PER_DAY
    reason = f"more than {ERROR_REPLIES_PER_DAY} error replies today" if capped else ""
    reason = reason or notify.send(session, app, email).reason
    if reason:
        issues.add_event(session, issue, admin, msg.message_id, "reply-withheld", app.clock(), reason=reason)
