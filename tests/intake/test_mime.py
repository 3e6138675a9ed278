"""parse_message on real-world Chinese mail quirks, built byte by byte by factory.mails."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest
from support import SHARED
from support.factory import mails as m
from support.factory.word import make_docx

from intake.mime import parse_message

CHINA = timezone(timedelta(hours=8))
DOCX = make_docx(["申报书"])
CORPUS = SHARED / "corpus" / "peers"


def names(parsed):
    return [a.name for a in parsed.attachments]


# -- subjects, senders, dates -------------------------------------------------------


def test_gbk_encoded_subject_and_gb2312_body_with_gbk_only_character():
    # Foxmail: =?GBK?B?…?= subject; a body labelled gb2312 that holds 镕 (GBK only).
    raw = m.message(
        "附件是稷镕公司申报书。".encode("gbk"),
        subject=m.word("【揭榜挂帅申报】稷镕公司", "gbk"),
        content_type="text/plain; charset=gb2312",
    )
    parsed = parse_message(raw)
    assert parsed.envelope.subject == "【揭榜挂帅申报】稷镕公司"
    assert parsed.text == "附件是稷镕公司申报书。"


def test_raw_8bit_gbk_subject_is_decoded():
    raw = m.message(b"body", subject="揭榜挂帅申报书".encode("gbk"))
    assert parse_message(raw).envelope.subject == "揭榜挂帅申报书"


def test_encoded_words_splitting_a_character_and_bad_padding():
    data = "山东省大数据局".encode()
    first = base64.b64encode(data[:4]).decode()  # 山 + first byte of 东
    second = base64.b64encode(data[4:]).decode().rstrip("=")  # padding dropped
    raw = m.message(b"x", subject=f"=?UTF-8?B?{first}?=\r\n =?UTF-8?B?{second}?=")
    assert parse_message(raw).envelope.subject == "山东省大数据局"


def test_q_encoded_gb18030_subject_next_to_plain_text():
    raw = m.message(b"x", subject=f"Re: {m.word('申报材料', 'gb18030', 'Q')} [JB2025-0007]")
    assert parse_message(raw).envelope.subject == "Re: 申报材料 [JB2025-0007]"


@pytest.mark.parametrize(
    ("label", "encoding"),
    [
        ("utf-8", "gbk"),
        ("iso-8859-1", "gbk"),
        ("us-ascii", "gb18030"),
        ("x-unknown", "utf-8"),
        ("big5", "big5"),
    ],
)
def test_mislabelled_or_unknown_body_charsets_still_read(label, encoding):
    text = (
        "您好，附件是揭榜掛帥申報書，請查收。"
        if encoding == "big5"
        else "您好，附件是揭榜挂帅申报书，请查收。"
    )
    raw = m.message(text.encode(encoding), content_type=f"text/plain; charset={label}")
    assert parse_message(raw).text == text


def test_envelope_fields():
    raw = m.message(
        b"x",
        headers=[("In-Reply-To", "<jb2025-0007.1@shandong.cn>"),
                 ("References", "<a@x> <jb2025-0007.1@shandong.cn>")],
    )  # fmt: skip
    env = parse_message(raw).envelope
    assert env.from_addr == "zhang.san@example.cn"
    assert env.message_id == "<m1@example.cn>"
    # the topmost Received header is when our server got it, not the sender's Date
    assert env.received_at == datetime(2025, 1, 14, 10, 2, 0, tzinfo=CHINA)
    assert env.received_at.utcoffset() == timedelta(hours=8)
    assert env.date == datetime(2025, 1, 14, 10, 1, 36, tzinfo=CHINA)
    assert env.in_reply_to == "<jb2025-0007.1@shandong.cn>"
    assert env.references == ["<a@x>", "<jb2025-0007.1@shandong.cn>"]


def test_bare_cst_in_received_means_china_time():
    raw = m.message(b"x").replace(b"10:02:00 +0800", b"23:59:30 CST", 1)
    received = parse_message(raw).envelope.received_at
    assert received == datetime(2025, 1, 14, 23, 59, 30, tzinfo=CHINA)


# -- attachment names --------------------------------------------------------------


def test_rfc2231_filename_with_continuations():
    name = "附件1：揭榜挂帅申报书（盖章）.pdf".encode()
    pct = "".join(f"%{b:02X}" for b in name)
    disposition = f"attachment; filename*0*=utf-8''{pct[:60]}; filename*1*={pct[60:]}"
    raw = m.mail_with(
        [m.text_part("见附件"), m.part("application/pdf", b"%PDF-1.4", disposition=disposition)]
    )
    assert names(parse_message(raw)) == ["附件1：揭榜挂帅申报书（盖章）.pdf"]


def test_outlook_encoded_word_inside_quoted_filename():
    params = f'filename="{m.word("曜泗-揭榜挂帅申报书.docx", "gb2312")}"'
    raw = m.mail_with([m.text_part("x"), m.attachment(params, DOCX)])
    assert names(parse_message(raw)) == ["曜泗-揭榜挂帅申报书.docx"]


def test_raw_gbk_bytes_in_filename():
    params = b'filename="' + "申报书.docx".encode("gbk") + b'"'
    part = m.part("application/octet-stream", DOCX, disposition=b"attachment; " + params)
    parsed = parse_message(m.mail_with([m.text_part("x"), part]))
    assert names(parsed) == ["申报书.docx"]


def test_name_on_content_type_only_and_octet_stream_bytes_kept():
    part = m.part(f'application/octet-stream; name="{m.word("汇总表.xlsx")}"', b"PK\x03\x04data")
    parsed = parse_message(m.mail_with([m.text_part("x"), part]))
    assert names(parsed) == ["汇总表.xlsx"]
    assert parsed.attachments[0].data == b"PK\x03\x04data"
    assert parsed.attachments[0].content_type == "application/octet-stream"


def test_unnamed_pdf_part_gets_a_name_with_its_extension():
    parsed = parse_message(m.mail_with([m.text_part("x"), m.part("application/pdf", b"%PDF-1.4")]))
    assert names(parsed) == ["attachment-1.pdf"]


# -- bodies ---------------------------------------------------------------------------


def test_html_only_body_becomes_text_and_keeps_cloud_links():
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>您好，申报书太大，"
        '用超大附件发送：</p><a href="https://mail.qq.com/cgi-bin/ftnExs_download?k=1">申报书.zip</a>'
        "</body></html>"
    )
    raw = m.message(html.encode(), content_type="text/html; charset=utf-8")
    text = parse_message(raw).text
    assert "您好，申报书太大，用超大附件发送：" in text
    assert "https://mail.qq.com/cgi-bin/ftnExs_download?k=1" in text
    assert "color" not in text


def test_plain_alternative_preferred_over_html():
    ctype, body = m.multipart(
        [m.text_part("纯文本"), m.part("text/html; charset=utf-8", b"<p>HTML</p>")], "alternative"
    )
    raw = m.mail_with([m.part(ctype, body, cte="")])
    assert parse_message(raw).text == "纯文本"


# -- inline images, TNEF, forwarded mail ---------------------------------------------


def test_inline_cid_image_is_told_apart_from_a_real_attachment():
    html = m.part("text/html; charset=utf-8", b'<p>hi</p><img src="cid:logo@qq">')
    logo = m.part(
        "image/png", b"\x89PNG logo", disposition="inline", extra=[("Content-ID", "<logo@qq>")]
    )
    ctype, related = m.multipart([html, logo], "related")
    photo = m.attachment('filename="营业执照.jpg"', b"\xff\xd8\xff photo", "image/jpeg")
    parsed = parse_message(m.mail_with([m.part(ctype, related, cte=""), photo]))
    flags = {a.name: a.inline for a in parsed.attachments}
    assert flags == {"attachment-1.png": True, "营业执照.jpg": False}


def test_winmail_dat_is_replaced_by_its_files():
    dat = m.tnef({"申报书.docx": DOCX, "盖章版.pdf": b"%PDF-1.4"})
    part = m.attachment('filename="winmail.dat"', dat, "application/ms-tnef")
    parsed = parse_message(m.mail_with([m.text_part("x"), part]))
    assert names(parsed) == ["申报书.docx", "盖章版.pdf"]
    assert parsed.attachments[0].data == DOCX


def test_corrupt_winmail_dat_is_kept_so_it_shows_as_unreadable():
    part = m.attachment('filename="winmail.dat"', b"\x78\x9f\x3e\x22junk", "application/ms-tnef")
    parsed = parse_message(m.mail_with([m.text_part("x"), part]))
    assert names(parsed) == ["winmail.dat"]
    assert parsed.problems


def _forwarded(subject: str = "揭榜挂帅申报书") -> bytes:
    inner = m.mail_with(
        [m.text_part("原邮件正文"), m.attachment('filename="申报书.docx"', DOCX)],
        subject=m.word(subject),
    )
    return m.mail_with(
        [m.text_part("转发给您"), m.part("message/rfc822", inner, cte="7bit")], subject="Fwd"
    )


def test_forwarded_message_listed_with_its_attachments_in_its_container():
    parsed = parse_message(_forwarded())
    got = [(a.name, a.container, a.content_type) for a in parsed.attachments]
    assert got == [
        ("揭榜挂帅申报书.eml", None, "message/rfc822"),
        ("申报书.docx", "揭榜挂帅申报书.eml", "application/octet-stream"),
    ]
    assert parsed.attachments[1].data == DOCX
    assert parsed.text == "转发给您"  # the forwarded body belongs to the .eml, not to this mail


def test_attached_eml_file_is_opened_under_its_file_name():
    inner = m.mail_with([m.text_part("x"), m.attachment('filename="表.xlsx"', b"PK\x03\x04")])
    part = m.attachment('filename="原始邮件.eml"', inner)
    parsed = parse_message(m.mail_with([m.text_part("x"), part]))
    assert [(a.name, a.container) for a in parsed.attachments] == [
        ("原始邮件.eml", None),
        ("表.xlsx", "原始邮件.eml"),
    ]


def test_forwarded_in_forwarded_uses_the_outermost_name():
    outer = m.mail_with(
        [m.text_part("再转"), m.part("message/rfc822", _forwarded("内层"), cte="7bit")],
        subject="外层",
    )
    parsed = parse_message(outer)
    assert [(a.name, a.container) for a in parsed.attachments] == [
        ("Fwd.eml", None), ("内层.eml", "Fwd.eml"), ("申报书.docx", "Fwd.eml"),
    ]  # fmt: skip


# -- broken input and limits ----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff" * 1000,
        b"Subject: only headers",
        b"\r\n\r\nFrom: a@b\r\n\r\nbody",
        m.mail_with([m.text_part("x")])[:-40],  # no closing boundary
        "\ufeffFrom: a@b.c\r\nSubject: utf16\r\n\r\nbody".encode("utf-16"),
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n',
    ],
)
def test_never_raises_on_broken_bytes(raw):
    parsed = parse_message(raw)
    assert isinstance(parsed.text, str)


def test_deep_multipart_nesting_is_bounded():
    raw = b"From: a@b.c\r\nSubject: deep\r\n"
    raw += b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    for level in range(1, 2000):
        raw += b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (
            level - 1,
            level,
        )
    parsed = parse_message(raw)
    assert parsed.envelope.subject == "deep"
    assert parsed.problems


def test_part_count_limit():
    parts = [m.text_part("x")] + [m.attachment(f'filename="{i}.txt"', b"x") for i in range(30)]
    parsed = parse_message(m.mail_with(parts), max_parts=10)
    assert len(parsed.attachments) == 9
    assert any("10" in p for p in parsed.problems)


def test_forward_depth_limit():
    raw = m.mail_with([m.text_part("x"), m.attachment('filename="a.docx"', DOCX)], subject="L0")
    for level in range(1, 8):
        raw = m.mail_with(
            [m.text_part("x"), m.part("message/rfc822", raw, cte="7bit")], subject=f"L{level}"
        )
    parsed = parse_message(raw, max_depth=3)
    # three levels opened (L6, L5, L4); L3.eml is listed but not opened, so no a.docx
    assert [a.name for a in parsed.attachments] == ["L6.eml", "L5.eml", "L4.eml", "L3.eml"]
    assert any("nested" in p for p in parsed.problems)


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared peer corpus not present")
def test_peer_corpus_never_raises():
    # the slowest file's time is benchmarks/bounds.py's
    files = [
        p
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix.lower() in (".eml", ".msg", ".txt", ".raw", "")
    ]
    assert len(files) > 500
    for path in files:
        parsed = parse_message(path.read_bytes())
        assert isinstance(parsed.envelope.subject, str), path
