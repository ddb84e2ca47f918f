"""Issue 14: the group's public face, from the shipped example configuration.

Must-show 1: the About page follows the awareness text (a section per heading) and states the
board, the month established, the reporting line, where minutes go and the members by sector.
Must-show 2: `announce --send --yes` delivers the awareness email through the real outbox to a
real SMTP server, once per address (an address on two lists once), with the About page's facts.
Must-show 3: `check --gold-standard` exits 1 without a senior secondary-care member, 0 with one.
"""

from __future__ import annotations

import email
import email.policy
import os
import pty
import subprocess
from email.message import EmailMessage
from pathlib import Path

import lxml.html

from tests.support.example_config import example_workspace
from tests.support.smtpserver import SmtpTestServer
from tests.support.workspace import run_mailproc

AWARENESS_HEADINGS = (
    "Why the interface is a priority",
    "Why the group was established",
    "Who is involved",
    "What the group will do",
    "How work is carried forward",
    "Who the group reports to",
    "How others are kept up to date",
)

FACTS = (
    "NHS Example established the NHS Example Interface Group in April 2024",
    "The group reports to the Area Clinical Forum, which reports to the Example Health Board Clinical "
    "Governance Committee",
    "Minutes go to GP Sub-group and Clinical Management Group",
    "Key outcomes are shared through Primary care network and Out-of-hours network",
    "Dr B Example, Consultant physician, clinical lead (Example Royal Infirmary)",
)


def _sections(html: str) -> dict[str, str]:
    """Each <section>'s heading → the section's text (whitespace collapsed)."""
    doc = lxml.html.fromstring(html)
    found = {}
    for section in doc.iter("section"):
        heading = section.find("h2")
        assert heading is not None
        found[heading.text_content().strip()] = " ".join(section.text_content().split())
    return found


def test_about_page_follows_the_awareness_text(tmp_path: Path) -> None:
    """Must-show 1."""
    ws = example_workspace(tmp_path / "ws")
    ws.cli("register", "build", str(tmp_path / "site"))
    sections = _sections((tmp_path / "site" / "about.html").read_text(encoding="utf-8"))
    assert list(sections)[: len(AWARENESS_HEADINGS)] == list(AWARENESS_HEADINGS)
    assert (
        "NHS Example established the NHS Example Interface Group in April 2024"
        in sections["Why the group was established"]
    )
    assert "About half of all medical errors" in sections["Why the interface is a priority"]
    assert "RCGP Scotland has reviewed" in sections["Why the group was established"]
    assert (
        "reports to the Area Clinical Forum, which reports to the Example Health Board Clinical "
        "Governance Committee" in sections["Who the group reports to"]
    )
    assert (
        "Minutes go to GP Sub-group and Clinical Management Group"
        in sections["How others are kept up to date"]
    )
    assert "Primary care network and Out-of-hours network" in sections["How others are kept up to date"]
    who = sections["Who is involved"]
    assert who.index("Primary care Dr A Example") < who.index("Secondary care Dr B Example")
    assert who.index("Secondary care Dr B Example") < who.index("Health Board management C Example")
    for heading in ("How to raise an issue", "How you can feed in", "Where to find the group's work"):
        assert heading in sections
    assert "Never include patient-identifiable information" in sections["How to raise an issue"]


def test_terms_of_reference_page(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path / "ws", group__established="2023-11")
    ws.cli("register", "build", str(tmp_path / "site"))
    doc = lxml.html.fromstring((tmp_path / "site" / "terms.html").read_text(encoding="utf-8"))
    headings = [h.text_content() for h in doc.iter("h2")]
    assert headings == [
        "Vision", "Membership and representation", "How the group operates", "Escalation route",
        "Reporting line", "Review",
    ]  # fmt: skip
    text = " ".join(doc.text_content().split())
    assert "Patients are safest when general practice and hospital services work as one" in text
    assert "escalated to the Clinical Governance Committee" in text
    assert "next review is due in November" in text
    assert (
        "Dr B Example, Consultant physician, clinical lead (Example Royal Infirmary) · senior representative"
        in text
    )


def test_register_report_flag_links_the_latest_report(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path / "ws")
    ws.cli("register", "build", str(tmp_path / "plain"))
    assert "reports/latest.html" not in (tmp_path / "plain" / "about.html").read_text(encoding="utf-8")
    ws.cli("register", "build", str(tmp_path / "site"), "--report")
    assert 'href="reports/latest.html"' in (tmp_path / "site" / "about.html").read_text(encoding="utf-8")
    assert "governance report" in (tmp_path / "site" / "reports" / "latest.html").read_text(encoding="utf-8")


