"""Bounds on the work one mail may cause, and a shared budget to enforce them."""

from __future__ import annotations

import time
from dataclasses import dataclass

from intake.documents.errors import LimitExceeded

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Every bound ``open_attachments`` enforces. Defaults fit real submissions:
    a form is < 100 pages and a city package < 50 MB."""

    max_total_bytes: int = 512 * MiB  # all bytes unpacked from archives, per call
    max_member_bytes: int = 100 * MiB  # one archive member, unpacked
    max_ratio: int = 200  # unpacked / packed size of an archive member
    max_members: int = 500  # files in one archive
    max_depth: int = 3  # archive inside archive inside ...
    max_pdf_pages: int = 300  # a longer PDF is refused, not read in part
    pdf_table_pages: int = 3  # pages searched for table geometry (pdfplumber)
    ocr_pages: int = 2  # textless pages OCR'd per document (cover + basic info)
    ocr_total_pages: int = 8  # pages OCR'd per call, across all documents
    ocr_dpi: int = 200
    max_image_pixels: int = 60_000_000  # a decompression bomb beyond this
    max_text_chars: int = 2_000_000  # text kept per document
    max_sheet_cells: int = 200_000  # spreadsheet cells read per workbook
    seconds_per_document: float = 60.0  # checked between pages, members and OCR runs
    office_seconds: float = 120.0  # one LibreOffice batch conversion


class Budget:
    """What one ``open_attachments`` call has used so far."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.unpacked_bytes = 0
        self.ocr_pages = 0

    def take_bytes(self, count: int) -> None:
        self.unpacked_bytes += count
        if self.unpacked_bytes > self.limits.max_total_bytes:
            raise LimitExceeded(
                f"压缩包解压后超过 {self.limits.max_total_bytes // MiB} MB 上限，疑似压缩炸弹"
            )

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
