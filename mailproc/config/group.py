"""`[group]`, `[[members]]` and `[lists.*]`: who the group is, as its emails and register show it."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailproc.config.reader import Table
from mailproc.config.settings import GroupSettings, MailingList, Member

SECTORS = ("primary", "secondary", "board", "other")
LIST_KINDS = ("list", "network")


def read_group(t: Table, base: Path) -> GroupSettings:
    """The `[group]` table; relative paths are relative to the configuration file."""
    prefix = t.text("reference_prefix", "IFG")
    if not re.fullmatch(r"[A-Z]{2,10}", prefix):
        raise t.error("reference_prefix", "must be 2 to 10 capital letters, e.g. IFG")
    tz_name = t.text("timezone", "Europe/London")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise t.error("timezone", f"unknown time zone {tz_name!r}, e.g. Europe/London") from None
    templates = t.text("templates_dir", "")
    group = GroupSettings(
        name=t.text("name"),
        address=address(t, "address"),
        reference_prefix=prefix,
        reports_to=t.text("reports_to", ""),
        timezone=tz,
        templates_dir=(base / templates) if templates else None,
        board=t.text("board", ""),
        established=_month(t, "established"),
        reports_to_chain=t.text("reports_to_chain", ""),
        terms_of_reference=_text_or_file(t, "terms_of_reference", base),
        co_opted_note=t.text("co_opted_note", ""),
        register_url=_url(t, "register_url"),
    )
    t.finish()
    return group


def address(t: Table, name: str, value: str | None = None) -> str:
    """A plain email address, lower-cased; anything else is an error naming the key."""
    value = t.text(name) if value is None else value
    if not re.fullmatch(r"[^@\s<>\"(),;]+@[^@\s<>\"(),;]+\.[^@\s<>\"(),;]+", value):
        raise t.error(name, f"{value!r} is not a plain email address (name@example.nhs.scot)")
    return value.lower()


def _url(t: Table, name: str) -> str:
    """An http(s) address, or "" (emails then name no register)."""
    text = t.text(name, "").strip()
    if text and not re.fullmatch(r"https?://[^\s<>\"]+", text):
        raise t.error(name, f"must be a web address starting http:// or https://, got {text!r}")
    return text


def _month(t: Table, name: str) -> date | None:
    text = t.text(name, "")
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text)
    if match is None:
        raise t.error(name, f"must be a year and month YYYY-MM such as 2023-04, got {text!r}")
    return date(int(match[1]), int(match[2]), 1)


def _text_or_file(t: Table, name: str, base: Path) -> str:
    """A short text, or a path (ending .md or .txt) to a file holding it."""
    value = t.text(name, "").strip()
    if not re.fullmatch(r"[^\n]+\.(md|txt)", value):
        return value
    path = base / value
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise t.error(name, f"cannot read the file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise t.error(name, f"the file {path} is not UTF-8 text") from None


def read_member(t: Table) -> Member:
    member = Member(
        name=t.text("name"),
        role=t.text("role", ""),
        organisation=t.text("organisation", ""),
        email=address(t, "email") if "email" in t.data else "",
        sector=t.choice("sector", SECTORS, "other"),
        senior=t.flag("senior", False),
    )
    t.used.add("email")
    t.finish()
    return member


def read_list(key: str, t: Table) -> MailingList:
    addresses = tuple(address(t, "addresses", a) for a in t.strings("addresses"))
    result = MailingList(
        key=key, name=t.text("name", key), addresses=addresses, kind=t.choice("kind", LIST_KINDS, "list")
    )
    t.finish()
    return result
