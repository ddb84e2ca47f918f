"""Varied, realistic inbound mail for end-to-end tests (written by this project)."""

from __future__ import annotations

from tests.mailfactory import Attachment, make_message

SENDERS = (
    "Dr Morag Campbell <morag.campbell@example-practice.scot.nhs.uk>",
    "iain.fraser@hospital.example.nhs.scot",
    '"Thomson, Sarah (Practice Manager)" <sarah.thomson@example-practice.scot.nhs.uk>',
    "=?utf-8?q?Se=C3=A1n_O=27Neill?= <sean.oneill@example.nhs.scot>",
)
TOPICS = (
    "Immediate discharge letters without medication changes",
    "Referral rejected for missing information",
    "Abnormal result not followed up after discharge",
    "Ward asked GP to arrange outpatient bloods",
    "Significant event: insulin dose error at transfer",
)


def varied_message(i: int) -> bytes:
    """Message number i: the style cycles through plain, HTML-only, encoded, attached, Latin-1."""
    # Distinct addresses: the per-address daily limit on automatic mail must not bite here.
    sender = SENDERS[i % len(SENDERS)].replace("@", f"+{i}@")
    topic = f"{TOPICS[i % len(TOPICS)]} (case {i})"
    body = f"Dear group,\n\nExample {i}: {topic.lower()}.\nThis delayed care for the patient.\n\nRegards\n"
    style = i % 5
    mid = f"<varied-{i}@example.nhs.scot>"
    if style == 1:
        return make_message(
            from_=sender,
            subject=topic,
            body=None,
            message_id=mid,
            html=f"<p>Dear group,</p><p>Example {i}: <b>{topic}</b></p>",
        )
    if style == 2:
        return make_message(from_=sender, subject=f"Überweisung – {topic} ✓", body=body, message_id=mid)
    if style == 3:
        pdf = Attachment(f"letter-{i}.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 4, "application/pdf")
        return make_message(from_=sender, subject=topic, body=body, attachments=[pdf], message_id=mid)
    if style == 4:
        raw = make_message(from_=sender, subject=topic, body=body, message_id=mid)
        return raw.replace(b'charset="utf-8"', b'charset="iso-8859-1"')
    return make_message(from_=sender, subject=topic, body=body, message_id=mid)
