"""A corpus of weakly marked machine mail, written by the project itself (issue 11, must-show 4).

Out-of-office notices known by their subject alone, as Lotus Notes/Domino, GroupWise,
Zimbra, older Exchange and mobile clients write them, in English and European languages;
challenge-response anti-spam requests; and mail an upstream filter marked as spam. None of
them carries Auto-Submitted, a null Return-Path or any other header the older rules read.
Each comes from its own address, so that no per-address limit hides a failure.
"""

from __future__ import annotations

from tests.support.mail import make_message

AWAY = [
    (
        "Lotus Notes",
        "AUTO: Jane Smith is out of the office (returning 02/03/2027)",
        "I will respond on my return.",
    ),
    ("Domino 9", "AUTO: Dr Ewan Ross is out of the office", "I am out of the office until Monday."),
    ("GroupWise", "Out of Office Reply", "I am away from the office and will reply when I return."),
    ("GroupWise 2", "Dr Brown is out of the office", "Please contact the ward for urgent matters."),
    ("Zimbra", "Out of Office Reply", "I am on annual leave."),
    ("Zimbra 2", "Out of office: back on 3 March", "Limited access to email."),
    ("Exchange 2003", "Out of Office AutoReply: Discharge letters", "I am out of the office."),
    ("Exchange 2007", "Out Of Office: Discharge letters", "Back next week."),
    ("iPhone", "Auto-Reply: Discharge letters", "I'm away, back soon."),
    ("Android", "[Auto-Reply] Discharge letters", "On leave."),
    ("Samsung", "Autoresponse", "Away from my desk."),
    ("BlackBerry", "I am currently out of the office", "Returning Monday."),
    ("German", "Automatische Antwort: Entlassbrief", "Ich bin bis Montag nicht im Büro."),
    ("German 2", "Abwesenheitsnotiz: Entlassbrief", "Ich bin abwesend."),
    ("German 3", "Ich bin nicht im Büro", "Bitte wenden Sie sich an die Station."),
    ("French", "Réponse automatique : lettre de sortie", "Je suis absent du bureau."),
    ("French 2", "Absence : retour le 3 mars", "Je serai de retour le 3 mars."),
    ("Spanish", "Respuesta automática: carta de alta", "Estoy fuera de la oficina."),
    ("Spanish 2", "Fuera de la oficina", "Vuelvo el lunes."),
    ("Italian", "Risposta automatica: lettera di dimissione", "Sono fuori ufficio."),
    ("Italian 2", "Fuori sede fino al 3 marzo", "Rispondo al rientro."),
    ("Dutch", "Automatisch antwoord: ontslagbrief", "Ik ben afwezig."),
    ("Dutch 2", "Afwezig: tot 3 maart", "Ik ben er weer op maandag."),
    ("Polish", "Automatyczna odpowiedź: wypis", "Jestem poza biurem."),
    ("Polish 2", "Poza biurem", "Wracam w poniedziałek."),
    ("Portuguese", "Resposta automática: carta de alta", "Estou fora do escritório."),
    ("Portuguese 2", "Fora do escritório", "Volto segunda-feira."),
    ("Swedish", "Automatiskt svar: utskrivning", "Jag är ledig."),
]

CHALLENGES: list[tuple[str, dict[str, object]]] = [
    ("Boxbe", {"from_": "Boxbe <notifications@boxbe.com>", "subject": "Request to join my Guest List"}),
    ("SpamArrest", {"from_": "verify@spamarrest.com", "subject": "Re: Discharge letters"}),
    ("MailChannels", {"from_": "noti@mailchannels.net", "subject": "Message held"}),
    ("TMDA", {"headers": [("X-TMDA-Confirm-Done", "1")], "subject": "Re: Discharge letters"}),
    ("ChoiceMail", {"subject": "Please verify your email address"}),
    ("generic subject", {"subject": "[Mail filter] Sender verification required"}),
    (
        "generic body",
        {
            "subject": "Re: Discharge letters",
            "body": "I am protected by a spam filter. Please click the link below to verify\n"
            "your message: https://filter.example/verify?id=8812\n",
        },
    ),
    (
        "human proof",
        {"subject": "Your message", "body": "To prove you are human, visit https://c.example/x today.\n"},
    ),
]

SPAM: list[tuple[str, tuple[str, str]]] = [
    ("SpamAssassin flag", ("X-Spam-Flag", "YES")),
    ("SpamAssassin status", ("X-Spam-Status", "Yes, score=12.3 required=5.0 tests=BAYES_99")),
    ("Exchange SCL 5", ("X-MS-Exchange-Organization-SCL", "5")),
    ("Exchange SCL 9", ("X-MS-Exchange-Organization-SCL", "9")),
    ("Forefront", ("X-Forefront-Antispam-Report", "CIP:192.0.2.1;CTRY:;LANG:en;SCL:9;SFV:SPM;H:mx;")),
    ("Forefront rule", ("X-Forefront-Antispam-Report", "CIP:192.0.2.1;SFV:SKS;H:mx;")),
    ("Rspamd result", ("X-Spamd-Result", "default: True [17.10 / 15.00]; BAYES_SPAM(5.10)[99.99%]")),
    ("Rspamd add header", ("X-Rspamd-Action", "add header")),
    ("Rspamd rewrite", ("X-Rspamd-Action", "rewrite subject")),
    ("Rspamd reject", ("X-Rspamd-Action", "reject")),
]

# People who mention being out of the office, or an away notice, in their own words.
HUMANS: list[dict[str, object]] = [
    {
        "subject": "Out of office cover for Friday clinics",
        "body": "Who covers discharge letters when I am out of office?\n",
    },
    {
        "subject": "Discharge letters",
        "body": "I was out of the office last week; three letters arrived late.\n",
    },
    {
        "subject": "Absence of discharge letters from ward 5",
        "body": "My out-of-office reply was on, sorry.\n",
    },
    {
        "subject": "Please confirm the date of the next meeting",
        "body": "Thanks, and click the agenda link.\n",
    },
]


def _address(kind: str, name: str) -> str:
    slug = "".join(ch for ch in name.lower() if ch.isalnum())
    return f"{kind}.{slug}@example-mail.org"


def machine_corpus() -> dict[str, bytes]:
    """Name → raw message, for every machine form above (at least 30)."""
    corpus: dict[str, bytes] = {}
    for name, subject, body in AWAY:
        corpus[f"away: {name}"] = make_message(
            from_=_address("away", name), subject=subject, body=body + "\n"
        )
    for name, fields in CHALLENGES:
        args: dict[str, object] = {"from_": _address("challenge", name), **fields}
        corpus[f"challenge: {name}"] = make_message(**args)
    for name, header in SPAM:
        corpus[f"spam: {name}"] = make_message(
            from_=_address("spam", name), subject="Cheap medicines", body="Buy now.\n", headers=[header]
        )
    return corpus


def human_mail() -> list[bytes]:
    """Ordinary mail that mentions being away, which must still be acknowledged."""
    return [make_message(from_=_address("human", str(i)), **args) for i, args in enumerate(HUMANS)]
