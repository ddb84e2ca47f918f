"""TOML configuration → frozen, validated settings (mailproc.config.settings). Secrets come from
the environment."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time
from pathlib import Path

from mailproc.config.group import address, read_group, read_list, read_member
from mailproc.config.reader import Table
from mailproc.config.settings import (
    DEFAULT_AREAS,
    DEFAULT_SOURCE_KINDS,
    Contact,
    GroupSettings,
    ImapSettings,
    IntakeSettings,
    MailingList,
    MeetingSettings,
    Member,
    OutboundSettings,
    PrivacyPattern,
    PrivacySettings,
    ReportSettings,
    Settings,
    SmtpSettings,
    TriageSettings,
)
from mailproc.errors import ConfigError


def default_config_path() -> Path:
    """`$MAILPROC_CONFIG`, else `./config.toml`."""
    return Path(os.environ.get("MAILPROC_CONFIG", "config.toml"))


def load(path: Path) -> Settings:
    """Read and validate the configuration file; raise ConfigError naming file and key."""
    spath = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(spath, "(file)", "not found; copy config.example.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(spath, "(syntax)", str(exc)) from None
    root = Table(spath, "", data)
    base = path.resolve().parent
    distribution = root.table("distribution")
    by_area = _outcomes_by_area(distribution)  # read first: `_distribution` finishes the table
    settings = Settings(
        path=path.resolve(),
        group=read_group(root.table("group", required=True), base),
        database_url=_database(root.table("database"), base),
        intake=_intake(root.table("intake"), base),
        outbound=_outbound(root.table("outbound"), base),
        triage=_triage(root.table("triage", required=True)),
        members=tuple(read_member(t) for t in root.tables("members")),
        lists=root.table("lists").map(read_list),
        distribution=_distribution(distribution),
        groups=root.table("groups").map(_contact),
        escalation=_escalation(root),
        privacy=_privacy(root.table("privacy")),
        meetings=_meetings(root.table("meetings")),
        areas=_keyword_map(root, "areas", DEFAULT_AREAS),
        source_kinds=_keyword_map(root, "source_kinds", DEFAULT_SOURCE_KINDS),
        outcomes_by_area=by_area,
        reports=_reports(root.table("reports")),
    )
    root.finish()
    _cross_check(settings, spath)
    _check_outcomes_by_area(settings, spath)
    return settings


def _database(t: Table, base: Path) -> str:
    url = t.text("url", "sqlite:///var/mailproc.db")
    t.finish()
    # A relative SQLite path is relative to the config file; an SQLite URI (`sqlite:///file:…
    # ?mode=ro&uri=true`) is SQLite's own to read and is left as it is.
    if url.startswith("sqlite:///") and not url.startswith(("sqlite:////", "sqlite:///file:")):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            url = f"sqlite:///{base / relative}"
    if not url.startswith(("sqlite:", "postgresql")):
        raise t.error("url", "must be a sqlite:/// or postgresql+psycopg:// URL")
    return url


def _intake(t: Table, base: Path) -> IntakeSettings:
    source = t.choice("source", ("maildir", "imap"), "maildir")
    imap_table = t.table("imap")
    intake = IntakeSettings(
        source=source,
        maildir=base / t.text("maildir", "var/inbox"),
        max_message_bytes=t.integer("max_message_bytes", 26214400, minimum=1024),
        max_attempts=t.integer("max_attempts", 3, minimum=1),
        imap=_imap(imap_table, needed=source == "imap"),
        message_budget_seconds=t.integer("message_budget_seconds", 20, minimum=0),
        batch_size=t.integer("batch_size", 50, minimum=1, maximum=1000),
    )
    t.finish()
    return intake


def _secret(t: Table, name: str, default: str, needed: bool) -> str | None:
    var = t.text(name, default)
    value = os.environ.get(var) if var else None
    if needed and not value:
        raise t.error(name, f"environment variable {var or '(none named)'} is not set or empty")
    return value


def _imap(t: Table, needed: bool) -> ImapSettings:
    auth = t.choice("auth", ("password", "xoauth2"), "password")
    settings = ImapSettings(
        host=t.text("host", "127.0.0.1"),
        port=t.integer("port", 993, minimum=1),
        security=t.choice("security", ("ssl", "starttls", "none"), "ssl"),
        username=t.text("username", ""),
        auth=auth,
        password=_secret(t, "password_env", "MAILPROC_IMAP_PASSWORD", needed and auth == "password"),
        token_command=t.text("token_command", ""),
        folder=t.text("folder", "INBOX"),
        processed_folder=t.text("processed_folder", "Processed"),
        quarantine_folder=t.text("quarantine_folder", "Quarantine"),
        batch_size=t.integer("batch_size", 100, minimum=1),
        idle=t.flag("idle", True),
        poll_interval=t.integer("poll_interval", 60, minimum=1),
        timeout=t.integer("timeout", 60, minimum=1),
        fetch_bytes=t.integer("fetch_bytes", 8 * 1024 * 1024, minimum=1024),
    )
    if needed and auth == "xoauth2" and not settings.token_command:
        raise t.error("token_command", 'is required when auth = "xoauth2"')
    if needed and not settings.username:
        raise t.error("username", 'is required when intake.source = "imap"')
    t.finish()
    return settings


def _outbound(t: Table, base: Path) -> OutboundSettings:
    transport = t.choice("transport", ("maildir", "smtp"), "maildir")
    out = OutboundSettings(
        transport=transport,
        maildir=base / t.text("maildir", "var/outbox"),
        max_attempts=t.integer("max_attempts", 8, minimum=1),
        backoff_seconds=t.integer("backoff_seconds", 60, minimum=0),
        backoff_max_seconds=t.integer("backoff_max_seconds", 3600, minimum=0),
        acknowledge=t.flag("acknowledge", True),
        auto_per_address_per_day=t.integer("auto_per_address_per_day", 10, minimum=0),
        smtp=_smtp(t.table("smtp"), needed=transport == "smtp"),
        list_hold_minutes=t.integer("list_hold_minutes", 10, minimum=0),
        claim_lease_seconds=t.integer("claim_lease_seconds", 300, minimum=10),
    )
    if out.smtp is not None and transport == "smtp" and out.claim_lease_seconds < out.smtp.timeout:
        raise t.error(
            "claim_lease_seconds",
            f"must be at least outbound.smtp.timeout ({out.smtp.timeout}), so that a send still "
            "running is never taken over and sent twice",
        )
    t.finish()
    return out


def _smtp(t: Table, needed: bool) -> SmtpSettings:
    auth = t.choice("auth", ("password", "xoauth2"), "password")
    username = t.text("username", "")
    settings = SmtpSettings(
        host=t.text("host", "127.0.0.1"),
        port=t.integer("port", 587, minimum=1),
        security=t.choice("security", ("ssl", "starttls", "none"), "starttls"),
        username=username,
        auth=auth,
        password=_secret(
            t,
            "password_env",
            "MAILPROC_SMTP_PASSWORD",
            needed and bool(username) and auth == "password",
        ),
        token_command=t.text("token_command", ""),
        timeout=t.integer("timeout", 300, minimum=1),
    )
    t.finish()
    return settings


def _triage(t: Table) -> TriageSettings:
    admins = t.strings("admins")
    if not admins:
        raise t.error("admins", "must list at least one administrator address")
    secret = _secret(t, "secret_env", "MAILPROC_SECRET", needed=True) or ""
    if len(secret) < 16:
        raise t.error("secret_env", "the secret must be at least 16 characters long")
    settings = TriageSettings(
        admins=tuple(address(t, "admins", a) for a in admins),
        secret=secret.encode(),
        require_authentication_results=t.flag("require_authentication_results", False),
        authserv_id=t.text("authserv_id", ""),
        token_max_age_days=t.integer("token_max_age_days", 60, minimum=1),
        waiting_days=t.integer("waiting_days", 3, minimum=1),
        requests_per_sender_per_day=t.integer("requests_per_sender_per_day", 10, minimum=0),
    )
    if settings.require_authentication_results and not settings.authserv_id:
        raise t.error("authserv_id", "is required when require_authentication_results = true")
    t.finish()
    return settings


def _contact(key: str, t: Table) -> Contact:
    result = Contact(
        key=key,
        name=t.text("name", key),
        contact=tuple(address(t, "contact", a) for a in t.strings("contact")),
    )
    t.finish()
    return result


def _escalation(root: Table) -> Contact | None:
    if "escalation" not in root.data:
        root.used.add("escalation")
        return None
    return _contact("escalation", root.table("escalation"))


def _distribution(t: Table) -> dict[str, tuple[str, ...]]:
    result = {key: t.strings(key, ()) for key in ("outcomes", "agendas", "minutes", "announcements")}
    t.finish()
    return result


def _outcomes_by_area(distribution: Table) -> dict[str, tuple[str, ...]]:
    """`[distribution.by_area]`: area → the list keys its outcomes go to (checked later)."""
    t = distribution.table("by_area")
    result = {area: t.strings(area) for area in t.data}
    t.finish()
    return result


def _check_outcomes_by_area(s: Settings, path: str) -> None:
    """Every area of `[distribution.by_area]` is a known area, every list a known list."""
    lists = set(s.lists) | {"members"}
    for area, keys in s.outcomes_by_area.items():
        key = f"distribution.by_area.{area}"
        if area not in s.areas:
            valid = ", ".join(sorted(s.areas))
            raise ConfigError(path, key, f"unknown area {area!r} (valid: {valid})")
        for name in keys:
            if name not in lists:
                raise ConfigError(path, key, f"unknown list {name!r} (valid: {', '.join(sorted(lists))})")


def _meetings(t: Table) -> MeetingSettings:
    text = t.text("time", "14:00")
    match = re.fullmatch(r"([01][0-9]|2[0-3]):([0-5][0-9])", text)
    if match is None:
        raise t.error("time", f"must be a 24-hour time HH:MM such as 14:00, got {text!r}")
    settings = MeetingSettings(
        time=time(int(match[1]), int(match[2])),
        length_minutes=t.integer("length_minutes", 90, minimum=1),
        location=t.text("location", ""),
    )
    t.finish()
    return settings


def _privacy(t: Table) -> PrivacySettings:
    patterns = []
    for p in t.tables("patterns"):
        regex = p.text("regex")
        try:
            re.compile(regex)
        except re.error as exc:
            raise p.error("regex", f"is not a valid regular expression: {exc}") from None
        patterns.append(PrivacyPattern(name=p.text("name"), regex=regex))
        p.finish()
    settings = PrivacySettings(
        redact_for_admins=t.flag("redact_for_admins", True),
        retention_days=t.integer("retention_days", 365, minimum=1),
        patterns=tuple(patterns),
    )
    t.finish()
    return settings


def _reports(t: Table) -> ReportSettings:
    sectors_table = t.table("sectors")
    sectors = {}
    for name in sectors_table.data:
        domains = tuple(d.lower().lstrip("@") for d in sectors_table.strings(name))
        if name == "other":
            raise sectors_table.error(name, '"other" is where unmatched domains go; it takes no list')
        sectors[name] = domains
    sectors_table.finish()
    settings = ReportSettings(
        triage_target_days=t.integer("triage_target_days", 7, minimum=1),
        outcome_target_days=t.integer("outcome_target_days", 90, minimum=1),
        sectors=sectors,
    )
    t.finish()
    return settings


def _keyword_map(root: Table, name: str, default: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    if name not in root.data:
        root.used.add(name)
        return dict(default)
    t = root.table(name)
    result = {key: tuple(w.lower() for w in t.strings(key)) for key in t.data}
    if not result:
        raise t.error("(table)", "must name at least one entry")
    return result


def _cross_check(s: Settings, path: str) -> None:
    """References between sections: distribution lists must exist."""
    known = set(s.lists) | {"members"}
    for purpose, keys in s.distribution.items():
        for key in keys:
            if key not in known:
                valid = ", ".join(sorted(known))
                raise ConfigError(path, f"distribution.{purpose}", f"unknown list {key!r} (valid: {valid})")


__all__ = [
    "DEFAULT_AREAS", "DEFAULT_SOURCE_KINDS", "Contact", "GroupSettings", "ImapSettings", "IntakeSettings",
    "MailingList", "MeetingSettings", "Member", "OutboundSettings", "PrivacyPattern", "PrivacySettings",
    "ReportSettings", "Settings", "SmtpSettings", "TriageSettings", "default_config_path", "load",
]  # fmt: skip
