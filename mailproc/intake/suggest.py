"""Which interface area and submission source a new issue probably belongs to (keywords from config)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Suggestion:
    area: str | None
    source_kind: str


def suggest(
    text: str, areas: Mapping[str, tuple[str, ...]], kinds: Mapping[str, tuple[str, ...]]
) -> Suggestion:
    """The interface area and submission source whose keywords occur most often."""
    lowered = text.lower()
    return Suggestion(area=_best(lowered, areas), source_kind=_best(lowered, kinds) or "clinician")


def _best(text: str, table: Mapping[str, tuple[str, ...]]) -> str | None:
    """The key whose words occur most often (whole words: "emis" must not match "premises")."""
    scores = {key: sum(len(_word(w).findall(text)) for w in words) for key, words in table.items()}
    best = max(scores.items(), key=lambda kv: kv[1], default=(None, 0))
    return best[0] if best[1] > 0 else None


@functools.lru_cache(maxsize=512)
def _word(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)")
