"""Build 申报书 / 推荐汇总表 files and mails in many layouts, the way applicants really fill them.

``FormSpec`` holds what a form says; ``layout`` and the ``*_style`` fields say how it
is written: labels in table cells or ``标签：值`` paragraphs, one big merged table, a
horizontal header row, label synonyms, both colon widths, tick styles, a direction as
a number / name / "方向六" / a tick among the eight, partners in a table or a line.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime

import docx
import openpyxl
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from campaign import SHANDONG_2025
from intake.extract.uscc import check_char
from intake.model import Document

NAMES = SHANDONG_2025.direction_names

CN = "一二三四五六七八"
TASKS = {"theory": "理论研究", "technology": "技术创新", "application": "应用实践"}
OUTCOME_WORDS = ("研究报告", "创新成果", "应用场景", "实践案例")
CST = timezone(timedelta(hours=8))


def make_uscc(region: str = "370102", head: str = "91", body: str = "MA3C4D5E6") -> str:
    first = f"{head}{region}{body}"[:17]
    return first + (check_char(first) or "0")


@dataclass
class FormSpec:
    unit: str = "山东示例数据科技有限公司"
    uscc: str = field(default_factory=make_uscc)
    nature: str = "省属企业"  # written words, or one of 中央驻鲁单位/省属单位/其他 when ticked
    nature_style: str = "words"  # words | ticks | none
    city: str = "济南市"
    address: str = "山东省济南市历下区经十路100号"
    direction: int | list[int] | None = 2
    direction_style: str = (
        "label"  # label "（二）数据治理" | number | name | chinese "方向二" | ticks | title
    )
    task_name: str = "数据产品质量评价关键技术研究与示范"
    task_types: list[str] = field(default_factory=lambda: ["theory"])
    task_style: str = "ticks"  # ticks | written
    outcomes: list[str] = field(default_factory=lambda: ["研究报告"])
    partners: list[str] = field(default_factory=list)
    partner_style: str = "table"  # table | line | kv (paragraphs layout only)
    email: str = "lianxi@example.com"
    layout: str = "cover_table"  # cover_table | paragraphs | big_table | horizontal | grid
    unit_label: str = "揭榜单位"
    uscc_label: str = "统一社会信用代码"
    colon: str = "："
    tick: str = "☑"  # ☑ ■ √ ✔ [x] ☒ 是
    recommender: str = ""
    direction_written: str | None = None  # the 榜单方向 cell exactly as given (another round's names)


# -- how each value is written -------------------------------------------------------------


def mark(option: str, on: bool, tick: str) -> str:
    if tick == "[x]":
        return f"[{'x' if on else ' '}] {option}"
    if tick == "√":
        return f"{option}（{'√' if on else '  '}）"
    if tick == "是":
        return f"{option}：{'是' if on else '否'}"
    return f"{tick if on else '□'}{option}"


def tick_line(options: list[str], chosen: list[str], tick: str) -> str:
    return "\u3000\u3000".join(mark(o, o in chosen, tick) for o in options)


def direction_text(spec: FormSpec) -> str:
    if spec.direction_written is not None:
        return spec.direction_written
    dirs = (
        spec.direction
        if isinstance(spec.direction, list)
        else ([spec.direction] if spec.direction else [])
    )
    style = spec.direction_style
    if style == "ticks":
        return "\n".join(mark(f"（{CN[n - 1]}）{NAMES[n]}", n in dirs, spec.tick) for n in NAMES)
    parts = []
    for n in dirs:
        parts.append(
            {"number": str(n), "name": NAMES[n], "chinese": f"方向{CN[n - 1]}"}.get(
                style, f"（{CN[n - 1]}）{NAMES[n]}"
            )
        )
    return "、".join(parts)


def task_text(spec: FormSpec) -> str:
    if spec.task_style == "written":
        return "、".join(TASKS[t] for t in spec.task_types)
    return tick_line(list(TASKS.values()), [TASKS[t] for t in spec.task_types], spec.tick)


def outcome_text(spec: FormSpec) -> str:
    return tick_line(list(OUTCOME_WORDS), spec.outcomes, spec.tick)


def nature_text(spec: FormSpec) -> str:
    if spec.nature_style == "ticks":
        return tick_line(["中央驻鲁单位", "省属单位", "其他"], [spec.nature], spec.tick)
    return "" if spec.nature_style == "none" else spec.nature


def basic_fields(spec: FormSpec) -> list[tuple[str, str]]:
    rows = [
        (spec.unit_label, spec.unit),
        (spec.uscc_label, spec.uscc),
        ("单位性质", nature_text(spec)),
        ("注册地址", spec.address),
        ("所在市", spec.city),
        ("联系人", "王晓明"),
        ("电子邮箱", spec.email),
    ]
    return [(k, v) for k, v in rows if spec.nature_style != "none" or k != "单位性质"]


def title(spec: FormSpec) -> str:
    base = "2025年全省数据要素市场化配置改革揭榜挂帅申报书"
    if spec.direction_style == "title" and isinstance(spec.direction, int):
        return f"{base}（{NAMES[spec.direction]}方向）"
    return base


# -- layouts ------------------------------------------------------------------------------------


def _kv_table(document, rows: list[tuple[str, str]]) -> None:
    table = document.add_table(rows=0, cols=2, style="Table Grid")
    for k, v in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = k, v


def _partner_table(document, partners: list[str]) -> None:
    document.add_paragraph("二、联合单位基本情况")
    table = document.add_table(rows=1, cols=4, style="Table Grid")
    for cell, text in zip(
        table.rows[0].cells, ("序号", "单位名称", "统一社会信用代码", "承担任务"), strict=True
    ):
        cell.text = text
    for i, name in enumerate(partners or [""], start=1):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = (str(i), name) if name else ("", "")


def _direction_rows(spec: FormSpec) -> list[tuple[str, str]]:
    if spec.direction_style == "title":
        return []
    return [("榜单方向", direction_text(spec))]


def _tasks_section(document, spec: FormSpec) -> None:
    document.add_paragraph("三、揭榜任务")
    document.add_paragraph("（一）任务类别")
    document.add_paragraph(task_text(spec))
    document.add_paragraph("（二）总体目标")
    document.add_paragraph("到2025年底形成可推广的成果。")
    document.add_paragraph("（三）预期成果")
    document.add_paragraph(outcome_text(spec))


def _cover_table(document, spec: FormSpec) -> None:
    partners = "、".join(spec.partners) if spec.partners else "无"
    _kv_table(
        document,
        _direction_rows(spec)
        + [
            ("揭榜任务名称", spec.task_name),
            (f"{spec.unit_label}（盖章）", spec.unit),
            ("联合单位", partners),
            ("推荐单位", spec.recommender),
        ],
    )
    document.add_paragraph("一、揭榜单位基本情况")
    _kv_table(document, basic_fields(spec))
    if spec.partner_style == "table":
        _partner_table(document, spec.partners)
    _tasks_section(document, spec)


def _paragraphs(document, spec: FormSpec) -> None:
    c = spec.colon

    def pair(k: str, v: str) -> None:
        if "\n" in v:
            document.add_paragraph(f"{k}{c}")
            for line in v.splitlines():
                document.add_paragraph(line)
        else:
            document.add_paragraph(f"{k} {c} {v}" if c == " ：" else f"{k}{c}{v}")

    document.add_paragraph("一、揭榜单位基本情况")
    for k, v in _direction_rows(spec) + [("揭榜任务名称", spec.task_name)] + basic_fields(spec):
        pair(k, v)
    if spec.partners and spec.partner_style == "kv":
        # each partner described with the lead's own labels, under a partners heading
        document.add_paragraph("二、联合单位基本情况")
        for i, name in enumerate(spec.partners, start=1):
            pair("单位名称", name)
            pair("统一社会信用代码", make_uscc("110108", body=f"MA0{i}B2C3D"))
            pair("单位性质", "中央驻鲁企业")
        document.add_paragraph("三、揭榜任务")
    elif spec.partners:
        document.add_paragraph(f"联合申报单位{c}{'；'.join(spec.partners)}")
    if spec.task_style == "written":
        document.add_paragraph(f"任务类别{c}{task_text(spec)}")
    else:
        document.add_paragraph(f"任务类别{c}")
        document.add_paragraph(task_text(spec))
    document.add_paragraph(f"预期成果{c}{outcome_text(spec)}")


def _big_table(document, spec: FormSpec) -> None:
    """One 4-column table, merged cells everywhere (the way many units redraw the form)."""
    table = document.add_table(rows=0, cols=4, style="Table Grid")

    def wide(label: str, value: str) -> None:
        cells = table.add_row().cells
        merged = cells[1].merge(cells[3])
        cells[0].text, merged.text = label, value

    def title_row(text: str) -> None:
        cells = table.add_row().cells
        cells[0].merge(cells[3]).text = text

    title_row("一、基本信息")
    for label, value in _direction_rows(spec) + [
        ("任务名称", spec.task_name),
        (spec.unit_label, spec.unit),
    ]:
        wide(label, value)
    cells = table.add_row().cells
    cells[0].text, cells[1].text, cells[2].text, cells[3].text = (
        spec.uscc_label,
        spec.uscc,
        "所在市",
        spec.city,
    )
    if spec.nature_style != "none":
        wide("单位性质", nature_text(spec))
    wide("电子邮箱", spec.email)
    if spec.partners:
        title_row("二、联合单位")
        cells = table.add_row().cells
        for cell, text in zip(
            cells, ("序号", "合作单位名称", "统一社会信用代码", "承担任务"), strict=True
        ):
            cell.text = text
        for i, name in enumerate(spec.partners, start=1):
            row = table.add_row().cells
            row[0].text, row[1].text = str(i), name
    title_row("三、揭榜任务")
    wide("任务类别", task_text(spec))
    wide("预期成果", outcome_text(spec))


def _horizontal(document, spec: FormSpec) -> None:
    document.add_paragraph(f"榜单方向{spec.colon}{direction_text(spec)}")
    fields = basic_fields(spec)
    table = document.add_table(rows=2, cols=len(fields), style="Table Grid")
    for i, (k, v) in enumerate(fields):
        table.rows[0].cells[i].text, table.rows[1].cells[i].text = k, v
    if spec.partners:
        document.add_paragraph(f"合作单位{spec.colon}{'，'.join(spec.partners)}")
    _tasks_section(document, spec)


def _grid(document, spec: FormSpec) -> None:
    """Two label/value pairs per row, spaced-out labels, each tick in its own cell, numbered partners."""
    table = document.add_table(rows=0, cols=4, style="Table Grid")

    def row(*cells: str) -> None:
        for cell, text in zip(table.add_row().cells, cells, strict=False):
            cell.text = text

    spaced = " ".join(spec.unit_label)
    row(spaced, spec.unit, "法定代表人", "李四")
    row(spec.uscc_label, spec.uscc, "所在市", spec.city)
    if spec.nature_style == "ticks":
        row(
            "单位性质",
            *[mark(o, o == spec.nature, spec.tick) for o in ("中央驻鲁单位", "省属单位", "其他")],
        )
    elif spec.nature_style == "words":
        row("单位性质", spec.nature, "电子邮箱", spec.email)
    if spec.nature_style != "words":
        row("电子邮箱", spec.email)
    if spec.direction_style != "title":
        row("榜 单 方 向", direction_text(spec))
    row("任务名称", spec.task_name)
    for i, name in enumerate(spec.partners, start=1):
        row(f"联合单位{i}", name)
    if spec.task_style == "written":
        row("任务类别", task_text(spec))
    else:
        row("任务类别", *[mark(TASKS[t], t in spec.task_types, spec.tick) for t in TASKS])
    row("预期成果", outcome_text(spec))


LAYOUTS = {
    "grid": _grid,
    "cover_table": _cover_table,
    "paragraphs": _paragraphs,
    "big_table": _big_table,
    "horizontal": _horizontal,
}


def make_docx(spec: FormSpec) -> bytes:
    document = docx.Document()
    document.add_paragraph("附件1")
    document.add_paragraph(title(spec))
    LAYOUTS[spec.layout](document, spec)
    document.add_paragraph("七、信用承诺")
    document.add_paragraph(f"{spec.unit_label}（盖章）：")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_document(data: bytes, name: str = "申报书.docx") -> Document:
    """Text (table rows tab-joined, in reading order) and tables, read with python-docx alone."""
    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    tables: list[list[list[str]]] = []
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            lines.append(Paragraph(child, document).text)
        elif child.tag == qn("w:tbl"):
            rows = [[c.text for c in r.cells] for r in Table(child, document).rows]
            tables.append(rows)
            lines += ["\t".join(r) for r in rows]
    return Document(name=name, format="docx", text="\n".join(lines), tables=tables)


def form_document(spec: FormSpec, name: str | None = None) -> Document:
    return docx_document(make_docx(spec), name or f"{spec.unit}-申报书.docx")


def pdf_text_document(spec: FormSpec, name: str | None = None, scanned: bool = False) -> Document:
    """What a text PDF (or an OCR'd scan) of the cover-table layout reads as: no grid, spaces."""
    lines = [title(spec)]
    lines += [f"{k} {v}" for k, v in _direction_rows(spec) + [("揭榜任务名称", spec.task_name)]]
    lines += [
        f"{spec.unit_label}（盖章） {spec.unit}",
        f"联合单位 {'、'.join(spec.partners) or '无'}",
    ]
    lines += ["一、揭榜单位基本情况"] + [f"{k} {v}" for k, v in basic_fields(spec)]
    lines += [
        "三、揭榜任务",
        "（一）任务类别",
        task_text(spec),
        "（二）预期成果",
        outcome_text(spec),
    ]
    return Document(
        name=name or f"{spec.unit}-申报书（盖章）.pdf",
        format="pdf",
        text="\n".join(lines),
        scanned=scanned,
        pages=3,
    )


def variant(spec: FormSpec, **changes) -> FormSpec:
    return replace(spec, **changes)


# -- recommendation tables ---------------------------------------------------------------------


TABLE_HEADER = ["序号", "榜单方向", "推荐顺序", "揭榜单位", "联合单位", "揭榜任务名称", "任务类别"]


def table_rows(specs: list[FormSpec]) -> list[list[str]]:
    rows, seen = [], {}
    for i, s in enumerate(specs, start=1):
        d = s.direction if isinstance(s.direction, int) else 0
        seen[d] = seen.get(d, 0) + 1
        rows.append(
            [
                str(i),
                f"（{CN[d - 1]}）{NAMES[d]}" if d else "",
                str(seen[d]),
                s.unit,
                "、".join(s.partners),
                s.task_name,
                "、".join(TASKS[t] for t in s.task_types),
            ]
        )
    return rows


def make_table_docx(specs: list[FormSpec], city: str = "济南市") -> bytes:
    document = docx.Document()
    document.add_paragraph("附件2")
    document.add_paragraph("2025年全省数据要素市场化配置改革揭榜挂帅推荐汇总表")
    document.add_paragraph(f"推荐单位（盖章）：{city}大数据局\u3000\u3000填报日期：2025年1月16日")
    table = document.add_table(rows=1, cols=len(TABLE_HEADER), style="Table Grid")
    for cell, text in zip(table.rows[0].cells, TABLE_HEADER, strict=True):
        cell.text = text
    for row in table_rows(specs):
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_table_xlsx(
    specs: list[FormSpec], city: str = "青岛市", merge_directions: bool = False
) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["附件2"])
    ws.append(["2025年全省数据要素市场化配置改革揭榜挂帅推荐汇总表"])
    ws.append([f"推荐单位（盖章）：{city}大数据局"])
    ws.append(TABLE_HEADER)
    previous = None
    for row in table_rows(specs):
        if merge_directions and row[1] == previous:
            row = [row[0], None, *row[2:]]  # a merged cell reads as empty below its first row
        else:
            previous = row[1]
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- mails ----------------------------------------------------------------------------------------


