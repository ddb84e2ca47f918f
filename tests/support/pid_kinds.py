"""The labelled set for the kinds beyond CHI and NHS numbers, and the whole set for tests and the
benchmark: `labelled_positives()` and `labelled_negatives()`.

Dates of birth, postcodes, phone numbers, titled names and street addresses as positives;
as negatives what a clinician writes that looks like them: dates that are not birth dates,
reference numbers, clinic times, drug doses, bed and ward numbers, BNF codes, order numbers.
Seeded, so the set is the same on every run. All names, places and numbers are made up.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from tests.support.pid_samples import DEFAULT_SEED, Sample, invalid_ten, negatives, phone_formats, positives

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
FIRST = ("Agnes", "John", "Mary", "Fiona", "Sam", "Tom", "Jane", "Iain", "Morag", "Ewan", "Aileen")
LAST = ("Wilson", "Smith", "McLeod", "O'Neill", "Smith-Jones", "Brown", "MacDonald", "Taylor", "Reid")
TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Master", "Dr", "Mr.", "Mrs.", "Dr.", "Prof")
STREETS = ("Street", "Road", "Avenue", "Drive", "Crescent", "Terrace", "Gardens", "Lane", "Place",
           "Wynd", "St", "Rd")  # fmt: skip
STREET_NAMES = ("High", "Victoria", "Baker", "Kirk", "Marchmont", "Leith", "Castle Hill", "Great King")
AREAS = ("AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "TD", "ZE",
         "M", "SW")  # fmt: skip

DOB_LABELS = ("DOB", "DOB:", "dob", "D.O.B.", "D.O.B:", "Date of birth:", "date of birth", "born",
              "born on", "b.", "DOB -", "Date of Birth")  # fmt: skip

KIND_CONTEXTS: dict[str, tuple[str, ...]] = {
    "dob": ("{n}", "Referral delayed ({n}) by the portal.", "Re: query, {n}", "<td>{n}</td>",
            "The lady, {n}, was discharged without a letter."),
    "postcode": ("{n}", "lives in Anytown {n}, near the practice.", "postcode {n}.", "({n})",
                 "Home address: Flat 2, Anytown, {n}"),
    "phone": ("{n}", "tel {n} (daughter)", "please call {n} today.", "mobile: {n}", "<td>{n}</td>"),
    "name": ("Referral for {n} was lost twice.", "{n} attended on Tuesday.", "Re: {n}",
             "<td>{n}</td>", "We saw {n}, who is well."),
    "address": ("{n}", "lives at {n}, Anytown.", "Address: {n}.", "home ({n}) visit",
                "<td>{n}</td>"),
}  # fmt: skip


def _date_of_birth(rng: random.Random) -> str:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1920, 2020)
    forms = (
        f"{day:02d}/{month:02d}/{year}", f"{day}.{month}.{year % 100:02d}", f"{day:02d}-{month:02d}-{year}",
        f"{year}-{month:02d}-{day:02d}", f"{day} {MONTHS[month - 1]} {year}",
        f"{day}th {MONTHS[month - 1][:3]} {year}", f"{MONTHS[month - 1]} {day}, {year}",
        f"{day:02d}-{MONTHS[month - 1][:3]}-{year}",
        f"{day:02d}{month:02d}{year}", f"{day:02d}/{month:02d}/{year % 100:02d}",
    )  # fmt: skip
    return rng.choice(forms)


def _postcode(rng: random.Random) -> str:
    letter = partial_choice(rng, string.ascii_uppercase)
    area = rng.choice(AREAS)
    inward = f"{rng.randint(0, 9)}{letter()}{letter()}"
    # In lower case "5th" reads as an ordinal, which the detector leaves alone by design.
    low = inward.lower() if inward[1:] not in ("ST", "ND", "RD", "TH") else f"{inward[0]}ab"
    forms = (
        f"{area}{rng.randint(1, 9)} {inward}", f"{area}{rng.randint(10, 99)} {inward}",
        f"{area}{rng.randint(1, 9)}{letter()} {inward}", f"{area}{rng.randint(1, 99)}{inward}",
        f"BFPO {rng.randint(1, 999)}", "GIR 0AA",
        f"{area.lower()}{rng.randint(1, 99)} {low}", f"{area.title()}{rng.randint(1, 9)} {low}",
    )  # fmt: skip
    return rng.choice(forms)


def partial_choice(rng: random.Random, letters: str) -> Callable[[], str]:
    return lambda: rng.choice(letters)


def _name(rng: random.Random) -> tuple[str, str]:
    """(written, the name part that must be found)."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    name = rng.choice((f"{first} {last}", last, f"{first[0]} {last}", f"{first[0]}. {last}", first))
    draw = rng.random()
    if draw < 0.2:
        return f"patient {name}", name
    if draw < 0.3:  # as forms and some systems write it
        return f"{rng.choice(TITLES).upper()} {name.upper()}", name.upper()
    return f"{rng.choice(TITLES)} {name}", name


def _address(rng: random.Random) -> str:
    number = rng.choice((str(rng.randint(1, 250)), f"{rng.randint(1, 99)}a", f"{rng.randint(1, 99)},"))
    return f"{number} {rng.choice(STREET_NAMES)} {rng.choice(STREETS)}"


