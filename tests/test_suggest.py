"""Suggested interface area and submission source from configurable words."""

from __future__ import annotations

import pytest

from mailproc.config.settings import DEFAULT_AREAS, DEFAULT_SOURCE_KINDS
from mailproc.intake.suggest import suggest


@pytest.mark.parametrize(
    ("text", "area", "kind"),
    [
        ("Referral rejected via SCI Gateway", "referrals", "clinician"),
        ("Significant event analysis: insulin dose error at transfer", "prescribing", "sea"),
        ("Abnormal blood test result not followed up", "results", "clinician"),
        ("A complaint from a patient about their discharge letter", "discharge", "patient-feedback"),
        ("The premises were closed on Tuesday", None, "clinician"),  # "emis" is not in "premises"
        ("Nothing to see here", None, "clinician"),
    ],
)
def test_default_words(text: str, area: str | None, kind: str) -> None:
    found = suggest(text, DEFAULT_AREAS, DEFAULT_SOURCE_KINDS)
    assert (found.area, found.source_kind) == (area, kind)


def test_configured_words_and_ties() -> None:
    areas = {"first": ("alpha",), "second": ("beta",)}
    assert suggest("ALPHA beta", areas, {}).area == "first"  # a tie goes to the first listed
    assert suggest("beta beta alpha", areas, {}).area == "second"
    assert suggest("alphabet", areas, {}).area is None  # whole words only
