"""PDF: text layer with pypdfium2, tables with pdfplumber, scans with OCR."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pdfplumber
import pypdfium2 as pdfium
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.psparser import PSException

from intake.documents.errors import Encrypted, LimitExceeded, Unreadable
from intake.documents.limits import Budget, Deadline
from intake.documents.ocr import ocr_image

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
    tables = [] if scanned else pdf_tables(data, limits.pdf_table_pages)
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
        text = textpage.get_text_bounded()
    except pdfium.PdfiumError:
        return ""
    return text.replace("\r\n", "\n").replace("\r", "\n")


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


def pdf_tables(data: bytes, max_pages: int) -> list[list[list[str]]]:
    """Ruled tables on the first ``max_pages`` pages (pdfplumber: ~50 ms a page)."""
    if max_pages <= 0:
        return []
    tables: list[list[list[str]]] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages[:max_pages]:
                for table in page.extract_tables():
                    rows = [[_cell(c) for c in row] for row in table]
                    if any(any(cell for cell in row) for row in rows):
                        tables.append(rows)
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AttributeError):
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
