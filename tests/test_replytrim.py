"""Tests for mailproc.intake.replytrim: replies as the clients clinicians use write them."""

from __future__ import annotations

import time

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mailproc.intake.replytrim import split_reply, visible_reply
from tests.support.corpus import corpus_dir, load_benchmark

# --- Outlook desktop -------------------------------------------------------------------------

OUTLOOK_RULE = """\
Yes, the pharmacy team can take this to the next meeting.

Kind regards
Morag Example
Lead Pharmacist

________________________________
From: Interface Group <interface.group@example.scot.nhs.uk>
Sent: 02 November 2026 10:14
To: Morag Example <morag.example@example.scot.nhs.uk>
Subject: IFG-2026-0042 Discharge letters missing medication changes

Dear colleague,

Thank you for raising this.
"""

OUTLOOK_ORIGINAL_MESSAGE = """\
Agreed - please add me to the list.

-----Original Message-----
From: Dr A Example [mailto:a.example@example.org]
Sent: Monday, November 2, 2026 10:14 AM
To: Interface Group
Subject: RE: agenda

Original text here.
"""

OUTLOOK_BARE_HEADERS = """\
Thanks, that is helpful.
From: Dr A Example <a.example@example.org>
Sent: 02 November 2026 10:14
To: Interface Group <ifg@example.org>
Cc: Someone Else <someone@example.org>
Subject: RE: agenda

Original text here.
"""

OUTLOOK_GERMAN = """\
Danke, das passt.

Von: Dr A Beispiel <a@example.de>
Gesendet: Montag, 2. November 2026 10:14
An: Interface Group <ifg@example.org>
Betreff: Termin

Ursprünglicher Text.
"""

OUTLOOK_FRENCH = """\
Merci, c'est noté.

De : Dr A Exemple <a@example.fr>
Envoyé : lundi 2 novembre 2026 10:14
À : Interface Group <ifg@example.org>
Objet : Réunion

Texte d'origine.
"""

OUTLOOK_BOLD_HEADERS = """\
Reply typed in Outlook with HTML converted to text.

 ------------------------------

*From:* Interface Group
*Sent:* 2026-11-02
*To:* someone@example.org
*Subject:* Agenda

The quoted original.
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            OUTLOOK_RULE,
            "Yes, the pharmacy team can take this to the next meeting.\n\n"
            "Kind regards\nMorag Example\nLead Pharmacist",
        ),
        (OUTLOOK_ORIGINAL_MESSAGE, "Agreed - please add me to the list."),
        (OUTLOOK_BARE_HEADERS, "Thanks, that is helpful."),
        (OUTLOOK_GERMAN, "Danke, das passt."),
        (OUTLOOK_FRENCH, "Merci, c'est noté."),
        (OUTLOOK_BOLD_HEADERS, "Reply typed in Outlook with HTML converted to text."),
    ],
    ids=["rule", "original-message", "bare-headers", "german", "french", "bold"],
)
def test_outlook_desktop(text: str, expected: str) -> None:
    assert visible_reply(text) == expected


def test_outlook_crlf_line_endings() -> None:
    assert visible_reply(OUTLOOK_RULE.replace("\n", "\r\n")).endswith("Lead Pharmacist")


# --- mobile clients ---------------------------------------------------------------------------


def test_outlook_mobile() -> None:
    text = (
        "Fine by me.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n"
        "________________________________\nFrom: Interface Group <ifg@example.org>\n"
        "Sent: Monday, November 2, 2026 10:14:00 AM\nTo: Dr B <b@example.org>\n"
        "Subject: Agenda\n\nOriginal.\n"
    )
    assert visible_reply(text) == "Fine by me."


def test_outlook_mobile_attribution_without_quote_marks() -> None:
    text = (
        "Thank you.\n\nGet Outlook for Android\n\n\n"
        'On Mon, Nov 2, 2026 at 10:14 AM +0000, "Interface Group" <ifg@example.org> wrote:\n\n'
        "The original, not quoted with '>'.\n"
    )
    assert visible_reply(text) == "Thank you."


def test_apple_mail_iphone() -> None:
    text = (
        "Happy to present this.\n\nSent from my iPhone\n\n"
        "On 2 Nov 2026, at 10:14, Interface Group <ifg@example.org> wrote:\n\n"
        "> Could you present the audit results?\n"
    )
    assert visible_reply(text) == "Happy to present this."


def test_apple_mail_quoted_attribution() -> None:
    text = "Yes.\n> On 2 Nov 2026, at 10:14, Dr A Example <a@example.org> wrote:\n>\n> Question?\n"
    assert visible_reply(text) == "Yes."


@pytest.mark.parametrize(
    "signature",
    [
        "Sent from my iPad",
        "Sent from my Samsung Galaxy smartphone.",
        "Sent from Outlook",
        "Sent from Mail for Windows",
        "Envoyé de mon iPhone",
        "Von meinem iPhone gesendet",
    ],
)
def test_mobile_signatures(signature: str) -> None:
    assert visible_reply(f"See you then.\n\n{signature}\n") == "See you then."


def test_sentence_starting_like_a_signature_is_kept() -> None:
    text = "Here it is.\n\nSent from my desk, which is easier than my phone.\n"
    assert visible_reply(text) == text.strip()


# --- Gmail and Thunderbird --------------------------------------------------------------------

GMAIL = """\
I can attend on the 10th.

