"""The 公示名单: the selected applications as the bureau publishes them (序号, 榜单方向,
揭榜单位, 联合单位, 揭榜任务名称), as a Word document for the website and a workbook."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from sqlmodel import Session, col, select

from campaign.catalogue import Catalogue
from campaign.clock import cn_date
from campaign.labels import direction_name, listing_title
from campaign.workdays import working_period_end
from tracker.records.events import record
from tracker.reports.workbook import listing_workbook
from tracker.store.tables import Publication, Submission, SubmissionStatus

_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # python-docx refuses them
HEADERS = ("序号", "榜单方向", "揭榜单位", "联合单位", "揭榜任务名称")


@dataclass(frozen=True)
class Listed:
    reference: str
    direction: str
    unit: str
    partners: str
    task: str


def selected(session: Session, catalogue: Catalogue) -> list[Listed]:
    """The selected applications in the notice's order of directions, then by reference."""
    subs = session.exec(select(Submission).where(Submission.status == SubmissionStatus.selected)
                        .order_by(col(Submission.direction), col(Submission.reference))).all()
    return [Listed(s.reference, direction_name(s.direction, "—", catalogue), s.unit or "—",
                   "、".join(p for p in s.partners if p) or "无", s.task_name or "—") for s in subs]


@dataclass(frozen=True)
class Published:
    rows: list[Listed]
    day: date
    notice_ends: date
    estimated: bool  # the end counted beyond the holiday calendar's years (weekends only)


def publish(session: Session, catalogue: Catalogue, day: date, *, actor: str) -> Published:
    """Record the list as published on *day*: its 公示期 (objections are received until it
    ends) runs ``review.notice_working_days`` Chinese working days. The CLI and the
    workspace both publish through this, so both open the same 公示期."""
    rows = selected(session, catalogue)
    ends = working_period_end(day, catalogue.review.notice_working_days)
    session.add(Publication(round_code=catalogue.code, notice_ends=ends.end, estimated=ends.estimated,
                            references=[r.reference for r in rows], published_by=actor))
    record(session, "published", actor=actor, detail=f"{len(rows)} 项；公示期至 {ends.end.isoformat()}")
    return Published(rows, day, ends.end, ends.estimated)


def workbook(rows: list[Listed], catalogue: Catalogue) -> bytes:
    return listing_workbook("公示名单", HEADERS,
                            ([i, r.direction, r.unit, r.partners, r.task] for i, r in enumerate(rows, 1)),
                            (6, 22, 36, 40, 44))


def document(rows: list[Listed], catalogue: Catalogue, *, published: date, notice_ends: date) -> bytes:
    intro = (f"公示时间：{cn_date(published)}至{cn_date(notice_ends)}。公示期间如有异议，"
             "请以书面形式（电子邮件）向省大数据局反映，并注明异议事项和理由。")
    return table_document(listing_title(catalogue), intro, HEADERS,
                          [[str(i), r.direction, r.unit, r.partners, r.task] for i, r in enumerate(rows, 1)])


def table_document(heading_text: str, intro: str, headers: tuple[str, ...], rows: list[list[str]]) -> bytes:
    """A Word document for the website: a centred title, one paragraph, one ruled table."""
    doc = Document()
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(heading_text)
    run.bold, run.font.size = True, Pt(16)
    if intro:
        doc.add_paragraph(intro)
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
        for paragraph in cell.paragraphs:
            for r in paragraph.runs:
                r.bold = True
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = _NOT_IN_XML.sub("", text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
