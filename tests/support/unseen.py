"""Free-form documents for ``test_unseen_layouts``: a form is a list of blocks.

A block is a paragraph (``str``) or a table (``list[list[str]]``; a cell holding
``None`` is merged into the cell on its left). Writing forms block by block lets a
case say exactly how an applicant typed it, without a layout switch per variant.
"""

from __future__ import annotations

import io

import docx
import openpyxl

from support.formfactory import make_uscc

Block = str | list[list[str | None]]

TITLE = "2025年全省数据要素市场化配置改革揭榜挂帅申报书"
TASK_TEXT = "到2025年底形成可推广的成果。"
# ticks none of the options: the instructions an applicant left in the form
INSTRUCTIONS = (
    "填报说明：1.榜单方向从以下八个方向中选择一个：（一）数据产权保护、（二）数据治理、"
    "（三）公共数据资源授权运营、（四）数据流通交易、（五）数据收益分配、（六）数据流通利用技术、"
    "（七）数据产业发展、（八）数据安全。2.任务类别可选理论研究、技术创新、应用实践，"
    "理论研究类应至少完成一个研究报告，技术创新类应至少形成一个创新成果，"
    "应用实践类应至少打造一个应用场景或实践案例。"
)

USCC_JN = make_uscc("370102", body="MA3C4D5E6")
USCC_QD = make_uscc("370203", body="MA1Q2W3E4")
USCC_BJ = make_uscc("110108", body="MA0B1C2D3")
USCC_NATIONAL = make_uscc("100000", head="12", body="4000012X3")


def make_docx(blocks: list[Block]) -> bytes:
    document = docx.Document()
    for block in blocks:
        if isinstance(block, str):
            document.add_paragraph(block)
            continue
        width = max(len(r) for r in block)
        table = document.add_table(rows=0, cols=width, style="Table Grid")
        for row in block:
            cells = list(table.add_row().cells)
            start = 0
            for i in range(width):
                value = row[i] if i < len(row) else None
                if value is not None:
                    start = i
                    cells[i].text = value
                elif i > 0:
                    cells[start] = cells[start].merge(cells[i])
    # Word always keeps a paragraph after the last table; without one, LibreOffice's .doc
    # export flattens that table into a single run of text
    document.add_paragraph("")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx(rows: list[list[str]], merges: list[str] = ()) -> bytes:  # type: ignore[assignment]
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for rng in merges:
        ws.merge_cells(rng)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