On Mon, 2 Nov 2026 at 10:14, Dr A Example <a@x> wrote:

> Can you attend the meeting?
>
"""

GMAIL_WRAPPED = """\
I can attend on the 10th.

On Mon, 2 Nov 2026 at 10:14, Dr A Example with a rather long display name <
a.example@example.org> wrote:

> Can you attend the meeting?
"""

GMAIL_WRAPPED_3 = """\
I can attend on the 10th.

On Mon, 2 Nov 2026 at 10:14, Dr A Example
<a.example@example.org>
wrote:

Original text that Gmail did not quote.
"""

THUNDERBIRD = """\
Noted, thank you.

On 02/11/2026 10:14, Dr A Example wrote:
> Can you attend the meeting?
"""


@pytest.mark.parametrize(
    "text", [GMAIL, GMAIL_WRAPPED, GMAIL_WRAPPED_3], ids=["one-line", "two-lines", "three-lines"]
)
def test_gmail(text: str) -> None:
    assert visible_reply(text) == "I can attend on the 10th."


def test_thunderbird() -> None:
    assert visible_reply(THUNDERBIRD) == "Noted, thank you."


@pytest.mark.parametrize(
    ("attribution", "reply"),
    [
        ("Am Mo., 2. Nov. 2026 um 10:14 Uhr schrieb Dr A Beispiel <a@example.de>:", "Ja."),
        ("Dr A Beispiel <a@example.de> schrieb am Mo., 2. Nov. 2026\num 10:14 Uhr:", "Ja."),
        ("Le lun. 2 nov. 2026 à 10:14, Dr A Exemple <a@example.fr> a écrit :", "Oui."),
        ("El lun, 2 nov 2026 a las 10:14, Dr A Ejemplo (<a@example.es>) escribió:", "Sí."),
        ("Op ma 2 nov. 2026 om 10:14 schreef Dr A Voorbeeld <a@example.nl>:", "Ja."),
    ],
    ids=["de", "de-gmail-wrapped", "fr", "es", "nl"],
)
def test_localised_attributions(attribution: str, reply: str) -> None:
    text = f"{reply}\n\n{attribution}\n\n> Zitat / citation / cita\n"
    assert visible_reply(text) == reply


def test_line_containing_wrote_is_kept() -> None:
    text = (
        "I wrote to the consultant on 3 November about this.\nThe GP wrote: please review the dose.\n\nAnne"
    )
    assert visible_reply(text) == text


# --- signatures, interleaving, forwards ------------------------------------------------------


def test_dash_dash_signature() -> None:
    text = "Please see the attached.\n\n-- \nDr C Example\nConsultant Physician\n"
    assert visible_reply(text) == "Please see the attached."


def test_signature_delimiter_inside_a_line_is_kept() -> None:
    text = "This is a fix -- not a signature.\n\nThanks"
    assert visible_reply(text) == text


def test_interleaved_reply_keeps_the_answers() -> None:
    text = (
        "On Mon, 2 Nov 2026 at 10:14, Interface Group <ifg@example.org> wrote:\n"
        "> Can you attend on the 10th?\n\nYes.\n\n> Will you present?\n>\n\nNo, Dr B will.\n"
    )
    visible, rest = split_reply(text)
    assert visible == "Yes.\n\nNo, Dr B will."
    assert "> Can you attend on the 10th?" in rest
    assert "wrote:" in rest


def test_message_that_is_only_a_quote_is_empty() -> None:
    assert visible_reply("> just a quote\n> more\n") == ""


def test_forward_at_the_top_is_the_senders_content() -> None:
    text = (
        "---------- Forwarded message ---------\nFrom: Dr A <a@example.org>\n"
        "Date: Mon, 2 Nov 2026 at 10:14\nSubject: Problem\nTo: <b@example.org>\n\n"
        "The forwarded text.\n"
    )
    assert visible_reply(text) == text.strip()


def test_forward_after_the_reply_is_trimmed() -> None:
    text = (
        "FYI - see below.\n\nBegin forwarded message:\n\nFrom: Dr A <a@example.org>\n"
        "Subject: Problem\nDate: 2 November 2026 at 10:14:00 GMT\nTo: b@example.org\n\nText.\n"
    )
    assert visible_reply(text) == "FYI - see below."


def test_triage_reply() -> None:
    text = (
        "ACCEPT prescribing\n\nThanks\nAnne\n\n"
        "From: Interface Group <interface.group@example.scot.nhs.uk>\n"
        "Sent: 02 November 2026 10:14\nTo: Anne Example <anne@example.scot.nhs.uk>\n"
        "Subject: [IFG-2026-0042] Triage request\n\n"
        "Reply with one of: ACCEPT <theme>, DECLINE <reason>, DELEGATE <address>\n"
    )
    visible, rest = split_reply(text)
    assert visible == "ACCEPT prescribing\n\nThanks\nAnne"
    assert "DECLINE" not in visible
    assert rest.startswith("From: Interface Group")


@pytest.mark.parametrize("text", ["", "\n\n", "   \r\n", "> \n>\n"])
def test_empty_results(text: str) -> None:
    assert split_reply(text)[0] == ""


def test_trailing_blank_lines_and_dash_signoff_are_stripped() -> None:
    assert visible_reply("Hi all\n\nAgreed.\n\n-Anne\n\n\n") == "Hi all\n\nAgreed."


def test_last_list_item_written_with_a_dash_is_kept() -> None:
    text = "Actions:\n-stop the aspirin\n-review the dose"
    assert visible_reply(text) == text


def test_long_pathological_input_is_fast() -> None:
    lines = ["_____", "On 1 Jan 2026 someone <a@b> wrote", ">" * 5000, "From: x", "a" * 5000]
    text = "\n".join(lines * 4000)
    started = time.perf_counter()
    visible_reply(text)
    assert time.perf_counter() - started < 5.0


# --- properties -------------------------------------------------------------------------------

_TRICKY_LINES = [
    "> quoted",
    ">",
    "On Mon, 2 Nov 2026 at 10:14, A <a@b.c> wrote:",
    "On Mon, 2 Nov 2026 at 10:14, A",
    "<a@b.c> wrote:",
    "> wrote:",
    "Am 2.11.2026 schrieb A <a@b.c>:",
    "2016-03-03 17:21 GMT+01:00 Some One",
    "From: A <a@b.c>",
    "Sent: Monday",
    "To: B",
    "Subject: C",
    "-----Original Message-----",
    "________________________________",
    "-- ",
    "--",
    "Sent from my iPhone",
    "Get Outlook for iOS",
    "-Anne",
    "ᐧ",
    "",
    "   ",
    "Hello",
]
_texts = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(_TRICKY_LINES), st.text(max_size=30)), max_size=40).map("\n".join),
    st.lists(st.sampled_from(_TRICKY_LINES), max_size=40).map("\r\n".join),
)


@settings(max_examples=400, deadline=None)
@given(_texts)
def test_output_lines_come_from_the_input(text: str) -> None:
    visible = visible_reply(text)
    kept = [line for line in visible.split("\n") if line.strip()]
    event("some lines kept" if kept else "nothing kept")
    event("some lines dropped" if len(kept) < len(_lines(text)) else "nothing dropped")
    assert isinstance(visible, str)
    assert visible == visible.strip("\n")
    for line in kept:
        # Whole lines of the input, unaltered (a substring check would let a trimmed line pass).
        assert line in _lines(text)


@settings(max_examples=400, deadline=None)
@given(_texts)
def test_visible_and_rest_cover_the_input(text: str) -> None:
    visible, rest = split_reply(text)
    event("both parts hold lines" if visible.strip() and rest.strip() else "one part is empty")
    covered = set(visible.split("\n")) | set(rest.split("\n"))
    for line in _lines(text):
        if line.strip():
            assert line in covered


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


# --- the shared corpus ------------------------------------------------------------------------

# Exact matches achieved when this test was written: 127 of 136 (93.4%). The margin absorbs a
# fixture or two changing upstream; a real regression costs more than that.
_CORPUS_MIN_EXACT_RATE = 0.90


@pytest.mark.corpus
def test_corpus_exact_match_rate() -> None:
    root = corpus_dir()
    bench = load_benchmark("reply_trim_corpus")
    tally = bench.run(visible_reply, root)
    assert tally.total >= 100, "the corpus lost its reply fixtures"
    assert tally.exact_rate >= _CORPUS_MIN_EXACT_RATE, bench.report(tally, show_failures=True)
