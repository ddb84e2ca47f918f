"""Reply trimming: the new text of an email reply, without the quoted original or signatures.

Clinicians reply from Outlook (desktop and mobile), Gmail, Apple Mail, Thunderbird and others,
in English and in other languages. Each client marks the start of the quoted original in its
own way; this module recognises those marks line by line:

* ``>`` quote lines, with the attribution above them ("On <date>, <name> wrote:", possibly
  wrapped over several lines, and its German, French, Spanish, Dutch, ... forms);
* Outlook header blocks ("From: ... Sent: ... To: ... Subject: ..." and translations), the
  "-----Original Message-----" and forwarded-message separators, and underscore rules;
* signatures: the "-- " delimiter and the lines mobile clients add ("Sent from my iPhone",
  "Get Outlook for iOS", ...).

Everything from the first hard boundary (header block, separator, signature, an underscore
rule above quoted headers or a short footer, or an attribution followed by unquoted original
text) is dropped. Before it, ``>`` lines and their
attributions are dropped but the other lines are kept, so inline answers written between
quoted paragraphs survive. A forward or header block at the very top is the sender's content
and is kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["split_reply", "visible_reply"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_QUOTE = re.compile(r"\s*>")

# Attribution lines. The verb ends the line in most languages; German, Dutch and Norwegian
# put it second ("Am 3. Mai schrieb X <x@y>:"), so for those anything may follow it.
_VERB_LAST = (
    r"wrote|writes|a\s+écrit|escribió|escribio|escreveu|skrev|napisał(?:\(a\))?|napisala"
    r"|написал[аи]?|пише|ha\s+scritto|scrisse|kirjoitti|geschreven|schrieb|schreef"
)
_ATTRIBUTION = re.compile(
    rf"(?:(?:^|[\s\"'>)\]])(?:{_VERB_LAST})(?:\s*[:：][\s-]*|\s+-{{2,}}\s*)"
    r"|\b(?:schrieb|schreef|skrev)\b.{1,150}[:：]\s*"
    r"|(?:写道|寫道)[:：]?\s*"
    # No verb at all (mail.ru, Yandex): a time, then the sender's address and a colon.
    r"|\d{1,2}:\d{2}\b.{0,200}<[^<>\s@]+@[^<>\s]+>\s*[:：]\s*)$",
    re.IGNORECASE,
)
# A real attribution carries a date or an address; this keeps "... as I wrote:" in prose.
_DATE_OR_ADDRESS = re.compile(r"\d|@")
# How an attribution starts, used to find its first line when it is wrapped.
_OPENER = re.compile(r"\s*(?:-{2,}\s*)?(?:(?:On|Am|Le|El|Op|Em|Den|Dnia|W dniu|Il|Na|Dne)\s|At\s+\d|\d)")
# Gmail's older forms give only a date and the sender: "2016-03-03 17:21 GMT+01:00 Name <a@b>:".
_DATED_SENDER = re.compile(
    r"\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s+"
    r"(?:\d{1,2}:\d{2}\s+GMT[+-]\d{1,2}:?\d{2}\s+\S.*|[^<>\n]{1,80}<[^<>@\s]+@[^<>\s]+>:?\s*)$"
)
# A wrapped attribution's last line can look like a quote: "<a@b.org\n>:" or "...\n> wrote:".
_WRAPPED_TAIL = re.compile(rf"\s*>\s*(?:(?:{_VERB_LAST})\s*)?[:：]\s*$", re.IGNORECASE)
_ATTRIBUTION_SPAN = 6  # lines an attribution may be wrapped over (blank lines included)
_ATTRIBUTION_CHARS = 400  # longer windows are prose, and capping them keeps matching linear

_HEADER_FROM = re.compile(
    r"\s*(?:\*\s*)?(?:from|de|von|van|da|från|fra|od|от|lähettäjä|feladó|afzender)\s*(?:\*\s*)?:"
    r"\s*(?:\*\s*)?\S",
    re.IGNORECASE,
)
_HEADER_FIELD = re.compile(
    r"\s*(?:\*\s*)?(?:sent|date|to|cc|bcc|subject|reply-to|envoyé|à|objet|gesendet|datum|an"
    r"|betreff|enviado|fecha|para|asunto|verzonden|verstuurd|aan|onderwerp|data|a|oggetto"
    r"|inviato|risposta|skickat|till|ämne|sendt|til|emne|wysłano|do|temat|отправлено|кому"
    r"|тема|assunto|kopie)\s*(?:\*\s*)?:",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"\s*(?:[*_]+\s*)?-{2,}\s*(?:original\s+message|forwarded\s+message"
    r"|ursprüngliche\s+nachricht|weitergeleitete\s+nachricht|message\s+d'origine"
    r"|message\s+transféré|mensaje\s+original|mensaje\s+reenviado"
    r"|oorspronkelijk\s+bericht|doorgestuurd\s+bericht|messaggio\s+originale"
    r"|messaggio\s+inoltrato|opprinnelig\s+melding|ursprungligt\s+meddelande"
    r"|oprindelig\s+meddelelse|mensagem\s+original|mensagem\s+encaminhada)"
    r"\s*-{2,}\s*(?:[*_]+\s*)?$"
    r"|\s*(?:begin\s+forwarded\s+message|début\s+du\s+message\s+réexpédié"
    r"|anfang\s+der\s+weitergeleiteten\s+nachricht)\s*:\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"\s*_{5,}\s*$")
_MARKER_CHARS = 200  # longest line still taken for a signature, separator or header line
_FOOTER_LINES = 6  # a mailing-list footer or a signature under a rule is this short
_SIG_DELIMITER = re.compile(r"--\s*$")
_MOBILE_SIGNATURE = re.compile(
    r"\s*(?:sent\s+from\s+my\s[^,;:!?\n]{1,60}"
    r"|sent\s+(?:from|with|via|using)\s(?:[^,;!?\n]{0,40}\b)?(?:outlook|mail|iphone|ipad"
    r"|android|blackberry|samsung|galaxy|mobile|phone|airmail|sparrow|mailbox|yahoo|gmail"
    r"|aol|proton\w*|windows)\b.{0,80}"
    r"|get\s+outlook\s+for\s.{1,80}"
    r"|envoyé\s+(?:de|depuis)\s+mon\s.{1,60}"
    r"|enviado\s+(?:desde|de|do)\s+(?:mi|meu)\s.{1,60}"
    r"|inviato\s+da(?:l\s+mio)?\s.{1,60}"
    r"|verzonden\s+(?:met|vanaf|van)\s.{1,60}"
    r"|(?:diese\s+nachricht\s+wurde\s+)?von\s+meinem\s.{1,60}\sgesendet\.?"
    r"|gesendet\s+von\s+meinem\s.{1,60}"
    r"|sendt\s+fra\s+min\s.{1,60}|skickat\s+från\s+min\s.{1,60}"
    r"|wysłane\s+z\s.{1,60})\s*$",
    re.IGNORECASE,
)
# A "-Name" sign-off at the very end of the reply: a hyphen, then one to three words.
_DASH_SIGNOFF = re.compile(r"\s*-([^\W\d_][\w.'’-]*(?:\s+[^\W\d_][\w.'’-]*){0,2})\s*$")
# A letter or digit, not counting the "ᐧ" that Gmail tracking add-ons leave on a line of its own.
_WORD_CHAR = re.compile(r"[^\W_\u1427]")


def visible_reply(text: str) -> str:
    """Return the new text of a reply: quoted original and signatures removed.

    Lines are returned as they appear in ``text`` (line endings normalised to ``\\n``), with
    blank lines at either end removed; where quoted paragraphs were dropped from between kept
    lines, a single blank line stands in for them. Returns ``""`` when nothing new is left.
    """
    return split_reply(text)[0]


def split_reply(text: str) -> tuple[str, str]:
    """Split a reply into ``(visible, rest)``.

    ``visible`` is what :func:`visible_reply` returns; ``rest`` holds every other line of
    ``text`` (quotes, attributions, headers, signatures), in order, so that between them the
    two cover every non-blank line of the input. Callers that must act only on what the sender
    wrote (triage commands) read ``visible``; ``rest`` shows what was set aside.
    """
    lines = _LINE_BREAK.split(text)
    keep = _keep_mask(lines)
    _drop_trailing_noise(lines, keep)
    rest = [line for line, kept in zip(lines, keep, strict=True) if not kept]
    return _assemble(lines, keep), "\n".join(_strip_blank_ends(rest))


def _is_blank(line: str) -> bool:
    return not line.strip()


def _has_words(line: str) -> bool:
    return _WORD_CHAR.search(line) is not None


def _keep_mask(lines: Sequence[str]) -> list[bool]:
    """Decide line by line what the sender wrote (True) and what was quoted or appended."""
    keep = [True] * len(lines)
    attributions = _find_attributions(lines)
    seen_content = False
    i = 0
    while i < len(lines):
        line = lines[i]
        end = attributions.get(i)
        if end is not None:
            if seen_content and not _quote_follows(lines, end + 1):
                return _cut(keep, i)
            # Above a '>' quote, or heading an inline answer: drop it and go on.
            keep[i : end + 1] = [False] * (end + 1 - i)
            i = end + 1
            continue
        if _QUOTE.match(line):
            keep[i] = False
            i += 1
            continue
        marker = _marker(lines, i)
        if marker == "signature":
            return _cut(keep, i)
        if marker == "header":
            # At the top this is a forward or an empty Outlook reply: the sender's content.
            return _cut(keep, i) if seen_content else keep
        if marker == "rule" and seen_content and _rule_ends_reply(lines, i):
            return _cut(keep, i)
        if _has_words(line):
            seen_content = True
        i += 1
    return keep


def _marker(lines: Sequence[str], i: int) -> str | None:
    """Classify a line that may end the reply: "signature", "header", "rule" or None."""
    line = lines[i]
    if len(line) > _MARKER_CHARS:  # markers are short; the cap also bounds regex work
        return None
    if _MOBILE_SIGNATURE.match(line) or _SIG_DELIMITER.match(line):
        return "signature"
    if _SEPARATOR.match(line) or _is_header_block(lines, i):
        return "header"
    return "rule" if _RULE.match(line) else None


def _cut(keep: list[bool], at: int) -> list[bool]:
    keep[at:] = [False] * (len(keep) - at)
    return keep


def _quote_follows(lines: Sequence[str], start: int) -> bool:
    for n in range(start, len(lines)):
        if not _is_blank(lines[n]):
            return bool(_QUOTE.match(lines[n]))
    return False


def _rule_ends_reply(lines: Sequence[str], i: int) -> bool:
    """An underscore rule ends the reply when a header block or a short footer follows it.

    Outlook draws one above the quoted headers, list servers above their footer; a rule with a
    long text after it is more likely a separator inside the sender's own message.
    """
    following = [n for n in range(i + 1, min(i + 4, len(lines))) if not _is_blank(lines[n])]
    if following and _is_header_block(lines, following[0]):
        return True
    count = 0
    for n in range(i + 1, len(lines)):
        count += not _is_blank(lines[n])
        if count > _FOOTER_LINES:  # stop early: a text full of rules must stay linear
            return False
    return True


def _is_header_block(lines: Sequence[str], i: int) -> bool:
    """Header lines from line ``i`` on: three or more, one of them "From:", no blank between.

    Outlook puts "From:" first; Hotmail starts with "Date:", so any field may open the block.
    """
    if not (_HEADER_FROM.match(lines[i]) or _HEADER_FIELD.match(lines[i])):
        return False
    has_from, fields = False, 0
    for line in lines[i : i + 8]:
        if _is_blank(line):
            return False
        # The field name is at the start; recipient lists can be long, so look at that only.
        head = line[:_MARKER_CHARS]
        if _HEADER_FROM.match(head):
            has_from, fields = True, fields + 1
        elif _HEADER_FIELD.match(head):
            fields += 1
        if has_from and fields >= 3:
            return True
    return False


def _find_attributions(lines: Sequence[str]) -> dict[int, int]:
    """Map the first line of each attribution to its last line."""
    found: dict[int, int] = {}
    last_end = -1
    for j, line in enumerate(lines):
        if j <= last_end:
            continue
        if len(line) <= _ATTRIBUTION_CHARS and _DATED_SENDER.match(line):
            end = _dated_sender_end(lines, j)
            found[j], last_end = end, end
            continue
        stripped = line.rstrip()
        if len(stripped) > _ATTRIBUTION_CHARS or not stripped.endswith((":", "：", "-", "道")):
            continue
        start = _attribution_start(lines, j, last_end + 1)
        if start is not None:
            found[start], last_end = j, j
    return found


def _dated_sender_end(lines: Sequence[str], start: int) -> int:
    # The sender's address may wrap onto the next line or two; the colon closes it.
    for j in range(start, min(start + 3, len(lines))):
        if lines[j].rstrip().endswith(":"):
            return j
    return start


def _attribution_start(lines: Sequence[str], end: int, floor: int) -> int | None:
    """Where the attribution ending on line ``end`` starts, or None if it is not one.

    Walks back over at most a few lines. The latest line that opens like an attribution
    ("On ...", "Am ...", a date) wins; without one, the shortest matching window does, and
    only within the paragraph (a blank line stops it).
    """
    if _QUOTE.match(lines[end]) and not _WRAPPED_TAIL.match(lines[end]):
        return None
    fallback: int | None = None
    crossed_blank = False
    for i in range(end, max(floor, end - _ATTRIBUTION_SPAN + 1) - 1, -1):
        if _is_blank(lines[i]):
            crossed_blank = True
            continue
        if i != end and _QUOTE.match(lines[i]):
            break
        window = " ".join(part.strip() for part in lines[i : end + 1] if part.strip())
        if len(window) > _ATTRIBUTION_CHARS:
            break
        if not (_ATTRIBUTION.search(window) and _DATE_OR_ADDRESS.search(window)):
            continue
        if _OPENER.match(lines[i]):
            return i
        if fallback is None and not crossed_blank:
            fallback = i
    return fallback


def _drop_trailing_noise(lines: Sequence[str], keep: list[bool]) -> None:
    """Unkeep blank, punctuation-only and "-Name" lines at the end of the reply."""
    signoff_seen = False
    for i in range(len(lines) - 1, -1, -1):
        if not keep[i]:
            continue
        if _has_words(lines[i]):
            if signoff_seen or not _is_dash_signoff(lines[i]):
                return
            signoff_seen = True
        keep[i] = False


def _is_dash_signoff(line: str) -> bool:
    # Names are capitalised; "-review the dose" is the last item of a list, not a sign-off.
    match = _DASH_SIGNOFF.match(line)
    return match is not None and all(word[0].isupper() for word in match.group(1).split())


def _strip_blank_ends(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and _is_blank(lines[start]):
        start += 1
    while end > start and _is_blank(lines[end - 1]):
        end -= 1
    return lines[start:end]


def _assemble(lines: Sequence[str], keep: Sequence[bool]) -> str:
    """Join the kept lines; one blank line stands in for each run of dropped lines."""
    out: list[str] = []
    gap = False
    for line, kept in zip(lines, keep, strict=True):
        if not kept:
            gap = True
            continue
        if gap:
            if _is_blank(line):
                continue
            while out and _is_blank(out[-1]):
                out.pop()
            if out:
                out.append("")
            gap = False
        out.append(line)
    return "\n".join(_strip_blank_ends(out))
