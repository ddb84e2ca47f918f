"""The related-subject search rules candidates out by an LCS bound, with difflib's results."""

from __future__ import annotations

import random

from mailproc.triage.similar import _positions, lcs_length, similar_ids
from tests.support.suggest_reference import lcs_by_table, similar_by_difflib

WORDS = [
    "discharge", "letter", "referral", "rejected", "blood", "result", "gp", "ward", "(case", "1)",
    "Überweisung", "–", "✓", "", "re:", "insulin", "dose", "a", "ab", "ba",
]  # fmt: skip


def _subject(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 7)))


def test_lcs_length_is_the_longest_common_subsequence() -> None:
    rng = random.Random(7)
    for _ in range(500):
        a = "".join(rng.choice("abcÜ ") for _ in range(rng.randint(0, 70)))
        b = "".join(rng.choice("abcÜ ") for _ in range(rng.randint(0, 70)))
        assert lcs_length(a, _positions(b), len(b)) == lcs_by_table(a, b), (a, b)


def test_same_ids_as_difflib_alone() -> None:
    rng = random.Random(12)
    hits = 0
    for _ in range(300):
        candidates = [(i, _subject(rng)) for i in range(60, 0, -1)]
        subject, limit = _subject(rng), rng.randint(1, 6)
        exclude = {i for i in range(1, 61) if rng.random() < 0.1}
        expected = similar_by_difflib(subject, candidates, limit, exclude)
        assert similar_ids(subject, candidates, limit, exclude) == expected, subject
        hits += len(expected)
    assert hits > 100  # the table exercises matches as well as misses
