"""The keyword scoring as it was before the one-pattern matcher: one search per phrase.

Kept as the oracle that tests/test_suggest.py compares the compiled matcher against."""

from __future__ import annotations

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