def kind_positives(seed: int = DEFAULT_SEED) -> list[Sample]:
    """Dates of birth, postcodes, phone numbers, names and addresses: 5 kinds x 5 contexts x 12."""
    rng = random.Random(seed + 2)
    samples: list[Sample] = []
    for round_ in range(12):
        phones = list(phone_formats(rng).items())
        for index, context in enumerate(KIND_CONTEXTS["dob"]):
            date = _date_of_birth(rng)
            written = f"{rng.choice(DOB_LABELS)} {date}"
            samples.append(Sample(context.format(n=written), f"dob/context-{index}", "dob", date))
        for index, context in enumerate(KIND_CONTEXTS["postcode"]):
            code = _postcode(rng)
            samples.append(Sample(context.format(n=code), f"postcode/context-{index}", "postcode", code))
        for index, context in enumerate(KIND_CONTEXTS["phone"]):
            form, phone = phones[(round_ * 5 + index) % len(phones)]
            samples.append(Sample(context.format(n=phone), f"phone/{form}/context-{index}", "phone", phone))
        for index, context in enumerate(KIND_CONTEXTS["name"]):
            written, name = _name(rng)
            samples.append(Sample(context.format(n=written), f"name/context-{index}", "name", name))
        for index, context in enumerate(KIND_CONTEXTS["address"]):
            address = _address(rng)
            samples.append(Sample(context.format(n=address), f"address/context-{index}", "address", address))
    return samples


def _kind_negative_formats(rng: random.Random) -> dict[str, str]:
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2020, 2027)
    uk = f"{day:02d}/{month:02d}/{year}"
    hour = rng.randint(8, 16)
    n = rng.randint
    return {
        "date: clinic": f"Clinic date {uk}, please attend.",
        "date: admitted": f"admitted {day} {MONTHS[month - 1]} {year} and discharged",
        "date: letter": f"letter dated {year}-{month:02d}-{day:02d} not received",
        "date: deadline": f"Reply by {day} {MONTHS[month - 1][:3]} {year}.",
        "date: referral": f"Date of referral: {uk}",
        "date: brought forward": f"b/f {uk} from the last meeting",
        "date: seen": f"Seen on {day}.{month}.{year % 100:02d} by the team",
        "reference": f"see IFG-{year}-{n(1, 9999):04d}",
        "reference: datix": f"Datix {n(100000, 999999)} raised",
        "reference: gateway": f"SCI Gateway ref GW-{n(10000, 99999)}",
        "clinic time": f"clinic {hour:02d}:00-{hour + 2:02d}:30 on Tuesdays",
        "clinic time: dotted": f"at {hour}.30am in room {n(1, 20)}",
        "clinic time: 24h": f"from {hour}00hrs",
        "dose: 1-0-1": f"{rng.choice(('5 mg', '10 mg', '500 mg', '2.5 mg'))} 1-0-1",
        "dose: 1-1-1-1": f"paracetamol 1 g 1-1-1-1 for {n(3, 7)} days",
        "dose: range": f"0.5-1 mg prn, max {n(2, 4)} mg in 24 hours",
        "dose: units": f"insulin {n(4, 40)} units at {hour:02d}:00",
        "bed": f"Bed {n(1, 40)}, Ward {n(1, 9)}{rng.choice('ABC')}",
        "bed: bay": f"bed {n(1, 6)} bay {n(1, 4)}, ward {n(100, 300)}",
        "BNF code": f"BNF {n(1, 15):02d}{n(1, 9):02d}{n(10, 99)}0{rng.choice(('AA', 'AD', 'AB'))}",
        "BNF chapter": f"BNF {n(1, 15)}.{n(1, 9)}.{n(1, 5)}",
        "BNF presentation": f"{n(1, 15):02d}{n(10, 99)}000B0AAAB{rng.choice('ABC')}B",
        "order number": f"PO {invalid_ten(rng)} for dressings",
        "order number 8": f"order no {n(10000000, 99999999)}",
        "not a name: patient safety": "the Patient Safety Group met",
        "not a name: patient information": "a Patient Information leaflet",
        "not a name: professional": "Professional Standards Committee",
        "not an address": f"Level {n(1, 4)} car park, near ward {n(1, 30)}",
        "not a postcode: covid": f"COVID-19 clinic, room B{n(1, 20)}",
        "not a postcode: HbA1c": f"HbA1c {n(40, 90)} mmol/mol",
        "not a postcode: floor": f"ward b{n(1, 9)} {rng.choice(('4th', '5th', '2nd', '3rd', '1st'))} floor",
        "not a phone: extension": f"extension {n(2000, 6999)}",
        "count and percent": f"{n(10, 99)} of {n(100, 999)} ({n(1, 99)}%)",
    }


def kind_negatives(seed: int = DEFAULT_SEED) -> list[Sample]:
    """Look-alikes of the other kinds: 32 formats x 9 rounds."""
    rng = random.Random(seed + 3)
    samples: list[Sample] = []
    for _ in range(9):
        samples.extend(Sample(text, category) for category, text in _kind_negative_formats(rng).items())
    return samples


def labelled_positives(seed: int = DEFAULT_SEED) -> list[Sample]:
    """Every positive: CHI and NHS numbers in every spelling, then the other kinds."""
    return [*positives(seed), *kind_positives(seed)]


def labelled_negatives(seed: int = DEFAULT_SEED) -> list[Sample]:
    """Every negative: number look-alikes, then look-alikes of the other kinds."""
    return [*negatives(seed), *kind_negatives(seed)]