def make_eml(
    *,
    sender: str = "applicant@example.com",
    subject: str = "揭榜挂帅申报材料",
    body: str = "您好，附件是我单位的揭榜挂帅申报书，请查收。",
    attachments: list[tuple[str, bytes]] | None = None,
    received: datetime = datetime(2025, 1, 10, 10, 0, tzinfo=CST),
    headers: dict[str, str] | None = None,
    html: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["Received"] = f"from client by mx.shandong.cn; {format_datetime(received)}"
    msg["From"] = sender
    msg["To"] = "dsjjzcghc@shandong.cn"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(received - timedelta(minutes=1))
    msg["Message-ID"] = f"<{abs(hash((sender, subject, body)))}@example.com>"
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for name, data in attachments or []:
        maintype, subtype = ("application", "octet-stream")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


# -- real PDFs (LibreOffice), for the text a PDF's text layer really gives ----------------------

_PDF_CACHE: dict[bytes, bytes] = {}


def to_pdf(files: list[bytes]) -> list[bytes] | None:
    """docx bytes → PDF bytes through headless LibreOffice; None when it is not installed."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if binary is None:
        return None
    todo = [f for f in files if f not in _PDF_CACHE]
    if todo:
        with tempfile.TemporaryDirectory() as work:
            paths = []
            for i, data in enumerate(todo):
                path = Path(work) / f"f{i}.docx"
                path.write_bytes(data)
                paths.append(path)
            profile = Path(work) / "profile"
            subprocess.run(
                [
                    binary,
                    f"-env:UserInstallation=file://{profile}",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    work,
                    *map(str, paths),
                ],
                check=True,
                capture_output=True,
                timeout=180,
            )
            for data, path in zip(todo, paths, strict=True):
                _PDF_CACHE[data] = path.with_suffix(".pdf").read_bytes()
    return [_PDF_CACHE[f] for f in files]


def scan_pdf(pdf: bytes, dpi: int = 150) -> bytes:
    """A text PDF printed and scanned: every page becomes a picture (no text layer)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    pages = [
        document[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(document))
    ]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return out.getvalue()
