"""PDF: text layer with pypdfium2, tables with pdfplumber's finder, scans with OCR."""

from __future__ import annotations

import ctypes
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.table import TableFinder, TableSettings, merge_edges
from pdfplumber.utils.geometry import filter_edges

from intake.documents.errors import Encrypted, LimitExceeded, Unreadable
from intake.documents.images import PageReading, read_page
from intake.documents.limits import Budget, Deadline
from intake.documents.ocr import OcrUnavailable
from intake.documents.pdfstreams import measure
from intake.model import PageLayout

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
    layout: list[PageLayout] = field(default_factory=list)  # OCR'd pages that may be a table


def read_pdf(data: bytes, budget: Budget, deadline: Deadline) -> PdfContent:
    limits = budget.limits
    # pdfium inflates whole streams as it meets them: bound them first
    measure(data, limits, deadline)
    pdf = _open(data)
    tables: list[list[list[str]]] = []
    try:
        count = len(pdf)
        if count > limits.max_pdf_pages:
            raise LimitExceeded(f"PDF 共 {count} 页，超过 {limits.max_pdf_pages} 页上限，未读取")
        texts, textless = [], []
        layout: list[PageLayout] = []
        turn = 0  # how the last page OCR read had to be turned: the next is tried so first
        form = basic = False  # what the pages read so far show (see _wants_ocr)
        for index in range(count):
            deadline.check()
            text, textpage = _page_text(pdf, index)
            if index < limits.pdf_table_pages and textpage is not None:
                # pdfium holds the page parsed now; a scan's tables are dropped below
                tables += page_tables(textpage, deadline)
            if not _has_text_layer(text):
                textless.append(index)
                if _wants_ocr(index, limits.ocr_pages, form, basic) and budget.take_ocr_page():
                    deadline.check()
                    reading = _ocr_page(pdf, index, limits.ocr_dpi, turn)
                    text, turn = (reading.text, reading.turn) if reading else ("", turn)
                    if reading and reading.layout:
                        layout.append(reading.layout)
            form = form or bool(_FORM_WORDS.search(text))
            basic = basic or bool(_BASIC_INFO.search(text))
            texts.append(text)
    finally:
        pdf.close()
    # A scan: most pages are pictures. A typed form with one scanned annex is not.
    scanned = count > 0 and len(textless) * 2 >= count
    text = "\n".join(texts)[: limits.max_text_chars]
    return PdfContent(text=text, pages=count, scanned=scanned, tables=[] if scanned else tables,
                      layout=layout if scanned else [])


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PASSWORD_ERROR:
            raise Encrypted("PDF 已加密（设置了打开密码），无法读取") from exc
        raise Unreadable("PDF 文件已损坏或不完整，无法打开") from exc


