"""Reading one line of a reply: invisible characters, keywords in capitals, capitalised
words that are not keywords, sign-offs. Pure."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mailproc.triage.grammar.arguments import KEYWORDS, SPECS

# Mail clients (Outlook especially) insert characters the writer never sees; a keyword must
# still be recognised when they sit next to it.
_INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"
_ODD_SPACES = "\xa0\u2007\u202f"
_CLEAN_TABLE: dict[int, str | None] = {
    **{ord(c): None for c in _INVISIBLE},
    **{ord(c): " " for c in _ODD_SPACES},
}
# CAPITALS only, ASCII only: "Close the loop" is prose, and str.upper() maps some non-ASCII
# letters ("ı", "ﬁ") onto ASCII ones, while a keyword must be exactly what the user typed.
_KEYWORD_LINE = re.compile(r"([A-Z]+)(?=[\s:]|$)\s*:?\s*(.*)", re.DOTALL)
_CAPITAL_WORD = re.compile(r"[A-Z]{2,}")
KEYWORD_LIST = "Valid keywords (in CAPITALS at the start of a line): " + ", ".join(KEYWORDS) + "."
# Capitalised words that start ordinary sentences in this domain; on a continuation line they
# are text, not misspelt keywords.
# fmt: off
COMMON_CAPITALS: frozenset[str] = frozenset({
    "GP", "GPS", "CHI", "NHS", "IDL", "AE", "ED", "OOH", "HSCP", "HSCPS", "MDT", "CMG", "MDG", "ICU",
    "HDU", "AMU", "ENT", "TTO", "TTA", "OPD", "SOP", "SOPS", "DNACPR", "ECS", "KIS", "SCI", "SCIG",
    "EMIS", "VISION", "TRAK", "NB", "PS", "FYI", "ASAP", "OK", "UK", "IT", "ANP", "ANPS", "PCT",
    "SAS", "NHS24", "CT", "MRI", "ECG", "INR", "DOAC", "DOACS", "COPD", "CKD", "UTI", "CAMHS",
    "RE", "AKA", "ETA", "TBC", "IV", "PRN", "BNF", "SIGN", "NICE", "HIS", "PHS", "NES", "NSS",
})
# fmt: on
_SIGNOFF = re.compile(
    r"(?:(?:many|kind|best|warm|with)\s+)?(?:thanks|thank\s+you|regards|wishes|cheers|best|ta)\b.{0,40}",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?:[A-Z][\w'.-]*)(?:\s+[A-Z][\w'.-]*){0,2}(?<![.!?])")


@dataclass(frozen=True)
class Line:
    no: int
    raw: str
    clean: str


def clean(line: str) -> str:
    return line.translate(_CLEAN_TABLE).strip()


class CommandError(ValueError):
    """A reply or CLI command that cannot be executed; `str()` tells the user what to change."""

    def __init__(self, line_no: int | None, line: str, reason: str, valid: str) -> None:
        self.line_no = line_no
        self.line = line
        self.reason = reason
        self.valid = valid
        super().__init__(_sentence(line_no, line, reason, valid))


def _sentence(line_no: int | None, line: str, reason: str, valid: str) -> str:
    shown = clean(line)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    where = f"Line {line_no}" if line_no is not None else ""
    if shown:
        where = f'{where} ("{shown}")' if where else f'"{shown}"'
    message = f"{where}: {reason}." if where else f"{reason[:1].upper()}{reason[1:]}."
    return f"{message} {valid}".strip()


def keyword_of(cleaned: str) -> tuple[str, str] | None:
    """(keyword, what follows it) when the line starts with a keyword in capitals."""
    match = _KEYWORD_LINE.match(cleaned)
    if match and match[1] in KEYWORDS:
        return match[1], match[2].strip()
    return None


def _first_word(cleaned: str) -> tuple[str, str]:
    """The first word as typed, and stripped of punctuation and plain-text emphasis."""
    typed = re.split(r"[\s:]", cleaned, maxsplit=1)[0]
    return typed, typed.strip("*_").rstrip(".,;:!?")


def _suggest(word: str) -> str:
    close = difflib.get_close_matches(word.upper(), KEYWORDS, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def reject_capitalised(line: Line, allow_common: bool) -> None:
    """Raise CommandError when the line's first word is in capitals but is not a keyword:
    it is almost certainly a misspelt command, and running the rest without it could do the
    wrong thing. Common capitalised words (GP, CHI ...) may start a line of text."""
    typed, word = _first_word(line.clean)
    if not _CAPITAL_WORD.fullmatch(word) or (allow_common and word in COMMON_CAPITALS):
        return
    if word in KEYWORDS:
        reason = f'"{typed}" has extra characters around the keyword {word}'
        valid = f"Write {word} followed by a space or a colon. Expected: {SPECS[word][0]}."
    else:
        reason = f'"{typed}" is not a keyword{_suggest(word)}'
        valid = KEYWORD_LIST + " Start ordinary text with a word that is not all capitals."
    raise CommandError(line.no, line.raw, reason, valid)


def no_command(line: Line) -> CommandError:
    _, word = _first_word(line.clean)
    return CommandError(
        line.no,
        line.raw,
        f"no command found: the first line must begin with a keyword in CAPITALS{_suggest(word)}",
        KEYWORD_LIST + " Nothing was applied and nothing was sent.",
    )


def signoff_start(more: Sequence[str]) -> int | None:
    """Where a closing sign-off paragraph starts in a command's further lines, if it ends them:
    after a blank line, at most three short lines, opening with "Thanks"/"Regards"... or a
    lone name ("Jane", "Dr A Example")."""
    end = len(more)
    while end and not more[end - 1]:
        end -= 1
    start = end
    while start and more[start - 1]:
        start -= 1
    if start == 0 or not 0 < end - start <= 3:
        return None  # no blank line above it: the text's own last paragraph
    lines = more[start:end]
    if any(len(line) > 40 for line in lines):
        return None
    if _SIGNOFF.fullmatch(lines[0]) or (len(lines) == 1 and _NAME.fullmatch(lines[0])):
        return start - 1
    return None
