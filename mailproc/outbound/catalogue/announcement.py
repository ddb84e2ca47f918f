"""The awareness email: the group's facts, from the configuration, to every announcement address.

The same `Awareness` view fills the register's About page, so the email and the page can
never state different facts.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailproc.config import Settings
from mailproc.outbound.catalogue.values import Email, GroupView, make_email

SECTOR_LABELS = {
    "primary": "Primary care",
    "secondary": "Secondary care",
    "board": "Health Board management",
    "other": "Other members",
}


@dataclass(frozen=True)
class MemberLine:
    name: str
    role: str
    organisation: str
    senior: bool


@dataclass(frozen=True)
class Sector:
    key: str
    label: str
    members: tuple[MemberLine, ...]


@dataclass(frozen=True)
class Awareness:
    """What the awareness text states about one group, from its configuration."""

    name: str
    address: str
    board: str
    established: str  # "April 2023", or "" when not configured
    reports_to: str
    reports_to_chain: str
    co_opted_note: str
    sectors: tuple[Sector, ...]  # only sectors with members, in the order of SECTOR_LABELS
    minutes_to: tuple[str, ...]  # the names of the lists that receive the minutes
    outcomes_to: tuple[str, ...]  # ... and the outcomes
    networks: tuple[str, ...]  # the lists tagged kind = "network"
    escalation: str  # the escalation route's name, "" when none
    operational_groups: tuple[str, ...]  # where work is delegated


def awareness(settings: Settings) -> Awareness:
    """The group's facts as the awareness text and the About page state them."""
    g = settings.group
    sectors = tuple(
        Sector(
            key,
            label,
            tuple(
                MemberLine(m.name, m.role, m.organisation, m.senior)
                for m in settings.members
                if m.sector == key
            ),
        )
        for key, label in SECTOR_LABELS.items()
    )
    return Awareness(
        name=g.name,
        address=g.address,
        board=g.board,
        established=f"{g.established:%B %Y}" if g.established else "",
        reports_to=g.reports_to,
        reports_to_chain=g.reports_to_chain,
        co_opted_note=g.co_opted_note,
        sectors=tuple(s for s in sectors if s.members),
        minutes_to=list_names(settings, settings.distribution.get("minutes", ())),
        outcomes_to=list_names(settings, settings.distribution.get("outcomes", ())),
        networks=tuple(lst.name for lst in settings.lists.values() if lst.kind == "network"),
        escalation=settings.escalation.name if settings.escalation else "",
        operational_groups=tuple(group.name for group in settings.groups.values()),
    )


def list_names(settings: Settings, keys: tuple[str, ...]) -> tuple[str, ...]:
    """The names of the lists `keys` ("members": the group's own members)."""
    return tuple(
        "the group's members" if key == "members" else settings.lists[key].name
        for key in keys
        if key == "members" or key in settings.lists
    )


def announcement_recipients(settings: Settings) -> tuple[str, ...]:
    """Every address of `distribution.announcements` and of every network, once, in order."""
    keys = [*settings.distribution.get("announcements", ())]
    keys += [key for key, lst in settings.lists.items() if lst.kind == "network" and key not in keys]
    found: dict[str, None] = {}
    for key in keys:
        addresses = [m.email for m in settings.members] if key == "members" else settings.lists[key].addresses
        found.update((a.strip().lower(), None) for a in addresses if a)
    found.pop(settings.group.address.lower(), None)
    return tuple(found)


def announcement(group: GroupView, about: Awareness, address: str) -> Email:
    """The awareness email to one address: one message per recipient, so no list is shown,
    and once per address (the Message-ID derives from it; a second run queues nothing)."""
    return make_email(
        "announcement", group, None, to=(address,), purpose="announcement", unique=address,
        context={"about": about},
    )  # fmt: skip
