"""Bounds on the work one mail may cause, and a shared budget to enforce them."""

from __future__ import annotations

import time
from dataclasses import dataclass

from intake.documents.errors import LimitExceeded

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Every bound ``open_attachments`` enforces. Defaults fit real submissions: a form
    is < 100 pages, a city package < 50 MB, a 60-page scanned application ~30 MB.
    Sizes are counted while decompressing, so a bomb costs at most its bound."""

    # -- archives. A city package is < 50 MB and its scans do not compress, so 200 MB
    # unpacked is 4× the largest real one; one member holds the largest scan 3× over.
    max_total_bytes: int = 200 * MiB  # unpacked from archives, per call
    max_member_bytes: int = 100 * MiB  # one archive member, or a docx/xlsx package, unpacked
    max_ratio: int = 200  # unpacked / packed of a member: text packs ~10:1, bombs ~1000:1
    max_members: int = 500  # files in one archive
    max_depth: int = 3  # archive inside archive inside ...
    max_documents: int = 1000  # files opened per call, members included (a package: ~300)
    # -- docx/xlsx. A 300-page form's document.xml is ~5 MB; lxml needs ~12× the XML.
    max_xml_part_bytes: int = 20 * MiB  # one XML part, unpacked
    # -- PDF. A 300-page form decodes to ~20 MB of non-image streams; a full embedded
    # CJK font is ~20 MB; pdfium needs up to ~20× a page's content for dense drawing.
    max_pdf_pages: int = 300  # a longer PDF is refused, not read in part
    max_pdf_stream_bytes: int = 32 * MiB  # one stream decoded: content, font, object stream
    max_pdf_decoded_bytes: int = 200 * MiB  # all non-image streams of one PDF, decoded
    max_pdf_page_bytes: int = 16 * MiB  # content (and forms) one page parses
    pdf_table_pages: int = 3  # pages searched for table geometry (pdfplumber)
    pdf_table_page_bytes: int = 1 * MiB  # page content pdfplumber parses (pure Python: ~1 s)
    # -- OCR and text
    ocr_pages: int = 2  # textless pages OCR'd per document (cover + basic info)
    ocr_total_pages: int = 8  # pages OCR'd per call, across all documents
    ocr_dpi: int = 200
    max_image_pixels: int = 60_000_000  # read from the header; an A4 scan at 600 dpi is 35 M
    max_text_bytes: int = 2 * MiB  # of a .txt/.csv/.html decoded: ~700,000 Chinese characters
    max_text_chars: int = 2_000_000  # text kept per document
    max_sheet_cells: int = 200_000  # spreadsheet cells read per workbook
    seconds_per_document: float = 60.0  # checked inside page, row, member and inflate loops
    office_seconds: float = 120.0  # one LibreOffice batch conversion


class Budget:
    """What one ``open_attachments`` call has used so far."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.unpacked_bytes = 0
        self.ocr_pages = 0
        self.documents = 0

    def take_bytes(self, count: int) -> None:
        self.unpacked_bytes += count
        if self.unpacked_bytes > self.limits.max_total_bytes:
            raise LimitExceeded(
                f"压缩包解压后超过 {self.limits.max_total_bytes // MiB} MB 上限，疑似压缩炸弹，"
                "其余文件未读取"
            )

    def take_document(self) -> bool:
        """Count one more opened file; False once the per-call number is reached."""
        self.documents += 1
        return self.documents <= self.limits.max_documents

    def room_for(self, count: int) -> bool:
        """Whether ``count`` more files (an archive's members) still fit in the call."""
        return self.documents + count <= self.limits.max_documents

    def take_ocr_page(self) -> bool:
        """Reserve one OCR page; False once the per-call OCR budget is spent."""
        if self.ocr_pages >= self.limits.ocr_total_pages:
            return False
        self.ocr_pages += 1
        return True


class Deadline:
    """Wall-clock bound for one document, checked at natural pauses."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise LimitExceeded(f"文件处理超过 {self.seconds:g} 秒上限，已停止")
