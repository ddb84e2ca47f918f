"""Which earlier subjects are similar to a new one: difflib's ratio, with a cheap exact bound.

`SequenceMatcher.ratio()` is 2·M/T, where M counts the characters of its matching blocks.
Those blocks run in order through both strings, so they form a common subsequence: M is at
most the longest common subsequence (LCS). The LCS, computed bit-parallel over the new
subject, is an order of magnitude cheaper than `ratio()`, so a candidate whose LCS bound is
already below the threshold is ruled out without it, and the result is exactly that of
`real_quick_ratio`, `quick_ratio` and `ratio` in turn. Pure: no database.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable

THRESHOLD = 0.6


def similar_ids(
    subject: str, candidates: Iterable[tuple[int, str]], limit: int, exclude: set[int]
) -> list[int]:
    """Ids of the candidates (in the order given) whose subject is similar, at most `limit`."""
    target = subject.lower()
    masks = _positions(target)
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(target)
    found: list[int] = []
    for other_id, other_subject in candidates:
        if other_id in exclude:
            continue
        other = _lowered(other_subject)
        total = len(other) + len(target)
        if total and 2.0 * lcs_length(other, masks, len(target)) / total < THRESHOLD:
            continue  # ratio() <= this bound: ruled out without computing it
        matcher.set_seq1(other)
        if (
            matcher.real_quick_ratio() >= THRESHOLD
            and matcher.quick_ratio() >= THRESHOLD
            and matcher.ratio() >= THRESHOLD
        ):
            found.append(other_id)
            if len(found) >= limit:
                break
    return found


def lcs_length(a: str, masks: dict[str, int], b_length: int) -> int:
    """Length of the longest common subsequence of `a` and the string `masks` describes
    (bit-parallel: one pass over `a`, a few integer operations per character)."""
    full = (1 << b_length) - 1
    row = full
    for ch in a:
        u = row & masks.get(ch, 0)
        row = ((row + u) | (row - u)) & full
    return b_length - row.bit_count()


def _positions(b: str) -> dict[str, int]:
    """For each character of `b`, the bit set of the positions where it occurs."""
    masks: dict[str, int] = {}
    for i, ch in enumerate(b):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    return masks


@functools.lru_cache(maxsize=4096)
def _lowered(subject: str) -> str:
    """Candidate subjects recur from message to message: normalised once each."""
    return subject.lower()
