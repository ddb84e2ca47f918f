"""Which interface area and submission source a new issue probably belongs to (keywords from config).

Every phrase of a table is matched by one compiled pattern, built once per table: a
zero-width look-ahead at each word start, so that phrases which overlap ("health
inequalities" and "inequalities") or share a start ("significant event" and "significant
event analysis") all count, exactly as one search per phrase would count them.
"""

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
    """The key whose words occur most often (whole words: "emis" must not match "premises");
    a tie goes to the key listed first."""
    scores = _matcher(tuple(table.items())).scores(text)
    best = max(scores.items(), key=lambda kv: kv[1], default=(None, 0))
    return best[0] if best[1] > 0 else None


@dataclass(frozen=True)
class _Matcher:
    keys: tuple[str, ...]
    pattern: re.Pattern[str] | None  # every ordinary phrase, longest first, in one alternation
    owners: dict[str, tuple[str, ...]]  # phrase -> the key of each listing of it
    shorter: dict[str, tuple[str, ...]]  # phrase -> the other phrases it begins with
    apart: tuple[tuple[str, re.Pattern[str]], ...]  # phrases that can overlap themselves

    def scores(self, text: str) -> dict[str, int]:
        scores = dict.fromkeys(self.keys, 0)
        if self.pattern is not None:
            for match in self.pattern.finditer(text):
                phrase = match.group(1)
                self._count(scores, phrase)
                for prefix in self.shorter[phrase]:  # they match here too, if a word ends there
                    if not _WORD.match(text, match.start() + len(prefix)):
                        self._count(scores, prefix)
        for phrase, pattern in self.apart:
            found = len(pattern.findall(text))
            for key in self.owners[phrase]:
                scores[key] += found
        return scores

    def _count(self, scores: dict[str, int], phrase: str) -> None:
        for key in self.owners[phrase]:
            scores[key] += 1


_WORD = re.compile(r"\w")


@functools.lru_cache(maxsize=64)
def _matcher(table: tuple[tuple[str, tuple[str, ...]], ...]) -> _Matcher:
    """The matcher for one table, built once (the settings hold a handful of tables)."""
    owners: dict[str, list[str]] = {}
    for key, words in table:
        for word in words:
            owners.setdefault(word.lower(), []).append(key)
    ordinary = sorted((p for p in owners if p and not _overlaps_itself(p)), key=len, reverse=True)
    apart = tuple((p, _whole(re.escape(p))) for p in owners if p not in ordinary)
    pattern = None
    if ordinary:
        pattern = re.compile(rf"(?<!\w)(?=({'|'.join(map(re.escape, ordinary))})(?!\w))")
    shorter = {p: tuple(q for q in ordinary if q != p and p.startswith(q)) for p in ordinary}
    return _Matcher(
        keys=tuple(key for key, _ in table),
        pattern=pattern,
        owners={p: tuple(keys) for p, keys in owners.items()},
        shorter=shorter,
        apart=apart,
    )


def _whole(escaped: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){escaped}(?!\w)")


def _overlaps_itself(phrase: str) -> bool:
    """Whether two whole-word occurrences could overlap ("no no" in "no no no"): such a phrase
    keeps its own search, whose non-overlapping count a count of positions would overstate.
    The second occurrence, k characters on, must start after a non-word character and the
    first must end before one."""
    n = len(phrase)
    return any(
        phrase[k:] == phrase[: n - k] and not _WORD.match(phrase[k - 1]) and not _WORD.match(phrase[n - k])
        for k in range(1, n)
    )
