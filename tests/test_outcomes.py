"""Outcomes routed by the issue's area (issue 9, must show 1's outcome part).

CLOSE sends the outcome to the submitter and to the lists of `[distribution.by_area]` for the
issue's area (else `distribution.outcomes`): one message per recipient, with a List-Id naming
the list, and an address on several lists gets one copy. Through the real IMAP and SMTP servers.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mailproc.config import load
from mailproc.errors import ConfigError
from tests.support.mail import ADMIN, read_email
from tests.support.triagedesk import Desk, DeskFactory, apple_mail, read, recipients, submission
from tests.support.workspace import make_workspace

SUBMITTERS = ("clinician1@practice.example.nhs.scot", "clinician2@practice.example.nhs.scot")
GP = "gp-subgroup@example.nhs.scot"
SHARED = "shared.lead@example.nhs.scot"  # on both prescribing lists
MDG = ("mdg@example.nhs.scot", SHARED)
CMG = ("cmg@example.nhs.scot", "cmg2@example.nhs.scot")
ROUTED: dict[str, Any] = {
    "lists__gp-subgroup": {"addresses": [GP, SHARED]},
    "lists__mdg": {"name": "Medical Directors Group", "addresses": list(MDG)},
    "distribution__by_area": {"prescribing": ["gp-subgroup", "mdg"]},
}


def _close(desk: Desk, ref: str, words: str) -> None:
    desk.deliver(apple_mail(desk.request(ref), words, seed=ref))


def test_outcomes_go_once_to_each_submitter_and_each_address_of_the_areas_lists(
    new_desk: DeskFactory,
) -> None:
    desk = new_desk(**ROUTED)
    prescribing, other = desk.submit(submission(1), submission(2))
    _close(desk, prescribing, "ACCEPT prescribing\nCLOSE Pharmacy sends the list with every letter.")
    _close(desk, other, "ACCEPT discharge\nCLOSE The ward now phones the practice.")
    sent = desk.poll() + desk.past_hold()

    by_outcome = {
        ref: [m for m in sent if f"[{ref}] Outcome" in read(m).subject] for ref in (prescribing, other)
    }
    # Prescribing: its two lists (the shared address once); discharge: distribution.outcomes.
    assert recipients(by_outcome[prescribing]) == Counter(dict.fromkeys((SUBMITTERS[0], GP, *MDG), 1))
    assert recipients(by_outcome[other]) == Counter(dict.fromkeys((SUBMITTERS[1], GP, SHARED, *CMG), 1))
    for ref, messages in by_outcome.items():
        for message in messages:
            [rcpt] = message.rcpt_tos  # one message per recipient: nobody sees the others
            parsed = read_email(message.data)
            assert str(parsed["To"]) == rcpt, ref
            list_id = parsed["List-Id"]
            if rcpt in SUBMITTERS:
                assert list_id is None  # the submitter's own copy is no list mail
            else:
                assert str(list_id).endswith(".example.nhs.scot>"), list_id
    headers = {
        m.rcpt_tos[0]: str(read_email(m.data)["List-Id"])
        for m in by_outcome[prescribing]
        if m.rcpt_tos[0] not in SUBMITTERS
    }
    assert headers[GP] == "GP Sub-group <gp-subgroup.example.nhs.scot>"
    assert headers[SHARED] == "GP Sub-group <gp-subgroup.example.nhs.scot>"  # its first list
    assert headers[MDG[0]] == "Medical Directors Group <mdg.example.nhs.scot>"
    # Delivery state per recipient: every outbox row has one recipient, all sent.
    outcome_rows = [to for template, to in desk.queued() if template == "outcome"]
    assert all(len(to) == 1 for to in outcome_rows) and len(outcome_rows) == 4 + 5
    assert ADMIN in recipients(sent)  # the confirmations


@pytest.mark.parametrize(
    ("by_area", "key", "problem"),
    [
        ({"prescribing": ["nosuchlist"]}, "distribution.by_area.prescribing", "unknown list 'nosuchlist'"),
        ({"dermatology": ["gp-subgroup"]}, "distribution.by_area.dermatology", "unknown area 'dermatology'"),
        ({"prescribing": "gp-subgroup"}, "distribution.by_area.prescribing", "a list of strings"),
    ],
)
def test_by_area_errors_name_the_key(tmp_path: Path, by_area: dict[str, Any], key: str, problem: str) -> None:
    ws = make_workspace(tmp_path, distribution__by_area=by_area)
    with pytest.raises(ConfigError) as info:
        load(ws.config)
    assert key in str(info.value) and problem in str(info.value)


def test_by_area_loads(tmp_path: Path) -> None:
    ws = make_workspace(
        tmp_path, lists__mdg={"addresses": list(MDG)}, **{"distribution__by_area": {"it": []}}
    )
    settings = load(ws.config)
    assert settings.outcomes_by_area == {"it": ()}
