"""An outbox row becomes a well-formed, threaded, loop-safe RFC 5322 message."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from support.mail_contexts import CONTEXTS
from support.smtp import APPLICANT, SENDER

from notifier.compose import ComposeError, build_message
from notifier.models import OutboxMail
from notifier.outbox import Attachment, new_message_id, tagged_subject
from notifier.render import render

PDF = b"%PDF-1.7 sealed form"
PNG = b"\x89PNG\r\n\x1a\n chart"
BLOBS = {hashlib.sha256(b).hexdigest(): b for b in (PDF, PNG)}
NOW = datetime(2025, 1, 14, 2, 2, 30, tzinfo=UTC)


def make_row(context: dict | None = None, attachments: tuple[Attachment, ...] = ()) -> OutboxMail:
    rendered = render("ack", context or CONTEXTS["ack"])
    return OutboxMail(
        kind="ack", to_addrs=[APPLICANT], subject=tagged_subject(rendered.subject, "JB2025-0007"),
        text_body=rendered.text, html_body=rendered.html, reference="JB2025-0007",
        message_id=new_message_id(reference="JB2025-0007", kind="ack", sender=SENDER, now=NOW),
        in_reply_to="<orig@mail.example.cn>", references=["<first@x.cn>", "<orig@mail.example.cn>"],
        auto_submitted="auto-replied", attachments=[a.to_json() for a in attachments],
    )


def wire(msg: EmailMessage) -> EmailMessage:
    """What the receiver parses: the bytes, not our object."""
    return message_from_bytes(msg.as_bytes(), policy=default_policy)  # type: ignore[return-value]


def test_headers() -> None:
    row = make_row()
    got = wire(build_message(row, sender=SENDER, load=None, now=NOW))
    assert str(got["From"]) == f"山东省大数据局 <{SENDER}>"
    assert got["To"] == APPLICANT
    assert got["Subject"] == "[JB2025-0007] 申报材料已收到（数据流通交易）"
    assert got["Date"] == "Tue, 14 Jan 2025 10:02:30 +0800"
    assert got["Message-ID"] == row.message_id
    assert got["In-Reply-To"] == "<orig@mail.example.cn>"
    assert got["References"] == "<first@x.cn> <orig@mail.example.cn>"
    assert got["Auto-Submitted"] == "auto-replied"
    assert got["X-Auto-Response-Suppress"] == "All"
    assert "Precedence" not in got
    raw = build_message(row, sender=SENDER, load=None, now=NOW).as_bytes()
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0]  # encoded words, 7-bit headers
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_alternative_text_and_html() -> None:
    got = wire(build_message(make_row(), sender=SENDER, load=None, now=NOW))
    assert got.get_content_type() == "multipart/alternative"
    assert "受理编号：JB2025-0007" in got.get_body(("plain",)).get_content()
    assert "<strong>JB2025-0007</strong>" in got.get_body(("html",)).get_content()


def test_attachments_and_inline_images() -> None:
    row = make_row(attachments=(
        Attachment("揭榜挂帅申报书（盖章）.pdf", "application/pdf", hashlib.sha256(PDF).hexdigest()),
        Attachment("chart.png", "image/png", hashlib.sha256(PNG).hexdigest(), cid="chart"),
    ))
    msg = build_message(row, sender=SENDER, load=BLOBS.__getitem__, now=NOW)
    raw = msg.as_bytes()
    assert re.search(rb"filename\*(0\*)?=utf-8''%E6%8F%AD", raw)  # RFC 2231, UTF-8
    got = wire(msg)
    assert got.get_content_type() == "multipart/mixed"
    files = list(got.iter_attachments())
    assert [(p.get_filename(), p.get_content()) for p in files] == [("揭榜挂帅申报书（盖章）.pdf", PDF)]
    related = next(p for p in got.walk() if p.get_content_type() == "multipart/related")
    image = next(p for p in related.walk() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == "<chart>" and image.get_content() == PNG


def test_missing_blob_is_a_compose_error() -> None:
    row = make_row(attachments=(Attachment("a.pdf", "application/pdf", "c" * 64),))
    with pytest.raises(ComposeError):
        build_message(row, sender=SENDER, load=BLOBS.__getitem__)
    with pytest.raises(ComposeError):
        build_message(row, sender=SENDER, load=None)


def test_header_injection_through_a_unit_name() -> None:
    context = {**CONTEXTS["ack"], "unit": "某公司\r\nBcc: evil@x.cn\r\nX-Evil: 1",
               "files": ["a.pdf\r\nBcc: evil@x.cn"]}
    row = make_row(context, attachments=(
        Attachment("b\r\nBcc: evil@x.cn.pdf", "application/pdf", hashlib.sha256(PDF).hexdigest()),))
    msg = build_message(row, sender=SENDER, load=BLOBS.__getitem__, now=NOW)
    got = wire(msg)
    for part in got.walk():
        assert "Bcc" not in part and "X-Evil" not in part
    assert b"\nBcc:" not in msg.as_bytes() and b"\nX-Evil" not in msg.as_bytes()
    assert "某公司" not in got["Subject"] and "evil" not in got["Subject"]  # no applicant text in subjects
