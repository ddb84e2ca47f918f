"""A subject for a submission that came without one: the first words of its text, redacted."""

from __future__ import annotations

from collections.abc import Sequence

from mailproc.privacy import detector

WORDS = 8
MAX_CHARS = 60
NONE = "(no subject)"


def fallback_subject(text: str, patterns: Sequence[detector.ExtraPattern] = ()) -> str:
    """The first few words of `text` after redaction (redacting first, so that a cut never
    leaves part of an identifier behind), or "(no subject)" for an empty text."""
    words = detector.redact(text, patterns).split()
    if not words:
        return NONE
    shown = " ".join(words[:WORDS])
    if len(shown) > MAX_CHARS:
        shown = shown[:MAX_CHARS].rsplit(" ", 1)[0]
    return shown + ("…" if shown != " ".join(words) else "")
