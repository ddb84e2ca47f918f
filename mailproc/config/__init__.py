"""Configuration: TOML in, frozen validated settings out; errors name the key and the file."""

from mailproc.config.loader import default_config_path, load
from mailproc.config.settings import (
    Contact,
    GroupSettings,
    ImapSettings,
    IntakeSettings,
    MailingList,
    MeetingSettings,
    Member,
    OutboundSettings,
    PrivacySettings,
    Settings,
    SmtpSettings,
    TriageSettings,
)

__all__ = [
    "Contact",
    "GroupSettings",
    "ImapSettings",
    "IntakeSettings",
    "MailingList",
    "MeetingSettings",
    "Member",
    "OutboundSettings",
    "PrivacySettings",
    "Settings",
    "SmtpSettings",
    "TriageSettings",
    "default_config_path",
    "load",
]
