"""Suggested interface area and submission source from configurable words."""

from __future__ import annotations

import random

import pytest

from mailproc.config.settings import DEFAULT_AREAS, DEFAULT_SOURCE_KINDS
from mailproc.intake.suggest import _best, suggest
from tests.support.suggest_reference import best_by_searches


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


# Phrases that share a start, overlap each other or themselves, repeat, differ only in case,
# or begin and end with punctuation: the one-pattern matcher must count them all as one
# search per phrase did.
TRICKY: dict[str, tuple[str, ...]] = {
    "event": ("significant event", "significant event analysis", "event"),
    "health": ("health inequalities", "inequalities", "Inequalities"),
    "echo": ("no no", "no", "a a", "a"),
    "marks": ("c++", "x-ray", ".net", "a.b"),
    "empty": (),
}
CASES = [
    "Significant event analysis of a significant event",
    "health inequalities and INEQUALITIES",
    "no no no no",
    "a a a a",
    "nono no",
    "C++ and .NET via x-ray; a.b.c, xa.b",
    "significant eventual event",
    "İnequalities in İstanbul",  # lowering changes the length of the text
    "",
    "event_s events event.",
]


@pytest.mark.parametrize("text", CASES)
def test_one_pattern_counts_as_one_search_per_phrase(text: str) -> None:
    for table in (TRICKY, DEFAULT_AREAS, DEFAULT_SOURCE_KINDS, {"first": ("alpha",), "second": ("beta",)}):
        assert _best(text.lower(), table) == best_by_searches(text, table), (text, table)


def test_scores_match_one_search_per_phrase_on_random_text() -> None:
    rng = random.Random(12)
    words = ["no", "event", "significant", "inequalities", "health", "x-ray", "C++", "a.b", "_", " ", "  "]
    for _ in range(2000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        table = {"first": ("no", "health"), **TRICKY, "last": ("event", "x-ray")}
        assert _best(text.lower(), table) == best_by_searches(text, table), text
