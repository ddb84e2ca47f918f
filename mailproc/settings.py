"""The validated settings: frozen values that every part of mailproc reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

DEFAULT_AREAS: dict[str, tuple[str, ...]] = {
    "discharge": ("discharge letter", "discharge summary", "immediate discharge", "idl"),
    "referrals": ("referral", "sci gateway", "rejected referral", "waiting list"),
    "communication": ("communication", "phone", "telephone", "contact"),
    "results": ("result", "blood test", "investigation", "radiology", "x-ray", "scan report"),
    "primary-care-role": ("asked the gp", "gp to arrange", "transfer of work", "gp to chase"),
    "prescribing": ("prescri", "medication", "medicine", "drug", "pharmac", "dose"),
    "adverse-events": ("adverse event", "harm", "near miss", "datix", "incident"),
    "quality-cluster": ("cluster", "quality improvement"),
    "inequity": ("inequity", "inequality", "deprivation", "access"),
    "it": ("it system", "emis", "vision", "trakcare", "docman", "scimore", "login"),
}
DEFAULT_SOURCE_KINDS: dict[str, tuple[str, ...]] = {
    "sea": ("significant event", "sea ", "significant-event"),
    "patient-feedback": ("patient feedback", "complaint", "patient told", "family raised"),
}


@dataclass(frozen=True)
class GroupSettings:
    name: str
    address: str
    reference_prefix: str
    reports_to: str
    timezone: ZoneInfo
    templates_dir: Path | None


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


@dataclass(frozen=True)
class IntakeSettings:
    source: str
    maildir: Path
    max_message_bytes: int
    max_attempts: int
    imap: ImapSettings | None


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


@dataclass(frozen=True)
class TriageSettings:
    admins: tuple[str, ...]
    secret: bytes = field(repr=False)
    require_authentication_results: bool
    authserv_id: str
    token_max_age_days: int


@dataclass(frozen=True)
class Member:
    name: str
    role: str
    organisation: str
    email: str


@dataclass(frozen=True)
class MailingList:
    key: str
    name: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class Contact:
    key: str
    name: str
    contact: tuple[str, ...]


@dataclass(frozen=True)
class PrivacyPattern:
    name: str
    regex: str


@dataclass(frozen=True)
class PrivacySettings:
    redact_for_admins: bool
    retention_days: int
    patterns: tuple[PrivacyPattern, ...]


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
    areas: dict[str, tuple[str, ...]]
    source_kinds: dict[str, tuple[str, ...]]

    def base_dir(self) -> Path:
        return self.path.parent
