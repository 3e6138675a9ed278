"""Ruled tables of a PDF: pdfplumber's table finder on geometry read with pdfium.

pdfplumber reading the page itself (pdfminer, in Python) is the oracle: every case
here must give exactly the tables it gives, for a fraction of the time.
"""

from __future__ import annotations

import email
import email.policy
import io
import zipfile

import pdfplumber
import pytest
from pdfplumber.table import TableFinder
from support import SHARED
from support.factory import office
from support.factory.pdfs import _assemble, scanned_pdf
from support.formfactory import LAYOUTS, FormSpec, make_docx

from intake.documents import pdf as pdf_module
from intake.documents.limits import Budget, Deadline, Limits
from intake.documents.pdf import _cell, read_pdf

ROWS = [
    ["Unit", "Code", "City"],
    ["Acme Ltd", "91370000", "Jinan"],
    ["Beta Co", "91370001", "Qingdao"],
]
XS = [72, 200, 400, 540]  # column rulings
YS = [700, 670, 640, 610]  # row rulings (PDF space: bottom-up)


def _tables(data: bytes) -> list[list[list[str]]]:
    return read_pdf(data, Budget(Limits()), Deadline(60)).tables


def _oracle(data: bytes, pages: int = Limits().pdf_table_pages) -> list[list[list[str]]]:
    """What pdfplumber reading the page itself finds (as read_pdf cleans cells)."""
    out = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages[:pages]:
            for table in page.extract_tables():
                rows = [[_cell(c) for c in row] for row in table]
                if any(any(cell for cell in row) for row in rows):
                    out.append(rows)
    return out


def _text_ops() -> bytes:
    return b"".join(
        b"BT /F1 10 Tf %d %d Td (%s) Tj ET " % (XS[col] + 4, YS[row] - 20, cell.encode())
        for row, cells in enumerate(ROWS)
        for col, cell in enumerate(cells)
    )


def _rulings(style: str) -> bytes:
    if style == "rects":  # borders as thin filled rectangles (Word's PDF export)
        return b"".join(
            [b"%d %.2f %d 0.5 re f " % (XS[0], y - 0.25, XS[-1] - XS[0]) for y in YS]
            + [b"%.2f %d 0.5 %d re f " % (x - 0.25, YS[-1], YS[0] - YS[-1]) for x in XS]
        )
    return b"0.5 w " + b"".join(
        [b"%d %d m %d %d l S " % (XS[0], y, XS[-1], y) for y in YS]
        + [b"%d %d m %d %d l S " % (x, YS[-1], x, YS[0]) for x in XS]
    )


def grid_pdf(style: str = "lines", rotate: int = 0, turned: bool = False) -> bytes:
    """One page, a 3 × 3 ruled table with ASCII text in its cells; ``turned``: everything
    drawn a quarter turn counterclockwise (to be shown upright under /Rotate 90)."""
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    extra = b""
    if style == "form":
        # the grid inside a form XObject drawn at half size, under a page matrix that
        # doubles it back: only composing both matrices puts the rulings in place
        half = b" ".join(b"%g" % (v / 2) for v in (XS[0], YS[-1], XS[-1], YS[0]))
        inner = b"0.5 w " + b"".join(
            [b"%g %g m %g %g l S " % (XS[0] / 2, y / 2, XS[-1] / 2, y / 2) for y in YS]
            + [b"%g %g m %g %g l S " % (x / 2, YS[-1] / 2, x / 2, YS[0] / 2) for x in XS]
        )
        ops = b"q 2 0 0 2 0 0 cm /Fm1 Do Q " + _text_ops()
        extra = b" /XObject << /Fm1 5 0 R >>"
        head = b"<< /Type /XObject /Subtype /Form /BBox [%s] /Length %d >>" % (half, len(inner))
        form = head + b"\nstream\n" + inner + b"\nendstream"
    else:
        ops = _rulings(style) + _text_ops()
        form = b"<< >>"
    if turned:
        ops = b"q 0 1 -1 0 800 0 cm " + ops + b" Q"
    rotation = b" /Rotate %d" % rotate if rotate else b""
    objects = [
        b"<< /Type /Catalog /Pages 4 0 R >>",
        font,
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops),
        b"<< /Type /Pages /Kids [6 0 R] /Count 1 >>",
        form,
        b"<< /Type /Page /Parent 4 0 R /MediaBox [0 0 800 800] /Contents 3 0 R%s "
        b"/Resources << /Font << /F1 2 0 R >>%s >> >>" % (rotation, extra),
    ]
    return _assemble(objects, 1, b"")


