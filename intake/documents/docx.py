"""Word .docx: text in reading order, tables, text boxes, headers and ticks.

The XML is walked here because python-docx's high-level API skips content controls,
text boxes, symbol-font ticks and form fields — exactly where applicants mark 任务类别
and 榜单方向. Only the parts read are parsed (with python-docx's own XML parser):
``docx.Document`` parses every XML part of the package (styles, numbering, themes,
settings …), two thirds of the time of reading a typical form.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from lxml import etree

from intake.documents.errors import Unreadable
from intake.documents.limits import Deadline

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"

CHECKED, UNCHECKED = "☑", "□"

# Ticks typed in symbol fonts: the stored character is a Latin letter (or a
# private-use code 0xF0xx in <w:sym>) and only the font makes it a box.
_SYMBOL_FONTS = {
    "wingdings": {0xA8: "□", 0xFE: "☑", 0xFD: "☒", 0xFC: "✓", 0xFB: "✗",
                  0x6F: "□", 0x6E: "■", 0x71: "❑", 0x78: "☒", 0xA1: "○", 0x6C: "●"},
    "wingdings 2": {0x52: "☑", 0x53: "☒", 0x54: "☒", 0x50: "✓", 0x4F: "✗",
                    0xA3: "□", 0x99: "○", 0x9E: "●"},
    "symbol": {0xD6: "√", 0xB4: "×"},
}  # fmt: skip

_CONTAINERS = {  # elements whose children are read as if they were in place
    _W + "hyperlink",
    _W + "smartTag",
    _W + "ins",
    _W + "fldSimple",
    _W + "customXml",
    _W + "moveTo",
    _W + "dir",
    _W + "bdo",
    _MC + "AlternateContent",
    _MC + "Choice",
}
_SKIPPED = {_W + "del", _W + "moveFrom", _MC + "Fallback", _W + "pPr", _W + "rPr",
            _W + "instrText", _W + "delText", _W + "proofErr", _W + "bookmarkStart"}  # fmt: skip


@dataclass
class WordContent:
    text: str
    tables: list[list[list[str]]] = field(default_factory=list)
    pages: int = 0


def read_docx(data: bytes, deadline: Deadline | None = None) -> WordContent:
    """Text and tables of a .docx. Raises :class:`Unreadable` if it is broken.
    Call ``archives.check_package`` first: the part sizes are trusted here."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            main = _target(package, "", RT.OFFICE_DOCUMENT)
            if main is None:
                raise Unreadable("Word 文件已损坏或不完整，无法打开")
            try:
                document = _parse_part(package.read(main))
            except etree.XMLSyntaxError:
                return _read_damaged(data, deadline)
            body = document.find(_W + "body")
            if body is None:  # another kind of Office file under a .docx name
                raise Unreadable("不是 Word 文档，无法读取")
            renderer = _Renderer(deadline)
            headers: list[str] = []
            footers: list[str] = []
            for reltype, part in _related(package, main, (RT.HEADER, RT.FOOTER)):
                try:
                    lines = renderer.blocks(_parse_part(package.read(part)))
                except (KeyError, etree.XMLSyntaxError):
                    continue  # a broken header does not hide the body
                (headers if reltype == RT.HEADER else footers).extend(lines)
            lines = renderer.blocks(body)
            pages = _page_count(package)
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, etree.XMLSyntaxError) as exc:
        raise Unreadable("Word 文件已损坏或不完整，无法打开") from exc
    text = "\n".join(_unique(headers) + lines + _unique(footers))
    return WordContent(text=text, tables=renderer.tables, pages=pages)


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _related(package: zipfile.ZipFile, source: str, types: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(type, part name) of *source*'s internal relationships of the given types."""
    try:
        rels = etree.fromstring(package.read(_rels_name(source)), _SAFE)
    except KeyError:
        return
    folder = posixpath.dirname(source)
    for rel in rels:
        reltype, target = rel.get("Type"), rel.get("Target")
        if reltype not in types or not target or rel.get("TargetMode") == "External":
            continue
        path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
        yield reltype, posixpath.normpath(path)


def _target(package: zipfile.ZipFile, source: str, reltype: str) -> str | None:
    return next((part for _, part in _related(package, source, (reltype,))), None)


_SAFE = etree.XMLParser(resolve_entities=False, no_network=True)
# python-docx's own parser options (docx.oxml.parser), without its element classes: the
# renderer reads tags, attributes and w:t text only, and plain lxml elements come out
# of parsing and of every child iteration faster (~1/3 of the time spent rendering)
_PARTS = etree.XMLParser(remove_blank_text=True, resolve_entities=False)


def _parse_part(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, _PARTS)


def _read_damaged(data: bytes, deadline: Deadline | None) -> WordContent:
    """Recover what lxml can from a document.xml that is not well-formed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read("word/document.xml")
    except (zipfile.BadZipFile, KeyError, EOFError) as exc:
        raise Unreadable("Word 文件已损坏，无法打开") from exc
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(xml, parser)
    body = root.find(_W + "body") if root is not None else None
    if body is None:
        raise Unreadable("Word 文件内容已损坏，无法读取")
    renderer = _Renderer(deadline)
    return WordContent(text="\n".join(renderer.blocks(body)), tables=renderer.tables)


def _unique(lines: list[str]) -> list[str]:
    # Sections repeat the same header part; say it once.
    return list(dict.fromkeys(line for line in lines if line.strip()))


def _page_count(package: zipfile.ZipFile) -> int:
    try:
        app = package.read("docProps/app.xml")
    except KeyError:
        return 0
    found = re.search(rb"<(?:\w+:)?Pages>(\d+)<", app)
    return int(found.group(1)) if found else 0


class _Renderer:
    def __init__(self, deadline: Deadline | None = None) -> None:
        self.tables: list[list[list[str]]] = []
        self.deadline = deadline

    def blocks(self, parent: etree._Element) -> list[str]:
        lines: list[str] = []
        for child in parent:
            if self.deadline is not None:
                self.deadline.check()  # ~50 ns; a paragraph costs microseconds
            tag = child.tag
            if tag == _W + "p":
                lines.extend(self.paragraph(child))
            elif tag == _W + "tbl":
                lines.extend(self.table(child))
            elif tag == _W + "sdt":
                glyph = _checkbox_sdt(child)
                if glyph:
                    lines.append(glyph)
                else:
                    lines.extend(self.blocks(_sdt_content(child)))
            elif tag in _CONTAINERS:
                lines.extend(self.blocks(child))
        return lines

    def paragraph(self, p: etree._Element) -> list[str]:
        parts: list[str] = []
        boxes: list[str] = []
        self._inline(p, parts, boxes)
        return ["".join(parts), *boxes]

    def _inline(self, el: etree._Element, parts: list[str], boxes: list[str]) -> None:
        for child in el:
            tag = child.tag
            if tag in _SKIPPED:
                continue
            if tag == _W + "r":
                self._run(child, parts, boxes)
            elif tag == _W + "sdt":
                glyph = _checkbox_sdt(child)
                if glyph:
                    parts.append(glyph)
                else:
                    self._inline(_sdt_content(child), parts, boxes)
            elif tag in _CONTAINERS:
                self._inline(child, parts, boxes)

    def _run(self, run: etree._Element, parts: list[str], boxes: list[str]) -> None:
        symbols = _SYMBOL_FONTS.get(_run_font(run))
        for child in run:
            tag = child.tag
            if tag == _W + "t":
                text = child.text or ""
                parts.append(_map_symbols(text, symbols) if symbols else text)
            elif tag == _W + "tab":
                parts.append("\t")
            elif tag in (_W + "br", _W + "cr"):
                parts.append("\n")
            elif tag == _W + "noBreakHyphen":
                parts.append("-")
            elif tag == _W + "sym":
                parts.append(_sym(child))
            elif tag == _W + "fldChar":
                parts.append(_form_checkbox(child))
            elif tag not in _SKIPPED:  # drawing, pict, AlternateContent: text boxes
                for box in _text_boxes(child):
                    boxes.extend(line for line in self.blocks(box) if line.strip())

    def table(self, tbl: etree._Element) -> list[str]:
        index = len(self.tables)
        self.tables.append([])  # keep document order: outer table before nested ones
        rows, lines = [], []
        above: dict[int, str] = {}  # grid column → text of the cell a vMerge continues
        for tr in _children(tbl, _W + "tr"):
            row, shown = [], []
            column = _int_val(tr.find(f"{_W}trPr/{_W}gridBefore"), 0)
            for tc in _children(tr, _W + "tc"):
                props = tc.find(_W + "tcPr")
                span = _int_val(props.find(_W + "gridSpan") if props is not None else None, 1)
                vmerge = props.find(_W + "vMerge") if props is not None else None
                if vmerge is not None and vmerge.get(_W + "val", "continue") == "continue":
                    # A vertically merged cell repeats its value in `tables`, so
                    # each row reads on its own, but is printed once in `text`.
                    row.append(above.get(column, ""))
                    shown.append("")
                else:
                    text = "\n".join(line for line in self.blocks(tc) if line.strip())
                    above[column] = text
                    row.append(text)
                    shown.append(text)
                column += max(span, 1)
            rows.append(row)
            lines.append("\t".join(cell.replace("\n", " ") for cell in shown))
        self.tables[index] = rows
        return lines


def _children(parent: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Direct children named ``tag``, looking through content controls around rows/cells."""
    for child in parent:
        if child.tag == tag:
            yield child
        elif child.tag in (_W + "sdt", _W + "customXml"):
            inner = _sdt_content(child) if child.tag == _W + "sdt" else child
            yield from _children(inner, tag)


def _sdt_content(sdt: etree._Element) -> etree._Element:
    content = sdt.find(_W + "sdtContent")
    return content if content is not None else etree.Element("empty")


def _checkbox_sdt(sdt: etree._Element) -> str | None:
    box = sdt.find(f"{_W}sdtPr/{_W14}checkbox")
    if box is None:
        return None
    checked = box.find(_W14 + "checked")
    on = checked is not None and checked.get(_W14 + "val", "1").lower() in ("1", "true", "on")
    return CHECKED if on else UNCHECKED


def _form_checkbox(fld: etree._Element) -> str:
    """Legacy FORMCHECKBOX: Word draws the box itself, so the text has none."""
    if fld.get(_W + "fldCharType") != "begin":
        return ""
    box = fld.find(f"{_W}ffData/{_W}checkBox")
    if box is None:
        return ""
    checked = box.find(_W + "checked")
    if checked is None:
        checked = box.find(_W + "default")
        on = checked is not None and checked.get(_W + "val", "0").lower() in ("1", "true", "on")
    else:
        on = checked.get(_W + "val", "1").lower() in ("1", "true", "on")
    return CHECKED if on else UNCHECKED


_RPR, _RFONTS = _W + "rPr", _W + "rFonts"
_FONT_KEYS = tuple(_W + key for key in ("ascii", "hAnsi", "eastAsia", "cs"))


def _run_font(run: etree._Element) -> str:
    """The symbol font a run is set in ("" for any other font)."""
    # what run.find("w:rPr/w:rFonts") finds, without lxml's path machinery (1.5× the
    # cost, and every run of a document asks)
    for props in run.iterchildren(_RPR):
        for fonts in props.iterchildren(_RFONTS):
            return _symbol_font(fonts)
    return ""


def _symbol_font(fonts: etree._Element) -> str:
    for key in _FONT_KEYS:
        name = (fonts.get(key) or "").lower()
        if name in _SYMBOL_FONTS:
            return name
    return ""


def _map_symbols(text: str, table: dict[int, str]) -> str:
    return "".join(table.get(ord(c) & 0xFF, c) if ord(c) < 0x100 or 0xF000 <= ord(c) < 0xF100
                   else c for c in text)  # fmt: skip


def _sym(sym: etree._Element) -> str:
    font = (sym.get(_W + "font") or "").lower()
    try:
        code = int(sym.get(_W + "char") or "", 16)
    except ValueError:
        return ""
    table = _SYMBOL_FONTS.get(font)
    if table is not None:
        return table.get(code & 0xFF, "")
    return chr(code) if code < 0xE000 or code > 0xF8FF else ""


def _text_boxes(el: etree._Element) -> Iterator[etree._Element]:
    """w:txbxContent under a drawing, skipping mc:Fallback copies (VML duplicates)."""
    for child in el:
        if child.tag == _MC + "Fallback":
            continue
        if child.tag == _W + "txbxContent":
            yield child
        else:
            yield from _text_boxes(child)


def _int_val(el: etree._Element | None, default: int) -> int:
    if el is None:
        return default
    try:
        return int(el.get(_W + "val", default))
    except ValueError:
        return default
