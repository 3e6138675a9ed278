"""What a stored mail's part headers say about OCR (the 今日 page's backlog estimate)."""

from __future__ import annotations

import os
from email.message import EmailMessage

from intake.glance import PICTURES_FROM, ocr_hint


def _mail(*files: tuple[str, str, int]) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.cn", "dsjjzcghc@shandong.cn", "申报书"
    msg.set_content("见附件")
    for name, ctype, size in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(os.urandom(size), maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def test_photos_of_a_form_are_pictures_and_a_pdf_may_be_a_scan() -> None:
    assert ocr_hint(_mail(("第1页.jpg", "image/jpeg", PICTURES_FROM), ("申报书.pdf", "application/pdf", 1000))) \
        == "pictures"
    assert ocr_hint(_mail(("申报书.pdf", "application/pdf", 5000))) == "pdf"
    assert ocr_hint(_mail(("申报书.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                           5000))) is None
    assert ocr_hint(_mail()) is None


def test_a_pdf_sent_as_octet_stream_is_known_by_its_name_even_encoded() -> None:
    # a Chinese name is sent RFC 2231-encoded by the stdlib: filename*=utf-8''%E7%94%B3….pdf
    assert ocr_hint(_mail(("申报书（盖章扫描件）.pdf", "application/octet-stream", 5000))) == "pdf"
    assert ocr_hint(_mail(("扫描.JPG", "application/octet-stream", PICTURES_FROM))) == "pictures"


def test_a_signature_logo_alone_is_not_a_picture_to_read() -> None:
    assert ocr_hint(_mail(("logo.png", "image/png", 8000))) is None