def _page_text(pdf: pdfium.PdfDocument, index: int) -> tuple[str, pdfium.PdfTextPage | None]:
    """The page's text, and pdfium's text page (kept for the tables)."""
    try:
        page = pdf[index]
        textpage = page.get_textpage()
        text: str = textpage.get_text_bounded()
    except pdfium.PdfiumError:
        return "", None
    if not _MARKS.isdisjoint(text):
        try:
            text = _marks_in_place(textpage, text)
        except pdfium.PdfiumError:
            pass  # the reordering is a refinement: pdfium's own order is still the text
    return text.replace("\r\n", "\n").replace("\r", "\n"), textpage


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
    handle = textpage.raw  # (the page object would be converted on each call)
    codes = [pdfium_c.FPDFText_GetUnicode(handle, i) for i in range(count)]
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
            generated = bool(pdfium_c.FPDFText_IsGenerated(handle, i))
            boxes[i] = _Char(chr(codes[i]), left, bottom, right, top, generated)
        return boxes[i]

    if not marked or any(
        not char(i).generated and abs(pdfium_c.FPDFText_GetCharAngle(handle, i)) > 0.01
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


# -- which pages of a scan are read --------------------------------------------------------
# OCR costs ~1 s a page, and only the cover and the basic-information page carry what
# intake reads from a scanned form: the first ``Limits.ocr_pages`` are read, not all 60
# pages of a scanned application. When they lack the credit code (the 2025 template has
# the cover, then the instructions, then the basic information) and the document reads
# as a form, the next pages are read until the code turns up, up to _OCR_FORM_PAGES in.
_OCR_FORM_PAGES = 6
_FORM_WORDS = re.compile(r"申报书|揭榜|申报单位|单位名称")
_BASIC_INFO = re.compile(
    r"信用代码|(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])"
)
# Text detection looks at a copy of the page at this resolution, recognition at the full
# render: 1170 px on an A4 page, against RapidOCR's own 2000 px, ~3× faster detection.
# On the samples scanned at 150 and 200 dpi it reads the same fields as 2000 px; 1000 px
# (86 dpi) misread a unit's name on a 150-dpi scan.
_DETECT_DPI = 100


def _wants_ocr(index: int, first: int, form: bool, basic: bool) -> bool:
    return index < first or (form and not basic and index < _OCR_FORM_PAGES)


def _ocr_page(pdf: pdfium.PdfDocument, index: int, dpi: int, turn: int = 0) -> PageReading | None:
    """The page read by OCR; None when it cannot be had (the page stays a scan nobody
    read: staff look at it, OCR_USED). Running short of memory for the bitmap or for
    OCR is no fault of the file: it never makes the PDF unreadable."""
    try:
        page = pdf[index]
        longest = max(*page.get_size(), 1)
        # A poster-sized page at 200 dpi would be a huge bitmap: cap the longer side.
        scale = min(dpi / 72, MAX_RENDER_SIDE / longest)
        image = page.render(scale=scale).to_pil()
    except (pdfium.PdfiumError, MemoryError):
        return None
    try:
        # turned upright and its red seal faded first (intake.documents.images)
        return read_page(image, detect_side=max(round(longest / 72 * _DETECT_DPI), 32), turn=turn)
    except OcrUnavailable:
        return None


# -- tables ---------------------------------------------------------------------------
# Ruled tables are found by pdfplumber's TableFinder (rulings → cells → tables, text per
# cell), but on geometry read from pdfium, which has just parsed the page for its text:
# pdfplumber's own page model comes from pdfminer interpreting the content stream in
# Python, ~40 ms a page and most of the time spent reading a typed form, where pdfium's
# path objects and glyph boxes cost ~3 ms. Coordinates are pdfplumber's (top-left
# origin, /Rotate applied), so its tolerances mean what they meant; on the test and
# sample PDFs the tables come out the same, except that pdfium, like the text layer,
# reads a fake-bold glyph drawn twice once ("项目", not "项项目目").

_TABLES = TableSettings.resolve(None)  # pdfplumber's defaults: lines, 3 pt tolerances
_AXIS = 1e-3  # points: a segment is a horizontal or vertical ruling within this
_MAX_SEGMENTS = 20_000  # path segments read on one page: a drawing, not a form
_MAX_GLYPHS = 50_000  # glyphs placed into cells on one page
_MAX_CROSSINGS = 6_000  # vertical × horizontal lines (after merging) on one page
_MAX_FORM_DEPTH = 8  # form XObjects inside form XObjects
_SAMPLE_GLYPHS = 400  # glyphs whose direction tells which way up the page reads

_Point = tuple[float, float]
_Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: _Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


class _TooBusy(Exception):
    """The page has more drawing than a form: tables are not looked for on it."""


@dataclass
class _Geometry:
    """What pdfplumber's TableFinder and Table read of a page."""

    edges: list[dict[str, Any]]
    chars: list[dict[str, Any]] = field(default_factory=list)
    bbox: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def page_tables(textpage: pdfium.PdfTextPage, deadline: Deadline) -> list[list[list[str]]]:
    """Ruled tables of one page, each as rows of cell texts (empty tables left out)."""
    try:
        page = textpage.page
        to_page = _to_page(page, _reading_turn(textpage, page))
        edges = _rulings(page, to_page)
        if not edges:
            return []
        _check_crossings(edges)
        finder = TableFinder(cast(Any, _Geometry(edges)), _TABLES)  # it reads edges, bbox
        if not finder.tables:
            return []
        deadline.check()
        chars = _glyphs(textpage, to_page, deadline)
        found = []
        for grid in finder.tables:
            # each table reads only its own glyphs: Table.extract scans them once a row
            x0, top, x1, bottom = grid.bbox
            inside = [
                c
                for c in chars
                if x0 <= (c["x0"] + c["x1"]) / 2 < x1
                and top <= (c["top"] + c["bottom"]) / 2 < bottom
            ]
            grid.page = cast(Any, _Geometry(edges, inside))
            found.append(grid.extract(**(_TABLES.text_settings or {})))
    except (
        pdfium.PdfiumError,
        _TooBusy,
        LimitExceeded,
        ValueError,
        ArithmeticError,
        AssertionError,
    ):
        return []  # tables are a bonus; the text layer already succeeded
    tables = []
    for table in found:
        rows = [[_cell(c) for c in row] for row in table]
        if any(any(cell for cell in row) for row in rows):
            tables.append(rows)
    return tables


def _reading_turn(textpage: pdfium.PdfTextPage, page: pdfium.PdfPage) -> int:
    """How far (degrees clockwise) to turn the page so that most of its text runs left to
    right: /Rotate says how a viewer shows it, but a page rotated for display and a
    landscape table typed sideways both read as written."""
    m = pdfium_c.FS_MATRIX()
    handle, m_out = textpage.raw, ctypes.byref(m)  # converted once, not per glyph
    votes = [0, 0, 0, 0]
    for i in range(min(pdfium_c.FPDFText_CountChars(handle), _SAMPLE_GLYPHS)):
        if pdfium_c.FPDFText_IsGenerated(handle, i) or not pdfium_c.FPDFText_GetMatrix(
            handle, i, m_out
        ):
            continue
        if math.isfinite(m.a) and math.isfinite(m.b) and (m.a or m.b):
            votes[round(math.degrees(math.atan2(m.b, m.a)) / 90) % 4] += 1  # counterclockwise
    if not any(votes):
        return int(page.get_rotation()) % 360
    return 90 * votes.index(max(votes))


def _check_crossings(edges: list[dict[str, Any]]) -> None:
    """pdfplumber's cell search grows with the cube of the lines: a 100 × 100 grid (graph
    paper, or a hostile page) takes it 2 s, 200 × 200 30 s, and nothing stops it midway.
    Real forms stay far below the bound (the largest seen: 27 × 25)."""
    t = _TABLES
    kept = filter_edges(edges, min_length=t.edge_min_length_prefilter)
    merged = merge_edges(
        kept, t.snap_x_tolerance, t.snap_y_tolerance, t.join_x_tolerance, t.join_y_tolerance
    )
    lines = filter_edges(merged, min_length=t.edge_min_length)  # as TableFinder counts them
    vertical = sum(1 for e in lines if e["orientation"] == "v")
    if vertical * (len(lines) - vertical) > _MAX_CROSSINGS:
        raise _TooBusy


def _to_page(page: pdfium.PdfPage, rotation: int) -> Callable[[float, float], _Point]:
    """PDF user space → the page turned ``rotation`` degrees clockwise, top-left origin
    (pdfplumber's frame, where its tolerances were tuned)."""
    left, bottom, right, top = page.get_mediabox()
    width, height = right - left, top - bottom
    if rotation == 90:
        return lambda x, y: (y - bottom, x - left)
    if rotation == 180:
        return lambda x, y: (width - (x - left), y - bottom)
    if rotation == 270:
        return lambda x, y: (height - (y - bottom), width - (x - left))
    return lambda x, y: (x - left, height - (y - bottom))


def _rulings(
    page: pdfium.PdfPage, to_page: Callable[[float, float], _Point]
) -> list[dict[str, Any]]:
    """Horizontal and vertical straight segments of every path, as pdfplumber edges."""
    edges: list[dict[str, Any]] = []
    budget = [_MAX_SEGMENTS]
    handle = page.raw
    objects = (
        pdfium_c.FPDFPage_GetObject(handle, i)
        for i in range(pdfium_c.FPDFPage_CountObjects(handle))
    )
    _walk(objects, _IDENTITY, to_page, edges, budget, 0)
    return edges


def _walk(
    objects: Iterable[Any],
    parent: _Matrix,
    to_page: Callable[[float, float], _Point],
    edges: list[dict[str, Any]],
    budget: list[int],
    depth: int,
) -> None:
    for obj in objects:
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
            _path_edges(obj, _times(_matrix(obj), parent), to_page, edges, budget)
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < _MAX_FORM_DEPTH:
            # a form's objects are placed by their own matrix, then by the form's
            matrix = _times(_matrix(obj), parent)
            children = (
                pdfium_c.FPDFFormObj_GetObject(obj, i)
                for i in range(pdfium_c.FPDFFormObj_CountObjects(obj))
            )
            _walk(children, matrix, to_page, edges, budget, depth + 1)


def _matrix(obj: Any) -> _Matrix:
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(m)):
        return _IDENTITY
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _times(first: _Matrix, then: _Matrix) -> _Matrix:
    """``first`` applied, then ``then`` (PDF's row-vector convention)."""
    a1, b1, c1, d1, e1, f1 = first
    a2, b2, c2, d2, e2, f2 = then
    return (
        a1 * a2 + b1 * c2,
        a1 * b2 + b1 * d2,
        c1 * a2 + d1 * c2,
        c1 * b2 + d1 * d2,
        e1 * a2 + f1 * c2 + e2,
        e1 * b2 + f1 * d2 + f2,
    )