@pytest.mark.parametrize("style", ["lines", "rects", "form"])
def test_ruled_grid(style: str) -> None:
    data = grid_pdf(style)
    assert _tables(data) == [ROWS] == _oracle(data)


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_rotated_page_reads_as_written(rotate: int) -> None:
    """/Rotate only turns the view: the table reads as typed (pdfplumber, which turns the
    page, read these cells backwards or down the columns)."""
    assert _tables(grid_pdf("lines", rotate)) == [ROWS]


def test_page_typed_sideways_for_a_rotated_view() -> None:
    """A landscape table drawn turned a quarter, shown upright by /Rotate 90 (scanners and
    some printers write landscape pages so): it reads upright, as pdfplumber reads it."""
    data = grid_pdf("lines", 90, turned=True)
    assert _tables(data) == [ROWS] == _oracle(data)


def test_page_without_rulings_has_no_tables() -> None:
    objects = [
        b"<< /Type /Catalog /Pages 3 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
        b"<< /Length 44 >>\nstream\nBT /F1 10 Tf 72 700 Td (Unit: Acme Ltd) Tj ET\nendstream",
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 2 0 R >> >> >>",
    ]
    assert _tables(_assemble(objects, 1, b"")) == []


def test_a_drawing_is_not_searched_for_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the segment bound the page is art: no tables, and the text is still read."""
    monkeypatch.setattr(pdf_module, "_MAX_SEGMENTS", 10)
    content = read_pdf(grid_pdf("lines"), Budget(Limits()), Deadline(60))
    assert content.tables == []
    assert "Acme Ltd" in content.text


def test_graph_paper_is_not_searched_for_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """150 × 150 lines: pdfplumber's cell search would take a minute on it."""
    steps = range(50, 800, 5)
    grid = b"0.2 w " + b"".join(
        [b"50 %d m 795 %d l S " % (y, y) for y in steps]
        + [b"%d 50 m %d 795 l S " % (x, x) for x in steps]
    )
    objects = [
        b"<< /Type /Catalog /Pages 3 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(grid + _text_ops()), grid + _text_ops()),
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 800 800] /Contents 4 0 R "
        b"/Resources << /Font << /F1 2 0 R >> >> >>",
    ]
    searches = []
    search = TableFinder.__init__

    def counted(finder: TableFinder, *args: object, **kwargs: object) -> None:
        searches.append(finder)
        search(finder, *args, **kwargs)

    monkeypatch.setattr(TableFinder, "__init__", counted)
    assert _tables(grid_pdf("lines")) == [ROWS] and len(searches) == 1  # the spy sees one
    searches.clear()
    assert _tables(_assemble(objects, 1, b"")) == []
    assert searches == []  # refused on its line crossings, before the cell search


def test_scan_has_no_tables() -> None:
    data = scanned_pdf([["单位名称 山东示例数据科技有限公司"]])
    assert read_pdf(data, Budget(Limits(ocr_pages=0)), Deadline(60)).tables == []


@pytest.fixture(scope="module")
def libreoffice_pdfs() -> dict[str, bytes]:
    words = {f"{layout}.docx": make_docx(FormSpec(layout=layout)) for layout in LAYOUTS}
    return office.convert(words, "pdf")


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_libreoffice_forms_match_pdfplumber(
    layout: str, libreoffice_pdfs: dict[str, bytes]
) -> None:
    data = libreoffice_pdfs[f"{layout}.pdf"]
    assert _tables(data) == _oracle(data)


def _sample_pdfs() -> list[bytes]:
    found = []
    for path in sorted((SHARED / "samples" / "mails").glob("*.eml")):
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for part in mail.iter_attachments():
            data = part.get_payload(decode=True) or b""
            if data.startswith(b"%PDF"):
                found.append(data)
            elif data.startswith(b"PK") and (part.get_filename() or "").endswith(".zip"):
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    found += [archive.read(n) for n in archive.namelist() if n.endswith(".pdf")]
    return found


@pytest.mark.skipif(not (SHARED / "samples").is_dir(), reason="shared samples not present")
def test_sample_pdfs_match_pdfplumber() -> None:
    # read_pdf's time on them (pdfplumber on its own page model: ~40 ms a PDF) is
    # benchmarks/bounds.py's
    pdfs = _sample_pdfs()
    assert len(pdfs) == 5
    for data in pdfs:
        tables = _tables(data)
        assert tables and tables == _oracle(data)
