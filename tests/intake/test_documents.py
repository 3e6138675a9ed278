"""open_attachments over every format, quirk and limit, with inputs from tests/factory."""

from __future__ import annotations

import hashlib
import io
import json
import os

import openpyxl
import pytest
from support import SHARED  # noqa: E402
from support.counting import (
    bytes_inflated,
    pdf_pages_loaded,
    pdf_pages_rendered,
    processes_started,
    soffice_runs,
)
from support.factory import archives as arc
from support.factory import mails as m
from support.factory import office as lo
from support.factory import pdfs, word

from intake.attachments import open_attachments
from intake.documents import Limits, sniff
from intake.mime import Attachment, parse_message

SAMPLES = SHARED / "samples"
CORPUS = SHARED / "corpus" / "peers"
FORM = word.make_docx(
    ["2025年全省数据要素市场化配置改革", "揭榜挂帅申报书", "单位名称：山东某某研究院"]
)


def open_one(name: str, data: bytes, limits: Limits = Limits()):
    docs = open_attachments([Attachment(name, data, "application/octet-stream")], limits)
    return docs[0] if len(docs) == 1 else docs


# -- format by bytes first, name second ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("申报书.docx", FORM, "docx"),
        ("申报书.doc", FORM, "docx"),  # a docx renamed .doc is still a docx
        ("附件", pdfs.text_pdf(["x"]), "pdf"),  # no extension
        ("申报书.docx", pdfs.text_pdf(["x"]), "pdf"),
        ("材料.zip", arc.make_zip({"a.txt": b"x"}), "zip"),
        ("材料.rar", arc.make_rar({"a.txt": b"x"}), "rar"),
        ("材料.7z", arc.make_7z({"a.txt": b"x"}), "7z"),
        ("营业执照.jpg", b"\xff\xd8\xff\xe0rest", "image"),
        ("scan", b"\x89PNG\r\n\x1a\nrest", "image"),
        ("申报书.doc", b"{\\rtf1\\ansi hello}", "doc"),  # RTF saved under a Word name
        ("fwd.eml", b"From: a@b.c\r\nSubject: x\r\n\r\nbody", "eml"),
        ("noname", b"Received: x\r\nFrom: a@b.c\r\nSubject: x\r\n\r\nbody", "eml"),
        ("申报书.wps", b"garbage", "wps"),
        ("readme.bin", b"garbage", "other"),
    ],
)
def test_sniff(name, data, expected):
    assert sniff(data, name) == expected


# -- Word --------------------------------------------------------------------------------


def test_docx_text_in_order_with_tables_headers_and_text_boxes():
    data = word.make_docx(
        ["第一段", "第二段"],
        raw_xml=[word.text_box("文本框里的单位名称")],
        tables=[[["单位名称", "山东某某研究院"], ["统一社会信用代码", "12370000MA6QUE1R0M"]]],
        header="附件1",
        footer="第 1 页",
    )
    doc = open_one("申报书.docx", data)
    assert doc.readable and doc.format == "docx"
    lines = doc.text.splitlines()
    assert lines[0] == "附件1" and lines[-1] == "第 1 页"
    assert lines.index("第一段") < lines.index("第二段") < lines.index("单位名称\t山东某某研究院")
    assert doc.text.count("文本框里的单位名称") == 1  # the VML fallback copy is skipped
    assert doc.tables == [
        [["单位名称", "山东某某研究院"], ["统一社会信用代码", "12370000MA6QUE1R0M"]]
    ]


def test_docx_merged_cells_are_not_repeated():
    doc = open_one("推荐汇总表.docx", word.make_docx(merged_table=True))
    assert doc.tables[0] == [
        ["推荐汇总表"],  # merged across: once, not three times
        ["榜单方向", "推荐顺序", "揭榜单位"],
        ["（二）数据治理", "1", "甲公司"],
        ["（二）数据治理", "2", "乙公司"],  # merged down: each row reads on its own
    ]
    assert doc.text.count("推荐汇总表") == 1
    assert doc.text.count("（二）数据治理") == 1


