"""The weakly marked machines, each predicate alone: hits and the human near misses."""

from __future__ import annotations

from typing import Any

import pytest

from mailproc.intake import machine_marks as m
from mailproc.intake.classify import ClassifyContext, Kind, classify
from mailproc.intake.inbound import Inbound
from mailproc.intake.parsing.parser import parse
from tests.support.mail import ADMIN, GROUP, make_message

CTX = ClassifyContext(group_address=GROUP, admins=(ADMIN,), reference_prefix="IFG")


def msg(**kwargs: Any) -> Inbound:
    return parse(make_message(**kwargs))


def subject(text: str) -> Inbound:
    return msg(subject=text)


AWAY_HITS = [
    ("AUTO: Jane Smith is out of the office (returning 02/03/2027)", "AUTO:"),
    ("Out of Office Reply", "Out of Office Reply"),
    ("Out Of Office AutoReply: Discharge letters", "Out Of Office AutoReply"),
    ("[Auto-Reply] Discharge letters", "Auto-Reply"),
    ("Autoresponse", "Autoresponse"),
    ("Out of the office: back Monday", "Out of the office:"),
    ("Dr Brown is out of the office", "is out of the office"),
    ("I am currently out of the office", "I am currently out of the office"),
    ("Away from my desk notice", "Away from my desk notice"),
    ("Absence: Dr Weber", "Absence:"),
    ("Automatische Antwort: Entlassbrief", "Automatische Antwort"),
    ("Ich bin nicht im Büro", "Ich bin nicht im Büro"),
    ("Abwesend: bis 3. März", "Abwesend:"),
    ("Réponse automatique : lettre de sortie", "Réponse automatique"),
    ("Absence : retour le 3 mars", "Absence :"),
    ("Respuesta automática: carta de alta", "Respuesta automática"),
    ("Fuera de la oficina", "Fuera de la oficina"),
    ("Risposta automatica: lettera", "Risposta automatica"),
    ("Fuori sede fino al 3 marzo", "Fuori sede"),
    ("Automatisch antwoord: ontslagbrief", "Automatisch antwoord"),
    ("Afwezig: tot 3 maart", "Afwezig:"),
    ("Automatyczna odpowiedź: wypis", "Automatyczna odpowiedź"),
    ("Poza biurem", "Poza biurem"),
    ("Resposta automática: carta de alta", "Resposta automática"),
    ("Fora do escritório", "Fora do escritório"),
    ("Automatiskt svar: utskrivning", "Automatiskt svar"),
]
AWAY_MISSES = [
    "Out of office cover for Friday",
    "Absence of discharge letters from ward 5",
    "Re: Auto-Reply: Referral",
    "Auto: the car park barrier",
    "Away day for practice staff",
    "Autumn flu clinics",
    "Automatic replies are off",
    "Is the out of hours service covering this?",
]


@pytest.mark.parametrize(("text", "detail"), AWAY_HITS)
def test_away_subjects_are_machines(text: str, detail: str) -> None:
    assert m.away_subject(subject(text), CTX) == detail


@pytest.mark.parametrize("text", AWAY_MISSES)
def test_human_subjects_are_not_away_notices(text: str) -> None:
    assert m.away_subject(subject(text), CTX) is None


CHALLENGE_HITS = [
    (msg(from_="Boxbe <notify@boxbe.com>", subject="Request to join my Guest List"), "boxbe.com"),
    (msg(from_="verify@mail.spamarrest.com"), "mail.spamarrest.com"),
    (msg(headers=[("X-Boxbe-Challenge", "1")]), "X-Boxbe-Challenge"),
    (msg(headers=[("X-TMDA-Confirm-Done", "abc")]), "X-TMDA-Confirm-Done"),
    (msg(subject="Please verify your email address"), "subject"),
    (msg(subject="[SpamGuard] Sender verification required"), "subject"),
    (msg(subject="Your message is awaiting verification"), "subject"),
    (
        msg(
            body="I use a spam filter. Please click the link below to verify your message:\nhttps://x.example/v\n"
        ),
        "verification request",
    ),
    (msg(body="To prove you are human, visit https://x.example/c?id=1 today.\n"), "verification request"),
]
CHALLENGE_MISSES = [
    msg(subject="Please confirm the date of the next meeting"),
    msg(subject="Verification of controlled drug stock"),
    msg(body="Please verify the discharge medication with the ward pharmacist.\n"),
    msg(body="Click the link in the intranet page to read the new pathway (no verification needed)."),
    msg(from_="gp@boxbe-practice.scot.nhs.uk"),
]


@pytest.mark.parametrize(("message", "detail"), CHALLENGE_HITS)
def test_challenge_response_systems_are_machines(message: Inbound, detail: str) -> None:
    assert m.challenge_response(message, CTX) == detail


@pytest.mark.parametrize("message", CHALLENGE_MISSES)
def test_human_mail_is_not_a_challenge(message: Inbound) -> None:
    assert m.challenge_response(message, CTX) is None


SPAM_HITS = [
    ("X-Spam-Flag", "YES"),
    ("X-Spam-Status", "Yes, score=9.1 required=5.0 tests=BAYES_99"),
    ("X-MS-Exchange-Organization-SCL", "5"),
    ("X-MS-Exchange-Organization-SCL", "9"),
    ("X-Forefront-Antispam-Report", "CIP:1.2.3.4;CTRY:;LANG:en;SCL:9;SRV:;IPV:NLI;SFV:SPM;H:x;"),
    ("X-Spamd-Result", "default: True [16.20 / 15.00]; BAYES_SPAM(5.10)[99.99%]"),
    ("X-Rspamd-Action", "add header"),
    ("X-Rspamd-Action", "rewrite subject"),
    ("X-Rspamd-Action", "reject"),
]
SPAM_MISSES = [
    ("X-Spam-Flag", "NO"),
    ("X-Spam-Status", "No, score=-0.1 required=5.0"),
    ("X-MS-Exchange-Organization-SCL", "-1"),
    ("X-MS-Exchange-Organization-SCL", "4"),
    ("X-Forefront-Antispam-Report", "CIP:1.2.3.4;SFV:NSPM;H:x;"),
    ("X-Spamd-Result", "default: False [1.20 / 15.00]"),
    ("X-Rspamd-Action", "no action"),
    ("X-Rspamd-Action", "greylist"),
]


@pytest.mark.parametrize(("name", "value"), SPAM_HITS)
def test_spam_marks_are_read(name: str, value: str) -> None:
    assert m.spam_marked(msg(headers=[(name, value)]), CTX) == name


@pytest.mark.parametrize(("name", "value"), SPAM_MISSES)
def test_clean_marks_are_not_spam(name: str, value: str) -> None:
    assert m.spam_marked(msg(headers=[(name, value)]), CTX) is None


def test_spam_is_classified_with_the_reason_the_digest_looks_for() -> None:
    lookup_free = classify(msg(headers=[("X-Spam-Flag", "YES")]), CTX, _NoLookup())
    assert lookup_free.kind is Kind.AUTOMATIC and lookup_free.suppress_ack
    assert lookup_free.reason == f"{m.SPAM_REASON}: X-Spam-Flag"


class _NoLookup:
    def issue_for_reference(self, reference: str) -> str | None:
        return None

    def issue_for_message_ids(self, ids: object) -> str | None:
        return None

    def is_own_message_id(self, message_id: str) -> bool:
        return False

    def is_triage_message_id(self, message_ids: object) -> str | None:
        return None
