"""Spreadsheets (.xlsx with openpyxl, .xls with xlrd) rendered as tables."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

import openpyxl
import xlrd
from lxml import etree
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException

from intake.documents.errors import Encrypted, Unreadable
from intake.documents.limits import Deadline, Limits

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass
class SheetContent:
    text: str
    tables: list[list[list[str]]] = field(default_factory=list)


def read_xlsx(data: bytes, limits: Limits, deadline: Deadline | None = None) -> SheetContent:
    """Call ``archives.check_package`` first: openpyxl trusts the part sizes."""
    deadline = deadline or Deadline(limits.seconds_per_document)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError,
            etree.XMLSyntaxError, EOFError, OSError) as exc:  # fmt: skip
        raise Unreadable("Excel 文件已损坏或不完整，无法打开") from exc
    cells = limits.max_sheet_cells
    sheets = []
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        for sheet in book.worksheets:
            rows = []
            for row in sheet.iter_rows(values_only=True):
                deadline.check()
                rows.append([_text(v) for v in row])
                cells -= len(row)
                if cells <= 0:
                    break
            merges = _xlsx_merges(package, sheet, deadline)
            sheets.append((sheet.title, _fill_down(rows, merges, deadline)))
            if cells <= 0:
                break
    except (KeyError, ValueError, TypeError, etree.XMLSyntaxError, zipfile.BadZipFile) as exc:
        raise Unreadable("Excel 文件内容已损坏，无法读取") from exc
    finally:
        book.close()
    return _render(sheets)


def _xlsx_merges(
    package: zipfile.ZipFile, sheet: object, deadline: Deadline
) -> list[tuple[int, int, int, int]]:
    """Merged ranges of a read-only sheet (openpyxl's read-only mode omits them)."""
    path = getattr(sheet, "_worksheet_path", None)
    if not path:
        return []
    merges = []
    try:
        with package.open(path) as xml:
            # tag= filters in C, so a check per merge is not a check per cell: the
            # deadline is read every 64 kB of XML instead
            for _, el in etree.iterparse(
                _Checked(xml, deadline), tag=_MAIN + "mergeCell", resolve_entities=False
            ):
                merges.append(range_boundaries(el.get("ref", "")))
                el.clear()
    except (KeyError, ValueError, TypeError, etree.XMLSyntaxError, zipfile.BadZipFile):
        return merges
    # range_boundaries gives (min_col, min_row, max_col, max_row), 1-based.
    return [(r1 - 1, c1 - 1, r2 - 1, c2 - 1) for c1, r1, c2, r2 in merges if None not in (c1, r1)]


class _Checked:
    """A file object that checks a deadline on every read (lxml reads ~64 kB at a time)."""

    def __init__(self, stream: IO[bytes], deadline: Deadline) -> None:
        self.stream, self.deadline = stream, deadline

    def read(self, size: int = -1) -> bytes:
        self.deadline.check()
        return self.stream.read(size)


def read_xls(data: bytes, limits: Limits, deadline: Deadline | None = None) -> SheetContent:
    deadline = deadline or Deadline(limits.seconds_per_document)
    try:
        # xlrd prints warnings to stdout by default, which would corrupt `inspect --json`
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True,
                                  logfile=io.StringIO())
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise Encrypted("Excel 文件已加密（设置了打开密码），无法读取") from exc
        raise Unreadable("Excel 文件已损坏或格式无法识别") from exc
    except (AssertionError, IndexError, ValueError, KeyError, EOFError, OSError, struct.error) as exc:
        raise Unreadable("Excel 文件已损坏，无法打开") from exc
    cells = limits.max_sheet_cells
    sheets = []
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            rows = []
            for r in range(sheet.nrows):
                deadline.check()
                rows.append(
                    [_xls_text(sheet.cell(r, c), book.datemode) for c in range(sheet.ncols)]
                )
                cells -= sheet.ncols
                if cells <= 0:
                    break
            merges = [(r1, c1, r2 - 1, c2 - 1) for r1, r2, c1, c2 in sheet.merged_cells]
            sheets.append((sheet.name, _fill_down(rows, merges, deadline)))
            if cells <= 0:
                break
    except (xlrd.XLRDError, AssertionError, IndexError, ValueError, KeyError) as exc:
        raise Unreadable("Excel 文件内容已损坏，无法读取") from exc
    finally:
        book.release_resources()
    return _render(sheets)


def _fill_down(
    rows: list[list[str]], merges: Iterable[tuple[int, int, int, int]], deadline: Deadline
) -> list[list[str]]:
    """Repeat a vertically merged value down its rows (each row then reads alone);
    horizontally merged cells stay empty so nothing is printed twice in a row.

    The deadline is checked at every merged range: a sheet of thousands of tall ranges
    is the document's time, not the worker's (it ends as over its limit)."""
    for r1, c1, r2, _c2 in merges:
        deadline.check()
        if r1 >= len(rows) or c1 >= len(rows[r1]):
            continue
        value = rows[r1][c1]
        for r in range(r1 + 1, min(r2, len(rows) - 1) + 1):
            if c1 < len(rows[r]) and not rows[r][c1]:
                rows[r][c1] = value
    return _trim(rows)


def _trim(rows: list[list[str]]) -> list[list[str]]:
    trimmed = []
    for row in rows:
        while row and not row[-1]:
            row = row[:-1]
        trimmed.append(row)
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return trimmed


def _render(sheets: list[tuple[str, list[list[str]]]]) -> SheetContent:
    lines, tables = [], []
    for title, rows in sheets:
        if not rows:
            continue
        tables.append(rows)
        lines.append(f"[{title}]")
        lines.extend("\t".join(cell.replace("\n", " ") for cell in row) for row in rows)
    return SheetContent(text="\n".join(lines), tables=tables)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a rank typed as 1 is stored as 1.0
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _xls_text(cell: xlrd.sheet.Cell, datemode: int) -> str:
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return _text(xlrd.xldate.xldate_as_datetime(cell.value, datemode))
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            return str(cell.value)
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return ""
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    return _text(cell.value)
