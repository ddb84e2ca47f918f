"""Identifiers other than CHI and NHS numbers: dates of birth, postcodes, phone numbers, titled
names and street addresses.

Each finder takes the normalised view (see `normalise`: separators collapsed, "D.O.B." still
"D.O.B", "Mr. Smith" now "Mr Smith") and yields `(kind, start, end)` in that view. Every
pattern is linear: no quantified group contains another unbounded quantifier.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

import phonenumbers

from mailproc.privacy.checkdigits import classify_number

__all__ = [
    "KIND_ADDRESS",
    "KIND_DOB",
    "KIND_NAME",
    "KIND_PHONE",
    "KIND_POSTCODE",
    "find_addresses",
    "find_dates_of_birth",
    "find_names",
    "find_phones",
    "find_postcodes",
]

KIND_DOB = "dob"
KIND_PHONE = "phone"
KIND_POSTCODE = "postcode"
KIND_NAME = "name"
KIND_ADDRESS = "address"

Span = tuple[str, int, int]

_S = "[ \n./-]{1,3}"  # one collapsed separator run, e.g. " - "
_MONTH = (
    "(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORDINAL = "(?:st|nd|rd|th)?"
_DATE = (
    f"(?:[0-9]{{1,2}}{_S}[0-9]{{1,2}}{_S}[0-9]{{2,4}}"
    f"|[0-9]{{4}}{_S}[0-9]{{1,2}}{_S}[0-9]{{1,2}}"
    f"|[0-9]{{1,2}}{_ORDINAL}[ -]?(?:of )?{_MONTH}\\.?,?[ -]?[0-9]{{2,4}}"
    f"|{_MONTH}\\.?[ -]?[0-9]{{1,2}}{_ORDINAL},?[ -]?[0-9]{{2,4}}"
    "|[0-9]{8}|[0-9]{6})(?![0-9])"
)
# "b." only as a word of its own ("b. 3/4/1950"); "born on", "DOB:", "D.O.B -", "date of birth".
_DOB = re.compile(
    rf"\b(?:d[ .]?o[ .]?b|date of birth|born(?: on)?|b)\b[ \n.:=-]{{0,4}}(?:on )?(?P<date>{_DATE})",
    re.IGNORECASE,
)

# The full UK format, permissive in its letters (errs towards redaction), plus the forces'
# BFPO numbers and Girobank's GIR 0AA.
_POSTCODE = re.compile(r"\b(?:GIR ?0AA|BFPO ?[0-9]{1,4}|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})\b")
# Written in any case ("eh10 5hf", "Ab1 2cd"), a postcode needs more to tell it from prose: one
# of the UK's postcode areas, and the space.
_AREA_LIST = (
    "AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E "
    "EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL "
    "LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN "
    "SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE"
)
_AREAS = frozenset(_AREA_LIST.split())
# Character classes only, the area checked afterwards in a set: an alternation of 124 areas
# tried at every word cost a tenth of a first poll's time.
_ANY_CASE_POSTCODE = re.compile(r"\b(?P<area>[A-Za-z]{1,2})[0-9][A-Za-z0-9]? [0-9][A-Za-z]{2}\b")
_ORDINAL_INWARD = re.compile(r"[0-9](?:st|nd|rd|th)", re.IGNORECASE)

_TITLES = "Mr|Mrs|Ms|Miss|Mx|Master|Dr|Prof|Professor|Sir|Dame|Lady|Lord|Rev|Revd|Father|Sister"
# A name word: capital then a lowercase letter (so "CHI" or "NHS" is not a name), or an initial
# (with its full stop: in the view a full stop before a space stays, "A. Wilson").
_WORD = "(?:[A-Z][a-z'\u2019][A-Za-z'\u2019-]{0,30}|[A-Z]\\.?(?![A-Za-z0-9]))"
_NAME = f"{_WORD}(?: {_WORD})?(?: {_WORD})?"
_TITLE_WORDS = frozenset(_TITLES.split("|"))
# The same in capitals, as forms and some systems write them: "MRS AGNES WILSON".
_CAPS_WORD = "(?:[A-Z][A-Z'\u2019-]{1,30}|[A-Z]\\.?(?![A-Za-z0-9]))"
_TITLED_CAPS = re.compile(
    rf"\b(?:{_TITLES.upper()})\.? (?P<name>{_CAPS_WORD}(?: {_CAPS_WORD})?(?: {_CAPS_WORD})?)\b"
)
# Capitals after a title that are not a name.
_NOT_CAPS_NAMES = frozenset(["NHS", "CHI", "GP", "DOB", "ED", "AE", "ICU", "OOH", "PSCI", "IFG"])
# Name words are on one line: "Dr A Example" then "Apologies:" on the next is not one name.
_TITLED = re.compile(rf"\b(?:{_TITLES})\.?[ \n](?P<name>{_NAME})")
_PATIENT = re.compile(rf"\b[Pp]atient(?:'s)?:? (?P<name>{_NAME})")
# Capitalised words that follow "patient" in the group's own vocabulary, not names.
_NOT_NAMES = frozenset(
    (
        "Safety",
        "Information",
        "Group",
        "Groups",
        "Services",
        "Service",
        "Transport",
        "Experience",
        "Participation",
        "Partners",
        "Forum",
        "Records",
        "Record",
        "Portal",
        "Reported",
        "Centred",
        "Care",
        "Flow",
        "Liaison",
        "Advice",
        "Council",
        "Panel",
        "Journey",
        "Pathway",
        "Pathways",
        "Notes",
        "Letter",
        "Letters",
        "Details",
        "Identifier",
        "Number",
        "Name",
    )
)

_STREETS = (
    "Road|Rd|Street|St|Avenue|Ave|Drive|Crescent|Cres|Lane|Place|Terrace|Gardens|Gdns|Court"
    "|Close|Way|Square|Grove|Wynd|Brae|Row|Walk|Loan|Park|Hill|View|Green|Mews|Parade|Rise"
    "|Vale|Circus|Quay|Boulevard|Wharf|Gate|Lea|Bank|Loaning|Vennel|Neuk|Gait"
)
_ADDRESS = re.compile(rf"\b[0-9]{{1,4}}[A-Za-z]?,? (?:{_WORD} )(?:{_WORD} )?(?:{_WORD} )?(?:{_STREETS})\b")

_MAX_PHONE_DIGITS = 13
_MAYBE_PHONE = re.compile(r"[0+][0-9]")
_NON_DIGIT = re.compile("[^0-9]")
# A UK number as written starts with the trunk 0 or a country code.
_DIAL_STARTS = ("0", "+", "(0", "(+")


def find_dates_of_birth(view: str) -> Iterator[Span]:
    """The date after DOB, D.O.B., date of birth, born or b. (the label stays)."""
    for match in _DOB.finditer(view):
        yield KIND_DOB, match.start("date"), match.end("date")


def find_postcodes(view: str) -> Iterator[Span]:
    """UK postcodes in capitals, with or without the space; BFPO numbers; GIR 0AA; and in any
    case with the space and a real postcode area, unless in lower case it reads as "b4 5th"."""
    for match in _POSTCODE.finditer(view):
        yield KIND_POSTCODE, match.start(), match.end()
    for match in _ANY_CASE_POSTCODE.finditer(view):
        inward = match.group()[-3:]
        if match["area"].upper() not in _AREAS or match.group().isupper():
            continue
        if not _ORDINAL_INWARD.fullmatch(inward):
            yield KIND_POSTCODE, match.start(), match.end()


def find_names(view: str) -> Iterator[Span]:
    """Capitalised names after a title (Mrs Agnes Wilson) or after "patient" (the name only);
    a name that a hard-wrapped line cut in two (a long line, then the rest) is taken whole."""
    for match in _TITLED.finditer(view):
        if not _is_place(view, match):  # "Dr Gray's Hospital" is a place
            yield KIND_NAME, match.start("name"), _wrapped_end(view, match.end("name"))
    for match in _TITLED_CAPS.finditer(view):
        if match.group("name").split(" ")[0] not in _NOT_CAPS_NAMES:
            yield KIND_NAME, match.start("name"), match.end("name")
    for match in _PATIENT.finditer(view):
        first = match.group("name").split(" ")[0].rstrip(".")
        if first not in _NOT_NAMES and first not in _TITLE_WORDS:  # "patient Mrs …": the title's
            yield KIND_NAME, match.start("name"), _wrapped_end(view, match.end("name"))


# Hospitals named after a person ("Dr Gray's Hospital", Elgin) are places, not patients.
_PLACE = re.compile(r"\b(?:Hospital|Infirmary)\b")
_PLACE_AFTER = re.compile(r"[ \n](?:Hospital|Infirmary)\b")


def _is_place(view: str, match: re.Match[str]) -> bool:
    return bool(_PLACE.search(match.group("name")) or _PLACE_AFTER.match(view, match.end("name")))

# A line at least this long that ends inside a name was wrapped by a mail client (they wrap at
# 72-78 characters); a short line ending in a name is a list ("Dr A Example" then "Apologies").
_WRAPPED_LINE = 50
_NEXT_WORDS = re.compile(rf"{_WORD}(?: {_WORD})?")


def _wrapped_end(view: str, end: int) -> int:
    """Where a name ending at `end` really ends: past the line break when the line was wrapped."""
    if not view.startswith("\n", end) or end - (view.rfind("\n", 0, end) + 1) < _WRAPPED_LINE:
        return end
    rest = _NEXT_WORDS.match(view, end + 1)
    if rest is None or view.startswith(":", rest.end()):
        return end
    return rest.end()


def find_addresses(view: str) -> Iterator[Span]:
    """A house number followed by capitalised words ending in a street word (12 High Street)."""
    for match in _ADDRESS.finditer(view):
        yield KIND_ADDRESS, match.start(), match.end()


def find_phones(view: str) -> Iterator[Span]:
    """UK phone numbers (trunk 0 or a "+" country code) that Google's `phonenumbers` accepts.

    A candidate that a ten-digit CHI or NHS number explains is left to that kind.
    """
    if not _MAYBE_PHONE.search(view):
        return  # most text has no "0" or "+" before a digit: skip the library's scan
    matcher = phonenumbers.PhoneNumberMatcher(
        view, "GB", leniency=phonenumbers.Leniency.POSSIBLE, max_tries=sys.maxsize
    )
    for match in matcher:
        raw = match.raw_string
        if raw.startswith(_DIAL_STARTS) and _is_phone(raw) and not _is_ten_digit_identifier(raw):
            yield KIND_PHONE, match.start, match.end


def _is_phone(candidate: str) -> bool:
    digits = sum(char.isdigit() for char in candidate)
    if digits > _MAX_PHONE_DIGITS:
        return False
    try:
        number = phonenumbers.parse(candidate, "GB")
    except phonenumbers.NumberParseException:
        return False
    if phonenumbers.is_valid_number(number):
        return True
    # Numbers in ranges kept for drama and new allocations are not "valid" to the library;
    # a UK number of the right length is still a phone number (fail safe).
    national = str(number.national_number)
    return number.country_code == 44 and len(national) == 10 and national[0] in "12378"


def _is_ten_digit_identifier(candidate: str) -> bool:
    digits = _NON_DIGIT.sub("", candidate)
    return len(digits) == 10 and not candidate.startswith("+") and classify_number(digits) is not None
