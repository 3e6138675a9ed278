"""Check-box glyphs in PDF text stay beside the option they belong to.

Word and LibreOffice draw ☑ / □ from a fallback font in a pass of their own, so pdfium
(drawing order) reads "☑理论研究　☑技术创新　□应用实践" as
"☑理论研究 技术创新 应用实践 　 　 □ ☑". ``intake.documents.pdf`` rebuilds such lines
from character positions; every other line must stay exactly as pdfium gives it.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

import pypdfium2 as pdfium
import pytest
from support import SHARED  # noqa: E402
from support.factory import office
from support.factory.pdfs import _assemble
from support.formfactory import FormSpec, make_docx  # noqa: E402

from intake.documents.limits import Budget, Deadline, Limits
from intake.documents.pdf import read_pdf
from intake.understand import understand
from tracker.config import Settings

SAMPLE_002 = SHARED / "samples" / "mails" / "002-direct-docx-and-pdf.eml"
MARKS = set("☑☒✔√■□☐")

TICK_LINES = [
    "☑理论研究\u3000\u3000☑技术创新\u3000\u3000□应用实践",
    "☑研究报告\u3000\u3000□创新成果\u3000\u3000☑应用场景\u3000\u3000□实践案例",
    "单位性质：□中央驻鲁单位\u3000■省属单位\u3000□其他",
    "理论研究（√）\u3000技术创新（ ）\u3000应用实践（√）",
    "☐ 数据产权保护 ☒ 数据治理 ✔ 数据安全",
]
TICK_CELLS = [
    ["任务类别", "☑理论研究\u3000□技术创新\u3000☑应用实践"],
    ["预期成果", "☑研究报告\u3000□创新成果"],
]
# "预期成果：☑研究报告　□创新成果　☑应用场景　□实践案例" as one paragraph: pdfium alone
# reads "预期成果： 研究报告 创新成果 应用场景 实践案例 ☑ ☑ 　 □ …" (OUTCOME_MISSING).
FORM = FormSpec(
    layout="paragraphs", task_types=["theory", "application"], outcomes=["研究报告", "应用场景"]
)

needs_office = pytest.mark.skipif(
    not office.soffice_available(), reason="LibreOffice not installed"
)


def _squeeze(text: str) -> str:
    """ASCII spaces are layout, not content (a gap may read as one space or none)."""
    return re.sub(r" +", "", text)


def _read(pdf: bytes) -> str:
    limits = Limits()
    return read_pdf(pdf, Budget(limits), Deadline(limits.seconds_per_document)).text


def _pdfium_lines(pdf: bytes) -> list[str]:
    """The text as pdfium alone gives it (what intake read before the fix)."""
    document = pdfium.PdfDocument(pdf)
    try:
        text = "\n".join(
            document[i].get_textpage().get_text_bounded() for i in range(len(document))
        )
    finally:
        document.close()
    return text.replace("\r\n", "\n").splitlines()


def _unmarked(lines: list[str]) -> list[str]:
    return [line for line in lines if MARKS.isdisjoint(line)]


@pytest.fixture(scope="module")
def office_pdfs() -> dict[str, bytes]:
    """Both documents printed to PDF by LibreOffice in one run."""
    from support.factory.word import make_docx as plain_docx

    ticks = plain_docx(["三、揭榜任务", "（一）任务类别", *TICK_LINES], tables=[TICK_CELLS])
    pdfs = office.convert({"ticks.docx": ticks, "form.docx": make_docx(FORM)}, "pdf")
    return {"ticks": pdfs["ticks.pdf"], "form": pdfs["form.pdf"]}


@needs_office
def test_libreoffice_pdf_keeps_marks_beside_their_options(office_pdfs):
    pdf = office_pdfs["ticks"]
    before = [_squeeze(line) for line in _pdfium_lines(pdf)]
    text = _squeeze(_read(pdf))
    for line in TICK_LINES:
        assert _squeeze(line) not in before  # the drift this fixes is really there
        assert _squeeze(line) in text.splitlines(), text
    for label, value in TICK_CELLS:
        assert f"{label}{_squeeze(value)}" in text.splitlines(), text


@needs_office
def test_lines_without_marks_are_untouched(office_pdfs):
    for pdf in office_pdfs.values():
        assert _unmarked(_read(pdf).splitlines()) == _unmarked(_pdfium_lines(pdf))


@needs_office
def test_form_pdf_alone_gives_the_ticked_categories_and_outcomes(office_pdfs):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.com", "dsjjzcghc@shandong.cn", "申报书"
    msg["Date"] = "Tue, 14 Jan 2025 10:01:36 +0800"
    msg.set_content("附件是申报书（盖章 PDF），请查收。")
    msg.add_attachment(
        office_pdfs["form"], maintype="application", subtype="pdf", filename="申报书.pdf"
    )
    result = understand(msg.as_bytes(), Settings().round_policy())
    [app] = result.applications
    assert app.task_types == ["theory", "application"]
    codes = {d.code for d in result.deficiencies}
    assert not codes & {"TASK_TYPE_MISSING", "OUTCOME_MISSING"}, codes


def _marks_drawn_last_pdf() -> bytes:
    """Labels first, then every box of the page in a later pass (a different font)."""
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /T def "
        b"1 begincodespacerange <00> <FF> endcodespacerange 2 beginbfchar <80> <2611> "
        b"<81> <25A1> endbfchar endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    text = b"".join(
        b"BT /F1 12 Tf %d %d Td (%s) Tj ET " % (x, y, s)
        for x, y, s in [
            (72, 700, b"Task type:"),
            (100, 680, b"Theory"),
            (200, 680, b"Technology"),
            (320, 680, b"Practice"),
            (72, 660, b"Overall goal: a report."),
        ]
    )
    marks = b"".join(
        b"BT /F2 12 Tf %d 680 Td <%s> Tj ET " % (x, code)
        for x, code in [(86, b"80"), (186, b"81"), (306, b"80")]
    )
    ops = text + marks
    objects = [
        b"<< /Type /Catalog /Pages 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(cmap), cmap),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /ZapfDingbats /ToUnicode 3 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops),
        b"<< /Type /Pages /Kids [7 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 6 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
        b"/Resources << /Font << /F1 2 0 R /F2 4 0 R >> >> >>",
    ]
    return _assemble(objects, 1, b"")


def test_marks_drawn_after_the_page_rejoin_their_row():
    pdf = _marks_drawn_last_pdf()
    assert _pdfium_lines(pdf)[-1] == "☑ □ ☑"  # pdfium alone: a line of boxes at the end
    assert _read(pdf).splitlines() == [
        "Task type:",
        "☑ Theory □ Technology ☑ Practice",
        "Overall goal: a report.",
    ]


@pytest.mark.skipif(not SAMPLE_002.exists(), reason="shared samples not present")
def test_sample_002_pdf():
    mail = email.message_from_bytes(SAMPLE_002.read_bytes(), policy=email.policy.default)
    [pdf] = [
        p.get_payload(decode=True)
        for p in mail.iter_attachments()
        if (p.get_filename() or "").endswith(".pdf")
    ]
    lines = _read(pdf).splitlines()
    assert "☑理论研究\u3000\u3000☑技术创新\u3000\u3000□应用实践" in lines
    assert "☑研究报告\u3000\u3000☑创新成果\u3000\u3000□应用场景\u3000\u3000□实践案例" in lines
    assert _unmarked(lines) == _unmarked(_pdfium_lines(pdf))
