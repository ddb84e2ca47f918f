"""The keyword scoring and related-subject search as they were before they were made cheaper.

Kept as the oracles that tests/test_suggest.py and tests/test_similar.py compare against."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping


def best_by_searches(text: str, table: Mapping[str, tuple[str, ...]]) -> str | None:
    """The key whose phrases occur most often, each phrase counted by its own search."""
    lowered = text.lower()
    scores = {
        key: sum(len(re.findall(rf"(?<!\w){re.escape(w.lower())}(?!\w)", lowered)) for w in words)
        for key, words in table.items()
    }
    best = max(scores.items(), key=lambda kv: kv[1], default=(None, 0))
    return best[0] if best[1] > 0 else None


def similar_by_difflib(
    subject: str, candidates: list[tuple[int, str]], limit: int, exclude: set[int]
) -> list[int]:
    """The related-subject search as it was before the LCS bound: difflib's three ratios."""
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(subject.lower())
    found = []
    for other_id, other in candidates:
        if other_id in exclude:
            continue
        matcher.set_seq1(other.lower())
        if matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6 and matcher.ratio() >= 0.6:
            found.append(other_id)
            if len(found) >= limit:
                break
    return found


def lcs_by_table(a: str, b: str) -> int:
    """The longest common subsequence by the textbook dynamic programme."""
    row = [0] * (len(b) + 1)
    for ch in a:
        diagonal = 0
        for j, other in enumerate(b, start=1):
            diagonal, row[j] = row[j], diagonal + 1 if ch == other else max(row[j], row[j - 1])
    return row[-1]
