"""Configuration errors name the file and the key and exit 2 (must show 5)."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from mailproc.config import load
from mailproc.errors import ConfigError
from tests.support.workspace import make_workspace


def test_defaults_load(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    settings = load(ws.config)
    assert settings.group.reference_prefix == "IFG"
    assert settings.intake.source == "maildir"
    assert settings.group.timezone.key == "Europe/London"
    assert "prescribing" in settings.areas


def test_misspelt_key_exits_2_naming_key_and_file(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, intake={"max_mesage_bytes": 100})
    proc = ws.cli("poll", check=False)
    assert proc.returncode == 2
    assert "intake.max_mesage_bytes" in proc.stderr
    assert str(ws.config) in proc.stderr
    assert "max_message_bytes" in proc.stderr  # the suggestion


def test_missing_password_variable_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILPROC_IMAP_PASSWORD", raising=False)
    ws = make_workspace(
        tmp_path, intake={"source": "imap"}, intake__imap={"username": "u", "security": "none"}
    )
    proc = ws.cli("poll", check=False)
    assert proc.returncode == 2
    assert "intake.imap.password_env" in proc.stderr
    assert "MAILPROC_IMAP_PASSWORD" in proc.stderr


@pytest.mark.parametrize(
    ("table", "values", "key"),
    [
        ("intake", {"source": "pop3"}, "intake.source"),
        ("intake", {"max_message_bytes": "big"}, "intake.max_message_bytes"),
        ("group", {"reference_prefix": "ifg"}, "group.reference_prefix"),
        ("group", {"timezone": "Mars/Olympus"}, "group.timezone"),
        ("triage", {"admins": ["not-an-address"]}, "triage.admins"),
        ("distribution", {"outcomes": ["nosuchlist"]}, "distribution.outcomes"),
        ("distribution", {"agendas": ["nosuchlist"]}, "distribution.agendas"),
        ("distribution", {"minutes": ["nosuchlist"]}, "distribution.minutes"),
        ("meetings", {"time": "2pm"}, "meetings.time"),
        ("meetings", {"time": "24:00"}, "meetings.time"),
        ("meetings", {"length_minutes": 0}, "meetings.length_minutes"),
        ("meetings", {"locaton": "Room 1"}, "meetings.locaton"),
        ("triage", {"waiting_days": 0}, "triage.waiting_days"),
        ("outbound__smtp", {"security": "tls"}, "outbound.smtp.security"),
        ("intake", {"message_budget_seconds": -1}, "intake.message_budget_seconds"),
        ("intake", {"batch_size": 0}, "intake.batch_size"),
        ("intake", {"batch_size": 1001}, "intake.batch_size"),
        ("intake__imap", {"fetch_bytes": 100}, "intake.imap.fetch_bytes"),
        ("triage", {"requests_per_sender_per_day": -1}, "triage.requests_per_sender_per_day"),
        ("outbound", {"claim_lease_seconds": 5}, "outbound.claim_lease_seconds"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, table: str, values: dict[str, object], key: str) -> None:
    ws = make_workspace(tmp_path, **{table: values})
    with pytest.raises(ConfigError) as info:
        load(ws.config)
    assert info.value.key == key
    assert info.value.exit_code == 2


def test_a_lease_shorter_than_the_smtp_timeout_is_refused(tmp_path: Path) -> None:
    outbound = {"transport": "smtp", "claim_lease_seconds": 60}
    ws = make_workspace(tmp_path, outbound=outbound, outbound__smtp={"timeout": 120})
    with pytest.raises(ConfigError, match=r"at least outbound\.smtp\.timeout") as info:
        load(ws.config)
    assert info.value.key == "outbound.claim_lease_seconds"


def test_missing_secret_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILPROC_SECRET")
    with pytest.raises(ConfigError) as info:
        load(make_workspace(tmp_path).config)
    assert info.value.key == "triage.secret_env"


def test_unknown_table_is_an_error(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, outbund={"transport": "smtp"})
    with pytest.raises(ConfigError) as info:
        load(ws.config)
    assert info.value.key == "outbund"
    assert "outbound" in str(info.value)


def test_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).parent.parent / "config.example.toml"
    settings = load(example)
    assert settings.escalation is not None
    assert settings.groups["prescribing"].contact == ("prescribing.lead@example.nhs.scot",)


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, db_url="postgresql+psycopg://postgres@127.0.0.1:9/none")
    proc = ws.cli("issues", "list", check=False)
    assert proc.returncode == 1
    assert "database.url" in proc.stderr and "Traceback" not in proc.stderr


def test_meetings_defaults_and_agenda_lists(tmp_path: Path) -> None:
    plain = load(make_workspace(tmp_path / "a").config)
    assert (plain.meetings.time, plain.meetings.length_minutes, plain.meetings.location) == (
        time(14, 0),
        90,
        "",
    )
    assert plain.distribution["agendas"] == ()
    ws = make_workspace(
        tmp_path / "b",
        meetings={"time": "09:30", "length_minutes": 120, "location": "Board Room"},
        distribution={"agendas": ["members", "cmg"]},
    )
    settings = load(ws.config)
    assert (settings.meetings.time, settings.meetings.length_minutes) == (time(9, 30), 120)
    assert settings.meetings.location == "Board Room"
    assert settings.distribution["agendas"] == ("members", "cmg")
