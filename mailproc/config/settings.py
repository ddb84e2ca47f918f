"""The validated settings: frozen values that every part of mailproc reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

from mailproc.privacy.detector import ExtraPattern

# Words and phrases (matched whole, case-insensitively) that suggest an interface area or a
# submission source; a Health Board replaces them with [areas] and [source_kinds].
DEFAULT_AREAS: dict[str, tuple[str, ...]] = {
    "discharge": (
        "discharge letter", "discharge letters", "discharge summary", "immediate discharge", "idl", "idls",
    ),
    "referrals": ("referral", "referrals", "referred", "sci gateway", "waiting list", "waiting time"),
    "communication": ("communication", "phone call", "telephone", "could not contact", "no reply"),
    "results": ("result", "results", "blood test", "bloods", "investigation", "radiology", "x-ray", "scan"),
    "primary-care-role": ("asked the gp", "gp to arrange", "gp to chase", "transfer of work", "ask the gp"),
    "prescribing": (
        "prescribing", "prescription", "prescriptions", "prescribed", "medication", "medications",
        "medicine", "medicines", "drug", "drugs", "pharmacy", "pharmacist", "dose", "insulin",
    ),
    "adverse-events": ("adverse event", "harm", "near miss", "datix", "incident"),
    "quality-cluster": ("cluster", "quality improvement"),
    "inequity": ("inequity", "inequality", "inequalities", "deprivation", "health inequalities"),
    "it": ("it system", "emis", "vision", "trakcare", "docman", "scimore", "login", "interface error"),
}  # fmt: skip
DEFAULT_SOURCE_KINDS: dict[str, tuple[str, ...]] = {
    "sea": ("significant event", "significant event analysis", "sea"),
    "patient-feedback": ("patient feedback", "complaint", "complained", "patient told", "family raised"),
}


@dataclass(frozen=True)
class GroupSettings:
    name: str
    address: str
    reference_prefix: str
    reports_to: str
    timezone: ZoneInfo
    templates_dir: Path | None
    # The group's public face (issue 14): the About page, terms of reference, announcement.
    board: str = ""
    established: date | None = None  # the first day of the month it was established
    reports_to_chain: str = ""  # whom `reports_to` reports to in turn
    terms_of_reference: str = ""  # the vision text (read from the file when a path was given)
    co_opted_note: str = ""  # who may be co-opted, and how
    register_url: str = ""  # where the published register is read (intranet), "" when not published


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: str
    username: str
    auth: str
    password: str | None = field(repr=False)
    token_command: str
    folder: str
    processed_folder: str
    quarantine_folder: str
    batch_size: int
    idle: bool
    poll_interval: int
    timeout: int
    fetch_bytes: int = 8 * 1024 * 1024  # one FETCH of bodies asks for about this much (at least one message)


@dataclass(frozen=True)
class IntakeSettings:
    source: str
    maildir: Path
    max_message_bytes: int
    max_attempts: int
    imap: ImapSettings | None
    message_budget_seconds: float = 20.0  # past it a message is quarantined (0: no budget)
    batch_size: int = 50  # messages per database transaction (one savepoint each)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username: str
    auth: str
    password: str | None = field(repr=False)
    token_command: str
    timeout: int


@dataclass(frozen=True)
class OutboundSettings:
    transport: str
    maildir: Path
    max_attempts: int
    backoff_seconds: int
    backoff_max_seconds: int
    acknowledge: bool
    auto_per_address_per_day: int
    smtp: SmtpSettings | None
    # Minutes that outcome, minutes and delegation mail to lists and groups waits before
    # delivery, so that UNDO can still stop it; 0 sends at once.
    list_hold_minutes: int = 10
    # How long a message being sent is kept from other workers, and so how soon a send that
    # a crash interrupted is retried; at least the SMTP timeout, so a slow send is not doubled.
    claim_lease_seconds: int = 300


@dataclass(frozen=True)
class TriageSettings:
    admins: tuple[str, ...]
    secret: bytes = field(repr=False)
    require_authentication_results: bool
    authserv_id: str
    token_max_age_days: int
    waiting_days: int  # an issue untriaged for longer is in the digest and the report
    # Triage requests and updates caused by one sender in a day; the rest go into the digest.
    requests_per_sender_per_day: int = 10


@dataclass(frozen=True)
class Member:
    name: str
    role: str
    organisation: str
    email: str
    sector: str = "other"  # primary | secondary | board | other
    senior: bool = False  # senior representation, as the gold-standard model asks


@dataclass(frozen=True)
class MailingList:
    key: str
    name: str
    addresses: tuple[str, ...]
    kind: str = "list"  # "network": a primary/secondary care or out-of-hours network


@dataclass(frozen=True)
class Contact:
    key: str
    name: str
    contact: tuple[str, ...]


@dataclass(frozen=True)
class MeetingSettings:
    """Defaults for a new meeting: start time (group's time zone), length and place."""

    time: time
    length_minutes: int
    location: str


PrivacyPattern = ExtraPattern  # one value type for the configuration and the detector


@dataclass(frozen=True)
class PrivacySettings:
    redact_for_admins: bool
    retention_days: int
    patterns: tuple[PrivacyPattern, ...]


@dataclass(frozen=True)
class ReportSettings:
    """`[reports]`: targets for the governance report and the map from a submitter's address
    domain to their sector (primary, secondary...); an address matching none is "other"."""

    triage_target_days: int = 7
    outcome_target_days: int = 90
    sectors: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    path: Path
    group: GroupSettings
    database_url: str
    intake: IntakeSettings
    outbound: OutboundSettings
    triage: TriageSettings
    members: tuple[Member, ...]
    lists: dict[str, MailingList]
    distribution: dict[str, tuple[str, ...]]
    groups: dict[str, Contact]
    escalation: Contact | None
    privacy: PrivacySettings
    meetings: MeetingSettings
    areas: dict[str, tuple[str, ...]]
    source_kinds: dict[str, tuple[str, ...]]
    # `[distribution.by_area]`: the lists that get the outcomes of an area's issues; an area
    # not named here falls back to `distribution.outcomes`.
    outcomes_by_area: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reports: ReportSettings = field(default_factory=ReportSettings)

    def base_dir(self) -> Path:
        return self.path.parent
