"""Build .docx files with python-docx, plus the raw XML real forms contain."""

from __future__ import annotations

import io

import docx
from docx.oxml import parse_xml

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
W14 = 'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"'
MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
WPS = 'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
WP = 'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"'
A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
V = 'xmlns:v="urn:schemas-microsoft-com:vml"'


def checkbox_sdt(checked: bool, label: str) -> str:
    """A paragraph with a Word 2010 checkbox content control, then ``label``."""
    shown = "☒" if checked else "☐"
    return (
        f'<w:p {W} {W14}><w:sdt><w:sdtPr><w14:checkbox><w14:checked w14:val="{int(checked)}"/>'
        f'<w14:checkedState w14:val="2612" w14:font="MS Gothic"/>'
        f'<w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/></w14:checkbox></w:sdtPr>'
        f"<w:sdtContent><w:r><w:t>{shown}</w:t></w:r></w:sdtContent></w:sdt>"
        f"<w:r><w:t>{label}</w:t></w:r></w:p>"
    )


def form_checkbox(checked: bool, label: str) -> str:
    """A paragraph with a legacy FORMCHECKBOX field (Word draws the box; no glyph stored)."""
    state = "<w:checked/>" if checked else ""
    return (
        f'<w:p {W}><w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="c"/>'
        f'<w:enabled/><w:checkBox><w:sizeAuto/><w:default w:val="0"/>{state}</w:checkBox>'
        f'</w:ffData></w:fldChar></w:r><w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText>'
        f'</w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t>{label}</w:t></w:r></w:p>'
    )


def symbol_ticks() -> str:
    """Ticks typed in symbol fonts: Wingdings 2 'R' (☑) / '£' (□) and a w:sym."""
    return (
        f'<w:p {W}><w:r><w:rPr><w:rFonts w:ascii="Wingdings 2" w:hAnsi="Wingdings 2"/></w:rPr>'
        f"<w:t>R</w:t></w:r><w:r><w:t>理论研究</w:t></w:r>"
        f'<w:r><w:rPr><w:rFonts w:ascii="Wingdings 2" w:hAnsi="Wingdings 2"/></w:rPr>'
        f"<w:t>£</w:t></w:r><w:r><w:t>技术创新</w:t></w:r>"
        f'<w:r><w:sym w:font="Wingdings" w:char="F0FE"/></w:r><w:r><w:t>应用实践</w:t></w:r></w:p>'
    )


def text_box(text: str) -> str:
    """A floating text box the way Word 2010+ saves it: DrawingML plus a VML fallback copy."""
    inner = f"<w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent>"
    return (
        f"<w:p {W} {MC} {WPS} {WP} {A} {V}><w:r><w:t>正文</w:t></w:r><w:r><mc:AlternateContent>"
        f'<mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData>'
        f"<wps:wsp><wps:txbx>{inner}</wps:txbx></wps:wsp></a:graphicData></a:graphic>"
        f"</wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>"
        f"{inner}</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>"
    )


def make_docx(
    paragraphs: list[str] = (),
    *,
    raw_xml: list[str] = (),
    tables: list[list[list[str]]] = (),
    merged_table: bool = False,
    header: str | None = None,
    footer: str | None = None,
) -> bytes:
    """A .docx: plain paragraphs, then raw XML paragraphs, then tables."""
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    body = document.element.body
    for xml in raw_xml:
        body.insert(len(body) - 1, parse_xml(xml))  # before the final sectPr
    for rows in tables:
        table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
    if merged_table:
        _add_merged_table(document)
    if header is not None:
        document.sections[0].header.paragraphs[0].text = header
    if footer is not None:
        document.sections[0].footer.paragraphs[0].text = footer
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _add_merged_table(document) -> None:
    """推荐汇总表 shape: 方向 merged down two rows, a title merged across."""
    table = document.add_table(rows=4, cols=3)
    title = table.cell(0, 0).merge(table.cell(0, 2))
    title.text = "推荐汇总表"
    for c, text in enumerate(["榜单方向", "推荐顺序", "揭榜单位"]):
        table.cell(1, c).text = text
    direction = table.cell(2, 0).merge(table.cell(3, 0))
    direction.text = "（二）数据治理"
    table.cell(2, 1).text, table.cell(2, 2).text = "1", "甲公司"
    table.cell(3, 1).text, table.cell(3, 2).text = "2", "乙公司"