def _path_edges(
    obj: Any,
    matrix: _Matrix,
    to_page: Callable[[float, float], _Point],
    edges: list[dict[str, Any]],
    budget: list[int],
) -> None:
    count = pdfium_c.FPDFPath_CountSegments(obj)
    budget[0] -= max(count, 0)
    if budget[0] < 0:
        raise _TooBusy
    a, b, c, d, e, f = matrix
    x, y = ctypes.c_float(), ctypes.c_float()
    for points in _subpaths(obj, count, x, y):
        placed = [to_page(a * px + c * py + e, b * px + d * py + f) for px, py in points]
        for (x0, y0), (x1, y1) in zip(placed, placed[1:], strict=False):
            if not all(map(math.isfinite, (x0, y0, x1, y1))):
                continue
            if abs(y0 - y1) <= _AXIS and abs(x0 - x1) > _AXIS:
                edges.append(_edge(min(x0, x1), y0, max(x0, x1), y0, "h"))
            elif abs(x0 - x1) <= _AXIS and abs(y0 - y1) > _AXIS:
                edges.append(_edge(x0, min(y0, y1), x0, max(y0, y1), "v"))


def _subpaths(obj: Any, count: int, x: ctypes.c_float, y: ctypes.c_float) -> Iterator[list[_Point]]:
    """Runs of straight segments, closed ones back to their start (a curve ends a run:
    its control points are no ruling)."""
    points: list[_Point] = []
    closed = False
    for i in range(count):
        segment = pdfium_c.FPDFPath_GetPathSegment(obj, i)
        if not segment or not pdfium_c.FPDFPathSegment_GetPoint(
            segment, ctypes.byref(x), ctypes.byref(y)
        ):
            continue
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == pdfium_c.FPDF_SEGMENT_LINETO and points:
            points.append((x.value, y.value))
            closed = closed or bool(pdfium_c.FPDFPathSegment_GetClose(segment))
            continue
        yield _close(points, closed)
        points, closed = [(x.value, y.value)], False  # a move, or the end of a curve
    yield _close(points, closed)