def _parsed(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return " ".join(part.get_content().split())


def test_announce_sends_once_to_every_address(tmp_path: Path, smtp_server: SmtpTestServer) -> None:
    """Must-show 2: cmg@ is on the Clinical Management Group list and the out-of-hours network."""
    networks = ["ooh.network@example.nhs.scot", "cmg@example.nhs.scot"]
    ws = example_workspace(tmp_path / "ws", smtp_server, **{"lists__ooh-network__addresses": networks})
    sent = ws.cli("announce", "--send", "--yes")
    expected = {
        "a.example@example.nhs.scot", "b.example@example.nhs.scot", "gp-subgroup@example.nhs.scot",
        "cmg@example.nhs.scot", "primary.network@example.nhs.scot", "ooh.network@example.nhs.scot",
    }  # fmt: skip
    assert "announcement: 6 queued" in sent.stdout and "sent 6" in sent.stdout
    delivered = smtp_server.messages
    assert sorted(r for m in delivered for r in m.rcpt_tos) == sorted(expected)  # one message each
    ws.cli("register", "build", str(tmp_path / "site"))
    about = " ".join(_sections((tmp_path / "site" / "about.html").read_text(encoding="utf-8")).values())
    for m in delivered:
        msg = _parsed(m.data)
        assert msg["To"] == m.rcpt_tos[0]  # no list's addresses are shown to anyone
        text = _text(msg)
        for heading in AWARENESS_HEADINGS:
            assert heading.upper() in text
        for fact in FACTS:  # the email and the About page state the same facts
            assert fact in text and fact in about
        html = msg.get_body(preferencelist=("html",))
        assert html is not None
        assert all(fact in " ".join(html.get_content().split()) for fact in FACTS)
    again = ws.cli("announce", "--send", "--yes")
    assert "announcement: 0 queued, 6 already sent earlier" in again.stdout
    assert len(smtp_server.messages) == 6


def test_announce_asks_before_sending(tmp_path: Path, smtp_server: SmtpTestServer) -> None:
    ws = example_workspace(tmp_path / "ws", smtp_server)
    refused = ws.cli("announce", "--send", check=False)
    assert refused.returncode == 2
    assert "add --yes to send without asking" in refused.stderr
    shown = ws.cli("announce")
    assert "WHY THE INTERFACE IS A PRIORITY" in shown.stdout and "would go to 6 address(es)" in shown.stdout
    assert smtp_server.messages == []


def test_announce_confirms_on_a_terminal(tmp_path: Path, smtp_server: SmtpTestServer) -> None:
    """On a terminal (a real pseudo-terminal as stdin), `--send` asks; answering no sends nothing."""
    ws = example_workspace(tmp_path / "ws", smtp_server)
    leader, follower = pty.openpty()
    try:
        proc = ws.start("announce", "--send", stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.write(leader, b"n\n")
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(leader)
        os.close(follower)
    assert "Send the awareness email to 6 address(es)? [y/N]" in out
    assert proc.returncode == 1 and "Aborted" in err
    assert smtp_server.messages == []


def test_gold_standard_fails_without_a_senior_secondary_care_member(tmp_path: Path) -> None:
    """Must-show 3."""
    ws = example_workspace(tmp_path / "ws", members__1__senior=False)
    failed = ws.cli("check", "--gold-standard", check=False)
    assert failed.returncode == 1, failed.stderr
    line = next(x for x in failed.stdout.splitlines() if "Senior representation" in x)
    assert line.startswith("NOT MET") and "secondary care" in line and "primary care" not in line
    assert "at least one point not met" in failed.stdout

    ws.config.write_text(ws.config.read_text().replace("senior = false", "senior = true"))
    passed = ws.cli("check", "--gold-standard", check=False)
    assert passed.returncode == 0, passed.stdout
    assert "MET          Senior representation" in passed.stdout
    assert "CANNOT TELL  Accessible and visible" in passed.stdout  # no --register named


def test_gold_standard_register_and_page(tmp_path: Path) -> None:
    ws = example_workspace(tmp_path / "ws", group__reports_to_chain="")
    missing = ws.cli("check", "--gold-standard", "--register", str(tmp_path / "site"), check=False)
    assert missing.returncode == 1
    assert "NOT MET      Accessible and visible" in missing.stdout
    assert "NOT MET      Organisational recognition: [group] reports_to_chain not set" in missing.stdout
    ws.cli("register", "build", str(tmp_path / "site"))
    page = tmp_path / "self-check.html"
    built = ws.cli(
        "check", "--gold-standard", "--register", str(tmp_path / "site"), "--html", str(page), check=False
    )
    assert "MET          Accessible and visible" in built.stdout, built.stderr
    assert "set group.register_url so every email links it" in built.stdout
    rows = lxml.html.fromstring(page.read_text(encoding="utf-8")).xpath("//tbody/tr")
    assert [r.xpath("td")[1].text_content() for r in rows][:5] == ["not met", "met", "met", "met", "met"]
    assert not (tmp_path / "site" / "self-check.html").exists()


def test_run_mailproc_is_used_for_errors(tmp_path: Path) -> None:
    """--register without --gold-standard is a usage error."""
    ws = example_workspace(tmp_path / "ws")
    proc = run_mailproc("--config", str(ws.config), "check", "--register", str(tmp_path))
    assert proc.returncode == 2 and "--register and --html go with --gold-standard" in proc.stderr
