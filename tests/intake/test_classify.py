"""Intent, reference numbers, cloud links, document roles, channel/city — through ``understand``."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from support.formfactory import (
    FormSpec,
    docx_document,
    make_docx,
    make_eml,
    make_table_docx,
    make_table_xlsx,
    make_uscc,
    scan_pdf,
    to_pdf,
    variant,
)

from campaign import Catalogue, CityBureau, RoundPolicy
from intake.classify import classify_document, cloud_links, find_reference
from intake.model import Document
from intake.understand import understand

CST = timezone(timedelta(hours=8))
POLICY = RoundPolicy(
    catalogue=Catalogue(deadlines={
        "direct": date(2025, 1, 20),
        "city_applicant": date(2025, 1, 15),
        "city_bureau": date(2025, 1, 20),
    }),
    cities={
        "济南市": CityBureau("济南市", ("jinan-dsj@dsj.jinan.example",), "孟晓林", "0531-94710893"),
        "烟台市": CityBureau(
            "烟台市", ("yantai-dsj@dsj.yantai.example",), "隋建波", "0535-7309473"
        ),
    },
    own_addresses=frozenset({"dsjjzcghc@shandong.cn"}),
)
FORM = FormSpec(unit="山东省海右数据研究院", uscc=make_uscc("370000", "12"), nature="省属事业单位")


def run(**mail):
    return understand(make_eml(**mail), POLICY)


def form_mail(**mail):
    return run(attachments=[("申报书.docx", make_docx(FORM))], **mail)


# -- intent ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "1"},
        {"Precedence": "auto_reply"},
        {"X-Auto-Response-Suppress": "All"},
    ],
)
def test_auto_reply_headers(headers: dict[str, str]) -> None:
    u = run(
        subject="Re: [JB2025-0011] 申报材料已收到", body="我目前休假，回来后回复。", headers=headers
    )
    assert (u.intent, u.reference, u.deficiencies) == ("auto_reply", "JB2025-0011", [])


@pytest.mark.parametrize(
    "subject",
    ["自动回复: [JB2025-0003] 申报材料已收到", "Out of Office: 申报", "Automatic reply: 您好"],
)
def test_auto_reply_subjects(subject: str) -> None:
    assert run(subject=subject, body="外出中").intent == "auto_reply"


@pytest.mark.parametrize(
    ("sender", "subject"),
    [
        ("MAILER-DAEMON@mx.example.com", "Undelivered Mail Returned to Sender"),
        ("postmaster@qq.com", "系统退信"),
        ("postmaster@outlook.com", "Undeliverable: [JB2025-0002] 申报材料已收到"),
    ],
)
def test_bounces(sender: str, subject: str) -> None:
    assert run(sender=sender, subject=subject, body="delivery failed").intent == "bounce"


def test_form_attached_is_a_submission_whatever_the_words() -> None:
    u = form_mail(
        subject="Re: [JB2025-0007] 查询进度", body="请问进展如何？修改后的申报书见附件，请查收。"
    )
    assert (u.intent, u.reference) == ("submission", "JB2025-0007")
    u = form_mail(headers={"Auto-Submitted": "no"})
    assert u.intent == "submission" and u.deficiencies == []


@pytest.mark.parametrize(
    "mail",
    [
        dict(subject="Re: [JB2025-0007] 申报材料已收到", body="请问目前审核进展如何？"),
        dict(
            subject="咨询",
            body="请问审核结果什么时候公布？",
            headers={"In-Reply-To": "<jb2025-0012.1736301780@shandong.cn>"},
        ),
        dict(subject="申报书是否收到", body="您好，我单位1月9日发送的申报书是否收到？"),
    ],
)
def test_status_queries(mail: dict) -> None:
    u = run(**mail)
    assert u.intent == "status_query" and u.deficiencies == []


def test_reference_from_threading_headers() -> None:
    u = run(
        subject="咨询",
        body="请问审核结果什么时候公布？",
        headers={"In-Reply-To": "<jb2025-0012.1736301780@shandong.cn>"},
    )
    assert u.reference == "JB2025-0012"


def test_thanks_reply_is_other_and_newsletter_is_other() -> None:
    assert run(subject="Re: [JB2025-0007] 申报材料已收到", body="收到，谢谢！").intent == "other"
    assert (
        run(subject="数据周刊", body="本期内容……", headers={"List-Id": "<news.example.com>"}).intent
        == "other"
    )


def test_says_attached_but_nothing_attached() -> None:
    u = run(subject="揭榜挂帅申报书-某公司", body="我单位申报书见附件，请查收。")
    assert u.intent == "submission" and {d.code for d in u.deficiencies} == {"NO_ATTACHMENT"}


def test_cloud_large_attachment() -> None:
    html = (
        '<p>从QQ邮箱发来的超大附件</p><a href="https://wx.mail.qq.com/ftn/download?func=3&k=abc123">'
        "申报书.docx (35M, 2025年2月10日 10:00 到期)</a>"
    )
    u = run(subject="揭榜挂帅申报书", body="申报书见超大附件。", html=html)
    assert u.intent == "submission" and {d.code for d in u.deficiencies} == {"CLOUD_ATTACHMENT"}


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (("Re: [JB2025-0007] 已收到",), "JB2025-0007"),
        (("受理编号：JB2025－0012",), "JB2025-0012"),
        (("jb2025-7",), "JB2025-0007"),
        (("JB2024-0001 JB20250001",), None),
        (("", "<jb2025-0031.17@shandong.cn>"), "JB2025-0031"),
    ],
)
def test_find_reference(texts: tuple[str, ...], expected: str | None) -> None:
    assert find_reference("JB2025", *texts) == expected


def test_cloud_links() -> None:
    assert cloud_links("链接: https://pan.baidu.com/s/1abc 提取码: x7k2")
    assert cloud_links("http://mail.163.com/large-attachment-download/index.html?p=X")
    assert not cloud_links("公司网站 https://www.example.com ，联系电话 0531-1234567")


# -- document roles ------------------------------------------------------------------------------


def test_roles_by_content_and_name() -> None:
    assert classify_document(docx_document(make_docx(FORM), "附件1.docx")) == "application_form"
    assert (
        classify_document(docx_document(make_table_docx([FORM]), "附件2.docx"))
        == "recommendation_table"
    )
    assert classify_document(Document(name="营业执照.jpg", format="image")) == "supporting"
    assert (
        classify_document(Document(name="申报书（盖章）.pdf", format="pdf", scanned=True))
        == "application_form"
    )
    assert classify_document(Document(name="附件.zip", format="zip")) == "unknown"
    letter = Document(
        name="关于报送推荐材料的函.docx",
        format="docx",
        text="关于报送2025年揭榜挂帅推荐汇总表的函\n省大数据局：现报送……",
    )
    assert classify_document(letter) == "supporting"


def test_blank_table_template_and_cover_letter_do_not_make_a_package() -> None:
    u = run(
        attachments=[
            ("申报书.docx", make_docx(FORM)),
            ("附件2 推荐汇总表.docx", make_table_docx([], "济南市")),
        ]
    )
    assert (u.channel, u.deficiencies) == ("direct", [])
    assert [d.role for d in u.documents] == ["application_form", "supporting"]


# -- channel and city -------------------------------------------------------------------------------


def _package_zip(specs: list[FormSpec], city: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("推荐汇总表.xlsx", make_table_xlsx(specs, city))
        for s in specs:
            z.writestr(f"{s.unit}申报书.docx", make_docx(s))
    return out.getvalue()


CITY_FORMS = [
    variant(
        FORM,
        unit="济南甲数据科技有限公司",
        uscc=make_uscc("370102"),
        nature="民营企业",
        direction=3,
    ),
    variant(
        FORM,
        unit="济南乙信息技术有限公司",
        uscc=make_uscc("370112"),
        nature="民营企业",
        direction=3,
    ),
]


def test_configured_bureau_package_is_via_city() -> None:
    u = run(
        sender="jinan-dsj@dsj.jinan.example",
        subject="济南市揭榜挂帅推荐材料",
        attachments=[("推荐汇总表.docx", make_table_docx(CITY_FORMS, "济南市"))]
        + [(f"{s.unit}申报书.docx", make_docx(s)) for s in CITY_FORMS],
    )
    assert (u.intent, u.channel, u.city) == ("submission", "via_city", "济南市")
    assert [(r.rank, r.direction) for r in u.recommendations] == [(1, 3), (2, 3)]
    assert len(u.applications) == 2
    assert {d.code for d in u.deficiencies} == {"MISSING_PDF_VERSION"}


def test_table_from_unknown_address_is_via_city_but_unverified() -> None:
    specs = [
        variant(s, uscc=make_uscc("370602", body=f"MA3C4D5E{i}")) for i, s in enumerate(CITY_FORMS)
    ]
    u = run(
        sender="someone@163.com",
        subject="推荐材料",
        attachments=[("烟台推荐材料.zip", _package_zip(specs, "烟台市"))],
    )
    assert (u.channel, u.city) == ("via_city", "烟台市")
    assert {"UNVERIFIED_CITY_SENDER", "MISSING_PDF_VERSION"} == {d.code for d in u.deficiencies}
    assert [d.container for d in u.documents] == [
        None,
        "烟台推荐材料.zip",
        "烟台推荐材料.zip",
        "烟台推荐材料.zip",
    ]


def test_bureau_address_without_table() -> None:
    u = run(
        sender="yantai-dsj@dsj.yantai.example",
        attachments=[("申报书.docx", make_docx(CITY_FORMS[0]))],
    )
    assert (u.channel, u.city) == ("via_city", "烟台市")
    assert "MISSING_RECOMMENDATION_TABLE" in {d.code for d in u.deficiencies}


def test_direct_submission_fields_and_received_at() -> None:
    u = form_mail(received=datetime(2025, 1, 14, 2, 2, tzinfo=UTC))
    assert (u.channel, u.city) == ("direct", None)
    assert u.received_at.isoformat() == "2025-01-14T10:02:00+08:00"
    [app] = u.applications
    assert (app.unit, app.unit_nature, app.city, app.direction) == (
        FORM.unit,
        "provincial",
        "济南市",
        2,
    )
    given = datetime(2025, 1, 21, 1, 0, tzinfo=UTC)
    assert {
        d.code
        for d in understand(
            make_eml(attachments=[("a.docx", make_docx(FORM))]), POLICY, given
        ).deficiencies
    } == {"LATE"}


def test_direction_from_subject_when_form_lacks_it() -> None:
    u = run(
        subject="揭榜挂帅申报（数据安全方向）",
        attachments=[("申报书.docx", make_docx(variant(FORM, direction=None)))],
    )
    assert u.applications[0].direction == 8 and u.deficiencies == []


# -- real PDFs: Word + sealed PDF packages, and scans --------------------------------------------


def _pdfs(specs: list[FormSpec]) -> list[bytes]:
    pdfs = to_pdf([make_docx(s) for s in specs])
    if pdfs is None:
        pytest.skip("LibreOffice not installed")
    return pdfs


def test_package_with_word_and_pdf_is_complete() -> None:
    pdfs = _pdfs(CITY_FORMS)
    files = [("推荐汇总表.docx", make_table_docx(CITY_FORMS, "济南市"))]
    for spec, pdf in zip(CITY_FORMS, pdfs, strict=True):
        files += [
            (f"{spec.unit}-申报书.docx", make_docx(spec)),
            (f"{spec.unit}-申报书（盖章）.pdf", pdf),
        ]
    u = run(sender="jinan-dsj@dsj.jinan.example", subject="推荐材料", attachments=files)
    assert u.deficiencies == []
    assert [len(a.documents) for a in u.applications] == [2, 2]
    assert [d.role for d in u.documents] == ["recommendation_table"] + ["application_form"] * 4


def test_pdf_only_package_misses_word() -> None:
    pdfs = _pdfs(CITY_FORMS)
    files = [("推荐汇总表.docx", make_table_docx(CITY_FORMS, "济南市"))]
    files += [(f"{s.unit}.pdf", pdf) for s, pdf in zip(CITY_FORMS, pdfs, strict=True)]
    u = run(sender="jinan-dsj@dsj.jinan.example", subject="推荐材料", attachments=files)
    assert {d.code for d in u.deficiencies} == {"MISSING_WORD_VERSION"}
    assert [a.unit for a in u.applications] == [s.unit for s in CITY_FORMS]


@pytest.mark.slow
def test_scanned_form_is_read_by_ocr() -> None:
    [pdf] = _pdfs([FORM])
    u = run(subject="揭榜挂帅申报书（扫描件）", attachments=[("申报书扫描件.pdf", scan_pdf(pdf))])
    [app] = u.applications
    assert (app.unit, app.uscc, app.direction, app.task_types) == (
        FORM.unit,
        FORM.uscc,
        2,
        ["theory"],
    )
    assert u.documents[0].scanned and {d.code for d in u.deficiencies} == {"OCR_USED"}


# -- never crash ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_garbage_never_raises(seed: int) -> None:
    rng = random.Random(seed)
    good = make_eml(attachments=[("申报书.docx", make_docx(FORM))])
    samples = [
        b"",
        b"\x00" * 50,
        rng.randbytes(3000),
        good[: rng.randrange(len(good))],
        good.replace(b"Content-Type", b"Content-Tyqe", 1),
        bytes(rng.choice(good) for _ in range(2000)),
    ]
    for raw in samples:
        u = understand(raw, POLICY)
        u.contract()


def test_corrupt_docx_is_unreadable_not_missing() -> None:
    u = run(attachments=[("申报书.docx", b"PK\x03\x04 this is not really a zip")])
    assert u.intent == "submission" and {d.code for d in u.deficiencies} == {"UNREADABLE_DOCUMENT"}


@pytest.mark.parametrize(
    ("subject", "body", "intent"),
    [
        ("咨询", "请问民营企业可以直接报送省局吗？", "other"),
        ("关于揭榜挂帅申报的咨询", "联合体成员可以是省外单位吗", "other"),
        ("揭榜挂帅申报书-某某公司", "", "submission"),
        ("报送材料", "现报送我单位揭榜挂帅申报书，请审阅。", "submission"),
        ("确认", "您好，我单位已于1月10日报送申报材料，想确认一下是否收到。", "status_query"),
    ],
)
def test_words_without_files(subject: str, body: str, intent: str) -> None:
    assert run(subject=subject, body=body).intent == intent
