"""Issue 14's configuration: `[group]` facts, member sector and seniority, networks and the
announcement lists. Errors name the key and the file, as every configuration error does."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from mailproc.config import load
from mailproc.errors import ConfigError
from mailproc.outbound.catalogue import announcement_recipients, awareness
from tests.support.workspace import make_workspace


@pytest.mark.parametrize(
    ("table", "values", "key"),
    [
        ("group", {"established": "April 2024"}, "group.established"),
        ("group", {"established": "2024-13"}, "group.established"),
        ("group", {"board": 3}, "group.board"),
        ("group", {"register_url": "intranet/interface-group"}, "group.register_url"),
        ("group", {"terms_of_reference": "missing-terms.md"}, "group.terms_of_reference"),
        ("distribution", {"announcements": ["nosuchlist"]}, "distribution.announcements"),
        ("lists.cmg", {"kind": "forum"}, "lists.cmg.kind"),
    ],
)
def test_bad_values_name_the_key_and_file(
    tmp_path: Path, table: str, values: dict[str, object], key: str
) -> None:
    ws = make_workspace(tmp_path, **{table: values})
    with pytest.raises(ConfigError) as info:
        load(ws.config)
    assert info.value.key == key
    assert str(ws.config) in str(info.value)


@pytest.mark.parametrize(
    ("line", "key"), [('sector = "hospital"', "members[1].sector"), ('senior = "yes"', "members[1].senior")]
)
def test_bad_member_values_name_the_entry(tmp_path: Path, line: str, key: str) -> None:
    ws = make_workspace(tmp_path)
    # make_workspace merges tables, not arrays of tables: a second member is appended as TOML.
    ws.config.write_text(ws.config.read_text() + f'\n[[members]]\nname = "Dr X"\n{line}\n')
    with pytest.raises(ConfigError) as info:
        load(ws.config)
    assert info.value.key == key
    assert "primary, secondary, board, other" in str(info.value) or "true or false" in str(info.value)


def test_the_new_keys_load_and_default(tmp_path: Path) -> None:
    plain = load(make_workspace(tmp_path / "a").config)
    assert (plain.group.board, plain.group.established, plain.group.terms_of_reference) == ("", None, "")
    assert (plain.members[0].sector, plain.members[0].senior) == ("other", False)
    assert plain.lists["cmg"].kind == "list" and plain.distribution["announcements"] == ()

    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "terms.md").write_text("Our vision.\n\nSecond paragraph.\n", encoding="utf-8")
    ws = make_workspace(
        tmp_path / "b",
        group={"board": "NHS Example", "established": "2023-04", "terms_of_reference": "terms.md"},
        **{"lists.cmg": {"kind": "network"}},
        distribution={"announcements": ["members", "gp-subgroup"]},
    )
    s = load(ws.config)
    assert s.group.established == date(2023, 4, 1)
    assert s.group.terms_of_reference == "Our vision.\n\nSecond paragraph."
    # members, the list, then the network; cmg2 once although nothing else lists it
    assert announcement_recipients(s) == (
        "a.example@example.nhs.scot", "gp-subgroup@example.nhs.scot", "cmg@example.nhs.scot",
        "cmg2@example.nhs.scot",
    )  # fmt: skip
    assert awareness(s).networks == ("Clinical Management Group",)
    assert awareness(s).established == "April 2023"