def _close(points: list[_Point], closed: bool) -> list[_Point]:
    if closed and len(points) > 2 and points[0] != points[-1]:
        return [*points, points[0]]
    return points


def _edge(x0: float, top: float, x1: float, bottom: float, orientation: str) -> dict[str, Any]:
    return {
        "object_type": "line",
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "doctop": top,
        "width": x1 - x0,
        "height": bottom - top,
        "orientation": orientation,
    }


def _glyphs(
    textpage: pdfium.PdfTextPage, to_page: Callable[[float, float], _Point], deadline: Deadline
) -> list[dict[str, Any]]:
    """Every drawn glyph with pdfminer's box: advance width across, font size up from the
    baseline (so a glyph falls in the same cell as it did with pdfplumber)."""
    count = pdfium_c.FPDFText_CountChars(textpage)
    if count > _MAX_GLYPHS:
        raise _TooBusy
    box, m = pdfium_c.FS_RECTF(), pdfium_c.FS_MATRIX()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    # This loop makes five or six calls into pdfium per glyph, and ctypes converts every
    # argument of every call: the raw handle and the out-parameters are made ready once.
    handle = textpage.raw
    box_out, m_out, ox_out, oy_out = (ctypes.byref(v) for v in (box, m, ox, oy))
    origin = to_page(0.0, 0.0)
    chars = []
    for i in range(count):
        if i % 4096 == 0:
            deadline.check()
        code = pdfium_c.FPDFText_GetUnicode(handle, i)
        if code in (0, 10, 13) or pdfium_c.FPDFText_IsGenerated(handle, i):
            continue  # pdfium's own line breaks and spaces between words
        if not pdfium_c.FPDFText_GetLooseCharBox(handle, i, box_out):
            continue
        pdfium_c.FPDFText_GetMatrix(handle, i, m_out)
        size = pdfium_c.FPDFText_GetFontSize(handle, i)
        if abs(m.b) < 1e-6 and abs(m.c) < 1e-6 and size > 0:
            pdfium_c.FPDFText_GetCharOrigin(handle, i, ox_out, oy_out)
            corners = ((box.left, oy.value), (box.right, oy.value + m.d * size))
        else:  # rotated or skewed glyph: the box around it
            corners = ((box.left, box.bottom), (box.right, box.top))
        (x0, y0), (x1, y1) = to_page(*corners[0]), to_page(*corners[1])
        run = to_page(m.a, m.b)
        dx, dy = run[0] - origin[0], run[1] - origin[1]
        upright = dx > 0 and abs(dy) <= 1e-3 * dx  # written left to right as shown
        left, right, top, bottom = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
        if not all(map(math.isfinite, (left, right, top, bottom))):
            continue
        text = chr(code) if code < 0xD800 or 0xDFFF < code <= 0x10FFFF else "\ufffd"
        chars.append(
            {
                "text": text,
                "x0": left,
                "x1": right,
                "top": top,
                "bottom": bottom,
                "doctop": top,
                "upright": upright,
                "width": right - left,
                "height": bottom - top,
                "size": (bottom - top) if upright else (right - left),
            }
        )
    return chars


def _cell(value: str | None) -> str:
    """Undo pdfplumber's line wrapping: Chinese joins directly, Latin words with a space."""
    lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
    out = ""
    for line in lines:
        latin = out[-1:].isascii() and out[-1:].isalnum() and line[0].isascii()
        out += (" " if latin else "") + line
    return out