def test_docx_ticks_of_every_kind():
    data = word.make_docx(
        ["任务类别：☑理论研究 ■技术创新 √应用实践 ✔研究报告 □创新成果"],
        raw_xml=[
            word.checkbox_sdt(True, "数据治理"),
            word.checkbox_sdt(False, "数据安全"),
            word.form_checkbox(True, "应用场景"),
            word.form_checkbox(False, "实践案例"),
            word.symbol_ticks(),
        ],
    )
    lines = open_one("申报书.docx", data).text.splitlines()
    assert (
        lines[0] == "任务类别：☑理论研究 ■技术创新 √应用实践 ✔研究报告 □创新成果"
    )  # raw glyphs kept
    assert lines[1:] == [
        "☑数据治理",
        "□数据安全",
        "☑应用场景",
        "□实践案例",
        "☑理论研究□技术创新☑应用实践",
    ]


def test_docx_with_broken_xml_is_recovered():
    good = word.make_docx(["山东某某研究院"])
    broken = _rewrite_member(
        good, "word/document.xml", lambda xml: xml.replace(b"</w:body>", b"<w:p></w:body>")
    )
    doc = open_one("申报书.docx", broken)
    assert doc.readable and "山东某某研究院" in doc.text


def _rewrite_member(data: bytes, member: str, change) -> bytes:
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info, change(content) if info.filename == member else content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("申报书.docx", arc.truncated(FORM)),
        ("申报书.docx", b"PK\x03\x04" + b"\x00" * 100),
        ("汇总表.xlsx", b"PK\x03\x04broken"),
        ("申报书.pdf", arc.truncated(pdfs.text_pdf(["x" * 50] * 3), 0.3)),
        ("材料.zip", arc.truncated(arc.make_zip({"a.docx": FORM}))),
        ("材料.7z", arc.truncated(arc.make_7z({"a.docx": FORM}))),
        ("材料.rar", b"Rar!\x1a\x07\x01\x00garbage"),
        ("申报书.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
        ("汇总表.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 600),
        ("照片.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50),
        ("空.pdf", b""),
        ("说明.exe", b"MZ\x90\x00"),
    ],
)
def test_corrupt_truncated_or_unknown_files_are_unreadable_not_errors(name, data):
    doc = open_one(name, data)
    assert doc.readable is False
    assert doc.error and isinstance(doc.error, str)
    assert doc.sha256 == hashlib.sha256(data).hexdigest() and doc.size == len(data)


# -- PDF ---------------------------------------------------------------------------------


def test_pdf_text_layer():
    doc = open_one(
        "申报书.pdf", pdfs.text_pdf(["Application form page one", "Unit: Shandong Institute"])
    )
    assert (doc.format, doc.readable, doc.scanned, doc.pages) == ("pdf", True, False, 2)
    assert "Application form page one" in doc.text and "Unit: Shandong Institute" in doc.text


def test_password_protected_pdf():
    doc = open_one("申报书（盖章）.pdf", pdfs.text_pdf(["secret"], encrypted=True))
    assert doc.readable is False and "密码" in doc.error


def test_900_page_pdf_is_refused_quickly(monkeypatch):
    data = pdfs.text_pdf(["page"] * 900)
    loaded = pdf_pages_loaded(monkeypatch)
    doc = open_one("附件.pdf", data)
    assert doc.readable is False and "900" in doc.error
    assert loaded == []  # refused on its page count: not one of the 900 pages was read


@pytest.mark.slow
def test_scanned_pdf_is_ocrd_on_the_first_pages_only():
    data = pdfs.scanned_pdf(
        [
            ["揭榜挂帅申报书", "单位名称：山东舜光研究院", "统一社会信用代码：12370000MA6QUE1R0M"],
            ["第二页内容"],
            ["第三页内容"],
        ]
    )
    doc = open_one("申报书（盖章）.pdf", data, Limits(ocr_pages=1))
    assert doc.scanned is True and doc.readable is True and doc.pages == 3
    assert "揭榜挂帅申报书" in doc.text and "山东舜光研究院" in doc.text
    assert "第二页" not in doc.text  # the cover carried the basic information: it alone was OCR'd


# not slow (about 1 s): the default set's case of OCR reading on to the page with the code
def test_scanned_form_is_ocrd_on_until_its_basic_information():
    """Cover, instructions, then the basic information (the 2025 template): the first
    pages lack the credit code, so OCR goes on to the page that has it, and stops there."""
    data = pdfs.scanned_pdf(
        [
            ["揭榜挂帅申报书", "揭榜单位（盖章）山东舜光研究院"],
            ["填报说明"],
            ["一、揭榜单位基本情况", "统一社会信用代码 12370000MA6QUE1R0M"],
            ["第四页内容"],
            ["第五页内容"],
        ]
    )
    # (a day per document, not the shipped minute: which pages are read is the point, and
    # a CI machine shared with other jobs has taken over a minute to load the OCR engine)
    doc = open_one("申报书扫描件.pdf", data, Limits(ocr_pages=2, seconds_per_document=86_400))
    assert "12370000MA6QUE1R0M" in doc.text
    assert "第四页" not in doc.text


@pytest.mark.slow
def test_scan_that_is_no_form_is_ocrd_on_the_first_pages_only():
    data = pdfs.scanned_pdf([["营业执照"], ["第二页内容"], ["第三页内容"]])
    doc = open_one("营业执照.pdf", data, Limits(ocr_pages=2))
    assert "营业执照" in doc.text and "第二页" in doc.text
    assert "第三页" not in doc.text


@pytest.mark.slow
def test_photo_of_a_form_is_ocrd():
    doc = open_one("申报书照片.png", pdfs.png(["统一社会信用代码：12370000MA6QUE1R0M"]))
    assert doc.format == "image" and doc.scanned is True
    assert "12370000MA6QUE1R0M" in doc.text


def test_ocr_budget_per_mail_is_respected():
    # With no OCR budget left a scan is still listed (and marked scanned), just not read.
    data = pdfs.scanned_pdf([["揭榜挂帅申报书"]])
    doc = open_one("scan.pdf", data, Limits(ocr_total_pages=0))
    assert doc.scanned is True and doc.readable is True and doc.text.strip() == ""


def test_image_decompression_bomb():
    doc = open_one(
        "huge.png", pdfs.png(["x"], size=(4000, 4000)), Limits(max_image_pixels=1_000_000)
    )
    assert doc.readable is False and doc.error


# -- spreadsheets ----------------------------------------------------------------------


def _xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "推荐汇总表"
    sheet.append(["序号", "榜单方向", "推荐顺序", "揭榜单位"])
    sheet.append([1, "（二）数据治理", 1.0, "甲公司"])
    sheet.append([2, None, 2, "乙公司"])
    sheet.merge_cells("B2:B3")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_rows_with_merged_direction_filled_down_and_integers_clean():
    doc = open_one("汇总表.xlsx", _xlsx())
    assert doc.format == "xlsx" and doc.readable
    assert doc.tables == [[
        ["序号", "榜单方向", "推荐顺序", "揭榜单位"],
        ["1", "（二）数据治理", "1", "甲公司"],
        ["2", "（二）数据治理", "2", "乙公司"],
    ]]  # fmt: skip
    assert "[推荐汇总表]" in doc.text


# -- archives ----------------------------------------------------------------------------


def test_zip_with_gbk_names_without_utf8_flag():
    data = arc.make_zip({"青岛/推荐汇总表.xlsx": _xlsx(), "青岛/申报书.docx": FORM}, gbk_names=True)
    docs = open_attachments([Attachment("青岛市推荐材料.zip", data, "application/zip")])
    got = [(d.name, d.container, d.format, d.readable) for d in docs]
    assert got == [
        ("青岛市推荐材料.zip", None, "zip", True),
        ("推荐汇总表.xlsx", "青岛市推荐材料.zip", "xlsx", True),
        ("申报书.docx", "青岛市推荐材料.zip", "docx", True),
    ]
    assert "揭榜挂帅申报书" in docs[2].text


def test_nested_archives_report_the_outermost_container():
    inner_7z = arc.make_7z({"申报书.docx": FORM})
    middle = arc.make_zip(
        {
            "申报书.7z": inner_7z,
            "说明.rar": arc.make_rar(
                {"盖章版.pdf": pdfs.text_pdf(["Sealed application form, page one"])}
            ),
        }
    )
    docs = open_attachments(
        [Attachment("材料.zip", arc.make_zip({"内层.zip": middle}), "application/zip")]
    )
    got = [(d.name, d.container, d.format, d.readable) for d in docs]
    assert got == [
        ("材料.zip", None, "zip", True),
        ("内层.zip", "材料.zip", "zip", True),
        ("申报书.7z", "材料.zip", "7z", True),
        ("申报书.docx", "材料.zip", "docx", True),
        ("说明.rar", "材料.zip", "rar", True),
        ("盖章版.pdf", "材料.zip", "pdf", True),
    ]


def test_nesting_depth_limit():
    data = arc.make_zip({"a.zip": arc.make_zip({"b.zip": arc.make_zip({"c.docx": FORM})})})
    docs = open_attachments([Attachment("top.zip", data, "")], Limits(max_depth=2))
    assert [(d.name, d.readable) for d in docs] == [
        ("top.zip", True),
        ("a.zip", True),
        ("b.zip", False),
    ]
    assert "嵌套" in docs[2].error


def test_password_protected_zip_member_and_7z():
    docs = open_attachments([
        Attachment("加密.zip", arc.encrypted_zip({"申报书.docx": FORM}), ""),
        Attachment("加密.7z", arc.make_7z({"申报书.docx": FORM}, password="123"), ""),
    ])  # fmt: skip
    got = [(d.name, d.container, d.readable) for d in docs]
    assert got == [
        ("加密.zip", None, True),
        ("申报书.docx", "加密.zip", False),
        ("加密.7z", None, False),
    ]
    assert "密码" in docs[1].error and "密码" in docs[2].error


def test_zip_bomb_is_refused_without_unpacking(monkeypatch):
    bomb = arc.zip_bomb(50)
    inflated = bytes_inflated(monkeypatch)
    docs = open_attachments([Attachment("材料.zip", bomb, "")])
    assert len(docs) == 1 and docs[0].readable is False and "炸弹" in docs[0].error
    assert sum(inflated) == 0  # refused on the sizes it declares: not one byte of 50 MiB


@pytest.mark.parametrize(
    ("limits", "word_in_error"),
    [
        (Limits(max_members=3), "上限"),
        (Limits(max_total_bytes=50_000), "上限"),
    ],
)
def test_archive_count_and_total_size_limits(limits, word_in_error):
    data = arc.make_zip({f"{i}.docx": FORM for i in range(5)})
    docs = open_attachments([Attachment("材料.zip", data, "")], limits)
    assert docs[0].readable is False and word_in_error in docs[0].error


def test_member_size_limit_marks_only_that_member():
    data = arc.make_zip({"big.pdf": os.urandom(1_500_000), "申报书.docx": FORM})
    docs = open_attachments([Attachment("材料.zip", data, "")], Limits(max_member_bytes=1_000_000))
    assert [(d.name, d.readable) for d in docs] == [
        ("材料.zip", True),
        ("big.pdf", False),
        ("申报书.docx", True),
    ]


def test_eml_inside_zip_is_expanded_but_top_level_eml_is_not_repeated():
    inner = m.mail_with(
        [m.text_part("见附件"), m.attachment('filename="申报书.docx"', FORM)], subject="原件"
    )
    in_zip = open_attachments([Attachment("打包.zip", arc.make_zip({"原件.eml": inner}), "")])
    assert [(d.name, d.container, d.format) for d in in_zip] == [
        ("打包.zip", None, "zip"), ("原件.eml", "打包.zip", "eml"), ("申报书.docx", "打包.zip", "docx"),
    ]  # fmt: skip
    assert "见附件" in in_zip[1].text
    forwarded = m.mail_with([m.text_part("转发"), m.part("message/rfc822", inner, cte="7bit")])
    docs = open_attachments(parse_message(forwarded).attachments)
    assert [(d.name, d.container) for d in docs] == [
        ("原件.eml", None),
        ("申报书.docx", "原件.eml"),
    ]


def test_inline_images_are_skipped_unless_asked_for():
    logo = Attachment("logo.png", pdfs.png(["x"], size=(50, 50)), "image/png", inline=True)
    assert open_attachments([logo]) == []
    assert len(open_attachments([logo], Limits(ocr_total_pages=0), include_inline=True)) == 1


@pytest.mark.skipif(not (CORPUS / "apache-tika").is_dir(), reason="shared peer corpus not present")
def test_compressed_rar_and_gbk_zip_from_the_peer_corpus():
    rar = (CORPUS / "apache-tika/pkg-module/test-documents.rar").read_bytes()
    docs = open_attachments([Attachment("test-documents.rar", rar, "")], Limits(ocr_total_pages=0))
    assert docs[0].readable and len(docs) > 3
    assert all(d.container == "test-documents.rar" for d in docs[1:])
    gbk = (CORPUS / "apache-tika/pkg-module/gbk.zip").read_bytes()
    names = [d.name for d in open_attachments([Attachment("gbk.zip", gbk, "")])[1:]]
    assert (
        names
        and all(n.isprintable() for n in names)
        and any("\u4e00" <= c <= "\u9fff" for n in names for c in n)
    )


# -- legacy Office through LibreOffice ---------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not lo.soffice_available(), reason="LibreOffice not installed")
def test_doc_and_wps_in_one_libreoffice_batch(monkeypatch):
    made = lo.convert(
        {"申报书.docx": word.make_docx(["揭榜挂帅申报书", "单位名称：山东某某研究院"])}, "doc"
    )
    doc_bytes = made["申报书.doc"]
    locked = bytearray(doc_bytes)
    fib = locked.find(b"\xec\xa5")  # FIB wIdent; set fEncrypted as Word does for a password
    locked[fib + 0x0B] |= 0x01
    started = processes_started(monkeypatch)
    docs = open_attachments([
        Attachment("申报书.doc", doc_bytes, ""),
        Attachment("申报书.wps", doc_bytes, ""),  # WPS Office saves Word-compatible OLE2
        Attachment("加密.doc", bytes(locked), ""),
    ])  # fmt: skip
    assert [(d.format, d.readable) for d in docs] == [("doc", True), ("wps", True), ("doc", False)]
    assert "单位名称：山东某某研究院" in docs[0].text and docs[0].text == docs[1].text
    assert "密码" in docs[2].error  # refused before LibreOffice is even started
    assert soffice_runs(started) == 1  # one soffice start for both Word files


@pytest.mark.slow
@pytest.mark.skipif(not lo.calc_available(), reason="LibreOffice Calc not installed")
def test_xls_read_with_xlrd():
    data = lo.convert({"汇总表.xlsx": _xlsx()}, "xls")["汇总表.xls"]
    doc = open_one("汇总表.xls", data)
    assert (doc.format, doc.readable) == ("xls", True)
    assert doc.tables[0][2] == ["2", "（二）数据治理", "2", "乙公司"]  # merged cell filled down


# -- the shared samples ----------------------------------------------------------------


def _sample_cases():
    if not (SAMPLES / "truth.json").is_file():
        return []
    return json.loads((SAMPLES / "truth.json").read_text(encoding="utf-8"))


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples not present")
@pytest.mark.parametrize("case", _sample_cases(), ids=lambda c: c["file"][:3])
def test_sample_mail_documents_match_truth(case):
    raw = (SAMPLES / "mails" / case["file"]).read_bytes()
    docs = open_attachments(parse_message(raw).attachments)
    expected = case["expect"].get("documents") or []
    keys = ("name", "container", "format", "readable", "scanned")
    got = [{k: getattr(d, k) for k in keys} for d in docs]
    want = [
        {k: e.get(k, None if k == "container" else False if k == "scanned" else True) for k in keys}
        for e in expected
    ]
    assert got == want
    assert all(d.text.strip() for d in docs if d.format not in ("zip", "rar", "7z"))


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples not present")
def test_typical_mail_docx_plus_pdf_opens_without_libreoffice_or_ocr(monkeypatch):
    """What keeps the typical mail well under a second (benchmarks/bounds.py times it):
    no process is started and no page is rendered for OCR."""
    raw = (SAMPLES / "mails" / "002-direct-docx-and-pdf.eml").read_bytes()
    started, rendered = processes_started(monkeypatch), pdf_pages_rendered(monkeypatch)
    docs = open_attachments(parse_message(raw).attachments)
    assert [(d.format, d.readable, d.scanned) for d in docs] == [("docx", True, False), ("pdf", True, False)]
    assert started == [] and rendered == []


def test_winmail_dat_inside_a_zip_is_unpacked():
    dat = m.tnef({"申报书.docx": FORM})
    docs = open_attachments([Attachment("转存.zip", arc.make_zip({"winmail.dat": dat}), "")])
    assert [(d.name, d.container, d.format, d.readable) for d in docs] == [
        ("转存.zip", None, "zip", True), ("winmail.dat", "转存.zip", "other", True),
        ("申报书.docx", "转存.zip", "docx", True),
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared peer corpus not present")
def test_peer_corpus_documents_never_raise():
    kinds = dict(
        line.split("\t")[:2] for line in (CORPUS / "MANIFEST.tsv").read_text().splitlines()[1:]
    )
    files = [
        CORPUS / p
        for p, k in kinds.items()
        if k in ("pdf", "zip-container", "7z", "rar", "tnef", "ole", "gzip")
    ]
    attachments = [Attachment(p.name, p.read_bytes(), "") for p in files]
    docs = open_attachments(attachments, Limits(ocr_total_pages=0))
    assert len(docs) >= len(files)
    assert all(d.readable or d.error for d in docs)
    tops = [d for d in docs if d.container is None]
    assert [(d.name, d.size) for d in tops] == [(a.name, len(a.data)) for a in attachments]
    assert all(len(d.sha256) == 64 for d in tops)
