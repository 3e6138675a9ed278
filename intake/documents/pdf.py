"""PDF: text layer with pypdfium2, tables with pdfplumber, scans with OCR."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.psparser import PSException

from intake.documents.errors import Encrypted, LimitExceeded, Unreadable
from intake.documents.limits import Budget, Deadline, Limits
from intake.documents.ocr import ocr_image
from intake.documents.pdfstreams import StreamSizes, measure

_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
MAX_RENDER_SIDE = 2400  # pixels; A4 at 200 dpi is 1654 x 2339
MIN_TEXT_CHARS = 20  # fewer visible characters on a page: it is an image (scan)
_RARE = re.compile("[\u3400-\u4dbf\ue000-\uf8ff\ufffd]")  # CJK ext. A, private use
_CJK = re.compile("[\u3400-\u9fff\ue000-\uf8ff\ufffd]")


@dataclass
class PdfContent:
    text: str
    pages: int
    scanned: bool
    tables: list[list[list[str]]] = field(default_factory=list)


def read_pdf(data: bytes, budget: Budget, deadline: Deadline) -> PdfContent:
    limits = budget.limits
    # pdfium and pdfminer inflate whole streams as they meet them: bound them first
    sizes = measure(data, limits, deadline)
    pdf = _open(data)
    try:
        count = len(pdf)
        if count > limits.max_pdf_pages:
            raise LimitExceeded(f"PDF 共 {count} 页，超过 {limits.max_pdf_pages} 页上限，未读取")
        texts, textless = [], []
        for index in range(count):
            deadline.check()
            text = _page_text(pdf, index)
            if not _has_text_layer(text):
                textless.append(index)
                if index < limits.ocr_pages and budget.take_ocr_page():
                    deadline.check()
                    text = _ocr_page(pdf, index, limits.ocr_dpi)
            texts.append(text)
    finally:
        pdf.close()
    # A scan: most pages are pictures. A typed form with one scanned annex is not.
    scanned = count > 0 and len(textless) * 2 >= count
    tables = [] if scanned else pdf_tables(data, limits, sizes, deadline)
    text = "\n".join(texts)[: limits.max_text_chars]
    return PdfContent(text=text, pages=count, scanned=scanned, tables=tables)


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PASSWORD_ERROR:
            raise Encrypted("PDF 已加密（设置了打开密码），无法读取") from exc
        raise Unreadable("PDF 文件已损坏或不完整，无法打开") from exc


def _page_text(pdf: pdfium.PdfDocument, index: int) -> str:
    try:
        page = pdf[index]
        textpage = page.get_textpage()
        text: str = textpage.get_text_bounded()
    except pdfium.PdfiumError:
        return ""
    if not _MARKS.isdisjoint(text):
        try:
            text = _marks_in_place(textpage, text)
        except pdfium.PdfiumError:
            pass  # the reordering is a refinement: pdfium's own order is still the text
    return text.replace("\r\n", "\n").replace("\r", "\n")


# -- tick marks -----------------------------------------------------------------------
# A check box glyph (☑ □ ■ √ …) is often missing from the text font, so Word and
# LibreOffice draw it from a fallback font in a pass of its own; pdfium gives text in
# drawing order, and "☑理论研究　☑技术创新　□应用实践" comes out as
# "☑理论研究 技术创新 应用实践 　 □ ☑". Lines holding such a glyph are rebuilt from
# the characters' positions (~1 ms a page, only on pages that have one).

_MARKS = frozenset("☑☒✅✓✔√■▣◼◾◉⊠🗹⬛□☐▢◻◽❏❑⬜") | frozenset(
    "\uf0fe\uf052\uf054\uf0fc\uf0a8\uf0a3\uf06f"
)
_GAP = 0.25  # of the font height: a wider gap between two glyphs reads as a space
_MAX_PAIRS = 2_000_000  # lone marks × glyphs compared on one page (a hostile page is skipped)


@dataclass
class _Char:
    text: str
    left: float
    bottom: float
    right: float
    top: float
    generated: bool

    @property
    def middle(self) -> float:
        return (self.bottom + self.top) / 2

    def same_row(self, other: _Char) -> bool:
        """``other``'s vertical middle lies within this glyph's height (or vice versa)."""
        return self.bottom <= other.middle <= self.top or other.bottom <= self.middle <= other.top


def _marks_in_place(textpage: pdfium.PdfTextPage, text: str) -> str:
    """``text`` with every line that holds a tick mark put in left-to-right order."""
    count = textpage.count_chars()
    codes = [pdfium_c.FPDFText_GetUnicode(textpage, i) for i in range(count)]
    codes = [c if c < 0xD800 or 0xDFFF < c <= 0x10FFFF else 0xFFFD for c in codes]
    if "".join(map(chr, codes)) != text:
        return text  # characters outside the page box: indices do not match the text
    lines: list[list[int]] = [[]]
    for i, code in enumerate(codes):
        if code == 10:
            lines.append([])
        elif code != 13:
            lines[-1].append(i)
    marked = [n for n, line in enumerate(lines) if any(chr(codes[i]) in _MARKS for i in line)]
    boxes: dict[int, _Char] = {}

    def char(i: int) -> _Char:
        if i not in boxes:
            left, bottom, right, top = textpage.get_charbox(i, loose=True)
            generated = bool(pdfium_c.FPDFText_IsGenerated(textpage, i))
            boxes[i] = _Char(chr(codes[i]), left, bottom, right, top, generated)
        return boxes[i]

    if not marked or any(
        not char(i).generated and abs(pdfium_c.FPDFText_GetCharAngle(textpage, i)) > 0.01
        for n in marked
        for i in lines[n]
    ):
        return text  # rotated text: positions do not give the reading order
    emptied = _rehome_lone_marks(lines, marked, char)
    out = []
    for n, line in enumerate(lines):
        if n in emptied and all(chr(codes[i]).isspace() for i in line):
            continue
        if any(chr(codes[i]) in _MARKS for i in line):
            out.append(_positional(char(i) for i in line))
        else:
            out.append("".join(chr(codes[i]) for i in line))
    return "\r\n".join(out)


def _rehome_lone_marks(
    lines: list[list[int]], marked: list[int], char: Callable[[int], _Char]
) -> set[int]:
    """A line of nothing but marks (drawn after the rest of the page) joins the line
    on the same row whose text starts closest to each mark's right. Returns the lines
    whose marks all moved."""
    lone = []
    for n in marked:
        glyphs = [i for i in lines[n] if not char(i).text.isspace()]
        if glyphs and all(char(i).text in _MARKS for i in glyphs):
            lone += [(n, i) for i in glyphs]
    if not lone:
        return set()
    words = [
        (m, char(j))
        for m, line in enumerate(lines)
        for j in line
        if not (char(j).text.isspace() or char(j).text in _MARKS)
    ]
    if len(lone) * len(words) > _MAX_PAIRS:
        return set()
    for n, i in lone:
        mark, best = char(i), None
        for m, other in words:
            if not mark.same_row(other):
                continue
            # the option usually follows its box; one before it ("理论研究 ☑") is farther
            gap = other.left - mark.right
            distance = gap if gap >= -1 else 2 * (mark.left - other.right) + 1000
            if best is None or distance < best[0]:
                best = (distance, m)
        if best is not None:
            lines[n].remove(i)
            lines[best[1]].append(i)
    return {n for n, _ in lone if not any(char(i).text in _MARKS for i in lines[n])}


def _positional(chars: Iterable[_Char]) -> str:
    """Glyphs grouped into rows (top to bottom), each row left to right; pdfium's
    generated spaces are dropped and real gaps between glyphs become one space."""
    rows: list[list[_Char]] = []
    for c in sorted((c for c in chars if not c.generated), key=lambda c: -c.middle):
        row = next((r for r in rows if c.same_row(r[0])), None)
        if row is None:
            rows.append([c])
        else:
            row.append(c)
    out = []
    for row in rows:
        row.sort(key=lambda c: c.left)
        text, previous = "", None
        for c in row:
            if previous is not None and not (c.text.isspace() or previous.text.isspace()):
                height = max(c.top - c.bottom, previous.top - previous.bottom, 1.0)
                if c.left - previous.right > _GAP * height:
                    text += " "
            text += c.text
            previous = c
        out.append(text)
    return "\r\n".join(out)


def _has_text_layer(text: str) -> bool:
    visible = "".join(text.split())
    if len(visible) < MIN_TEXT_CHARS:
        return False
    # A broken ToUnicode map turns Chinese into rare extension-A characters.
    cjk = len(_CJK.findall(visible))
    return not (cjk >= 10 and len(_RARE.findall(visible)) > cjk * 0.3)


def _ocr_page(pdf: pdfium.PdfDocument, index: int, dpi: int) -> str:
    try:
        page = pdf[index]
        # A poster-sized page at 200 dpi would be a huge bitmap: cap the longer side.
        scale = min(dpi / 72, MAX_RENDER_SIDE / max(*page.get_size(), 1))
        image = page.render(scale=scale).to_pil()
    except pdfium.PdfiumError:
        return ""
    return ocr_image(image)


def pdf_tables(
    data: bytes, limits: Limits, sizes: StreamSizes, deadline: Deadline
) -> list[list[list[str]]]:
    """Ruled tables on the first ``pdf_table_pages`` pages (pdfplumber: ~50 ms a page),
    skipping pages whose content pdfplumber would take long to parse in Python."""
    bound = limits.pdf_table_page_bytes
    if not any(sizes.page_at_most(i, bound) for i in range(limits.pdf_table_pages)):
        return []  # too big, or unknown because pdfminer cannot read the pages either
    tables: list[list[list[str]]] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for index, page in enumerate(pdf.pages[: limits.pdf_table_pages]):
                deadline.check()
                if not sizes.page_at_most(index, bound):
                    continue
                for table in page.extract_tables():
                    rows = [[_cell(c) for c in row] for row in table]
                    if any(any(cell for cell in row) for row in rows):
                        tables.append(rows)
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AttributeError,
            LimitExceeded):  # fmt: skip
        return tables  # tables are a bonus; the text layer already succeeded
    return tables


def _cell(value: str | None) -> str:
    """Undo pdfplumber's line wrapping: Chinese joins directly, Latin words with a space."""
    lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
    out = ""
    for line in lines:
        latin = out[-1:].isascii() and out[-1:].isalnum() and line[0].isascii()
        out += (" " if latin else "") + line
    return out
