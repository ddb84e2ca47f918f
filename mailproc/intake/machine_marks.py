"""Machines that mark themselves only weakly: away notices known by their subject alone,
challenge-response anti-spam systems, and mail an upstream filter marked as spam.

Pure predicates for `classify.MACHINE_RULES` (same contract: None for "no", else a detail
string). Subjects are matched at their start only, and every pattern is linear (bounded
gaps, no nested quantifiers): a subject is untrusted input.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mailproc.vocabulary import SPAM_ROUTE

if TYPE_CHECKING:  # classify imports this module for its table
    from mailproc.intake.classify import ClassifyContext
    from mailproc.intake.inbound import Inbound

# Away notices whose whole mark is the subject. Lotus Notes/Domino: "AUTO: Jane Smith is out
# of the office (returning 02/03/2027)"; GroupWise, Zimbra and older Exchange: "Out of Office
# Reply", "Out Of Office AutoReply: …"; mobile clients: "[Auto-Reply] …", "Autoresponse";
# and the notices of European clients. A phrase that people also use in their own subjects
# ("Absence of discharge letters", "Out of office cover") counts only with a colon after it.
_AWAY_PHRASES = (
    # English
    r"out of (?:the )?office (?:auto[- ]?)?(?:reply|response|notification|message|notice)"
    r"|auto[- ]?(?:reply|response|responder|answer)|autoreply|autoresponse|automatic (?:reply|response)"
    r"|(?:i am|i'm) (?:currently )?(?:out of (?:the )?office|on (?:annual )?leave)"
    r"|away from (?:the|my) (?:office|desk)(?: notice)?"
    # German
    r"|abwesenheitsnotiz|automatische (?:antwort|abwesenheitsnotiz|rückantwort)|nicht im büro"
    r"|ich bin (?:nicht im büro|abwesend)"
    # French
    r"|réponse automatique|reponse automatique|message d'absence|absent(?:e)? du bureau"
    # Spanish
    r"|respuesta automática|respuesta automatica|fuera de la oficina|mensaje de ausencia"
    # Italian
    r"|risposta automatica|fuori (?:sede|ufficio)|assente dall'ufficio|messaggio di assenza"
    # Dutch
    r"|automatisch antwoord|afwezigheidsbericht|niet aanwezig|afwezig tot"
    # Polish
    r"|automatyczna odpowiedź|automatyczna odpowiedz|poza biurem|nieobecność w biurze"
    # Portuguese
    r"|resposta automática|resposta automatica|fora do escritório|ausente do escritório"
    r"|mensagem de ausência"
    # Scandinavian, Finnish, Czech, Hungarian, Romanian
    r"|automatiskt svar|automatisk svar|frånvarande|fraværende|automaattinen vastaus"
    r"|poissa toimistolta|automatická odpověď|mimo kancelář|automatikus válasz|házon kívül"
    r"|răspuns automat"
)
# Words people use in their own subjects too: only with a colon (as clients write them).
_AWAY_WORDS = r"out of (?:the )?office|absence|abwesend|afwezig|ausencia|ausência|nieobecność|away|on leave"
_AWAY_SUBJECT = re.compile(
    rf"[\s\[(]{{0,3}}(?:(?:{_AWAY_PHRASES})(?=[\s\]):：!.,;-]|$)|(?:{_AWAY_WORDS})[ \t]{{0,3}}[:：])",
    re.IGNORECASE,
)
# Lotus Notes/Domino's prefix is in capitals; "Auto: the car park" from a person is not it.
_DOMINO = re.compile(r"AUTO[ \t]{0,3}:")
_IS_OUT = re.compile(
    r"\bis (?:currently )?(?:out of (?:the )?office|away from (?:the|his|her|their) office)\b", re.IGNORECASE
)


def away_subject(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """Away notices known only by their subject (Domino, GroupWise, Zimbra, Exchange, mobile,
    and the European languages); the subject of a human reply ("Re: …") never matches."""
    subject = msg.subject
    if _DOMINO.match(subject):
        return "AUTO:"
    match = _AWAY_SUBJECT.match(subject)
    if match:
        return match[0].strip(" \t[(")
    found = _IS_OUT.search(subject[:300])
    return found[0] if found else None


# --- challenge-response anti-spam ----------------------------------------------------------

_CHALLENGE_DOMAINS = ("boxbe.com", "spamarrest.com", "mailchannels.net", "choicemail.com")
_CHALLENGE_HEADER_PREFIXES = ("x-boxbe", "x-spamarrest", "x-challenge", "x-tmda", "x-ask-", "x-choicemail")
_CHALLENGE_SUBJECT = re.compile(
    r"\s{0,3}(?:\[[^\]]{0,40}\]\s{0,3})?(?:"
    r"(?:please\s+)?(?:verify|confirm|approve)\s+(?:your|the|this)\s+"
    r"(?:e-?mail\b|message\b|address\b|sender\b|identity\b)"
    r"|(?:please\s+)?(?:verify|confirm)\s+(?:that\s+)?you\s+are\s+(?:a\s+)?(?:human|real|not\s+a\s+robot)"
    r"|(?:sender\s+)?verification\s+(?:required|needed|request)"
    r"|request\s+to\s+join\s+my\s+guest\s+list"
    r"|your\s+(?:e-?mail|message)\s+(?:is\s+)?(?:awaiting|requires|needs|pending|held))",
    re.IGNORECASE,
)
# The request itself, in the first lines of the body: verify/confirm near "human", "sender",
# or "your message", with a link to click.
_CHALLENGE_BODY = re.compile(
    r"\b(?:click|follow|visit|use)\b[^.\n]{0,80}\blink\b[^.\n]{0,80}\b(?:verify|confirm|approve)\b"
    r"|\b(?:verify|confirm|prove)\b[^.\n]{0,60}\b"
    r"(?:you are (?:a )?(?:human|real person)|not a (?:robot|spammer)"
    r"|your (?:e-?mail|message) (?:will be|can be|is) delivered)",
    re.IGNORECASE,
)


def challenge_response(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """A challenge-response system asking us to prove we are human (Boxbe, SpamArrest,
    TMDA, ChoiceMail, MailChannels…): by sender domain, header, subject, or the request itself."""
    for address in msg.from_addresses:
        domain = address.rpartition("@")[2]
        if any(domain == d or domain.endswith("." + d) for d in _CHALLENGE_DOMAINS):
            return domain
    for name, _ in msg.headers:
        if name.lower().startswith(_CHALLENGE_HEADER_PREFIXES):
            return name
    if _CHALLENGE_SUBJECT.match(msg.subject):
        return "subject"
    head = msg.text[:3000]
    if "http" in head and _CHALLENGE_BODY.search(head):
        return "verification request"
    return None


# --- mail an upstream filter marked as spam ------------------------------------------------

_RSPAMD_ACTIONS = frozenset({"reject", "add header", "rewrite subject"})
_SCL = re.compile(r"\s{0,5}(-?\d{1,3})")
_SFV = re.compile(r"(?:^|;)\s{0,5}SFV\s{0,5}:\s{0,5}(SPM|SKS)\s{0,5}(?:;|$)", re.IGNORECASE)
_SPAMD_RESULT = re.compile(r"\s{0,5}[\w-]{1,40}\s{0,5}:\s{0,5}true\b", re.IGNORECASE)
SPAM_REASON = SPAM_ROUTE  # the rule's reason; the digest lists messages logged with it


def spam_marked(msg: Inbound, ctx: ClassifyContext) -> str | None:
    """An upstream filter marked the message as spam: SpamAssassin (X-Spam-Flag, X-Spam-Status),
    Microsoft (X-MS-Exchange-Organization-SCL ≥ 5, X-Forefront-Antispam-Report SFV:SPM/SKS),
    Rspamd (X-Spamd-Result "True", X-Rspamd-Action reject / add header / rewrite subject)."""
    checks = (
        ("X-Spam-Flag", lambda v: v.strip().lower().startswith("yes")),
        ("X-Spam-Status", lambda v: v.strip().lower().startswith("yes")),
        ("X-MS-Exchange-Organization-SCL", _scl_is_spam),
        ("X-Forefront-Antispam-Report", lambda v: _SFV.search(v[:4000]) is not None),
        ("X-Spamd-Result", lambda v: _SPAMD_RESULT.match(v) is not None),
        ("X-Rspamd-Action", lambda v: " ".join(v.lower().split()) in _RSPAMD_ACTIONS),
    )
    for name, is_spam in checks:
        if any(is_spam(value) for value in msg.headers_named(name)):
            return name
    return None


def _scl_is_spam(value: str) -> bool:
    match = _SCL.match(value)
    return match is not None and int(match[1]) >= 5
