"""A city's 推荐汇总表: its rows, the Word and Excel files, and each application's documents.

The layout follows the notice's 附件2: 序号 · 榜单方向 · 推荐顺序 · 揭榜单位 · 联合单位 ·
揭榜任务名称 · 任务类别 · 联系人 · 联系电话, ordered by direction, then rank.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from campaign import current
from campaign.clock import cn_date
from campaign.labels import STATUS_LABELS, direction_label, task_type_label
from campaign.policy import RoundPolicy
from intake.attachments import open_attachments
from intake.extract.labels import clean_value
from intake.extract.pairs import read_view
from intake.mime import parse_message
from notifier.headers import clean_filename
from tracker.records.city import _city, ranked
from tracker.reports.views import RankedItem
from tracker.reports.workbook import (
    TABLE_COLUMNS,
    Step,
    TableRow,
    ordered,
    table_title,
    table_workbook,
)
from tracker.store.blobs import BlobMissing, BlobStore
from tracker.store.tables import StoredMessage, Submission, SubmissionStatus, SubmissionVersion

WORD = (".docx", ".doc", ".wps")
# the notice's Word form (附件2): column widths in EMU, title 20 pt, "附件2" 16 pt
DOCX_WIDTHS = (431800, 1224280, 575945, 1511935, 1440180, 1871980, 935990, 647700, 1007745)


def ranked_items(session: Session, policy: RoundPolicy) -> tuple[RankedItem, ...]:
    return tuple(RankedItem(direction_label(r.direction), r.rank, s.reference, s.unit or "",
                            STATUS_LABELS.get(s.status, s.status)) for r, s in ranked(session, policy))


# --- the 推荐汇总表 and the documents that go with it -------------------------------------------
def _contact(raw: bytes, names: list[str]) -> tuple[str, str]:
    """联系人 and 联系电话 as the Word form states them (label synonyms from intake)."""
    words = [a for a in parse_message(raw).attachments if a.name in names and a.name.lower().endswith(WORD)]
    for doc in open_attachments(words):  # Word only: no OCR of scans for two fields
        if doc.readable:
            view = read_view(doc.text, doc.tables)
            contact, phone = (clean_value(next(iter(view.values(k)), "")) for k in ("contact", "phone"))
            if contact or phone:
                return contact, phone
    return "", ""


def _versions(session: Session, sub: Submission) -> list[SubmissionVersion]:
    return list(session.exec(select(SubmissionVersion).where(SubmissionVersion.submission_id == sub.id)
                             .order_by(col(SubmissionVersion.number).desc())).all())


def _raw(session: Session, blobs: BlobStore, version: SubmissionVersion) -> bytes | None:
    msg = session.get(StoredMessage, version.message_pk)
    try:
        return blobs.get(msg.raw_sha256) if msg and msg.raw_sha256 else None
    except BlobMissing:
        return None


def table_rows(session: Session, policy: RoundPolicy, *, blobs: BlobStore | None = None,
               on_row: Step | None = None) -> list[TableRow]:
    """The city's 推荐汇总表 rows; with *blobs*, 联系人/联系电话 are read from the Word forms
    (*on_row*: (done, total) after each, for a command's bar: opening documents takes long)."""
    out = []
    recommended = ranked(session, policy)
    for done, (rec, sub) in enumerate(recommended, 1):
        contact = phone = ""
        if blobs is not None:
            standing = next((v for v in _versions(session, sub) if v.number == sub.standing_version), None)
            raw = _raw(session, blobs, standing) if standing else None
            if raw is not None and standing is not None:
                contact, phone = _contact(raw, list(standing.documents))
        out.append(TableRow(direction=rec.direction, rank=rec.rank, unit=sub.unit or "", partners=tuple(sub.partners),
                            task_name=sub.task_name or "", task_types=tuple(task_type_label(t) for t in sub.task_types),
                            contact=contact, phone=phone, reference=sub.reference))
        if on_row is not None:
            on_row(done, len(recommended))
    return ordered(out)


def table_docx(city: str, rows: list[TableRow], filled_on: date) -> bytes:
    """The 推荐汇总表 as Word, laid out like the notice's 附件2 (A4 landscape)."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Emu, Mm, Pt

    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Mm(20)
    document.add_paragraph().add_run("附件2").font.size = Pt(16)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(table_title(city))
    run.bold, run.font.size = True, Pt(20)
    document.add_paragraph(f"推荐单位（盖章）：{city}大数据局" + "\u3000" * 14 + f"填报日期：{cn_date(filled_on)}")
    table = document.add_table(rows=1, cols=len(TABLE_COLUMNS), style="Table Grid")
    for cell, text in zip(table.rows[0].cells, TABLE_COLUMNS, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for seq, row in enumerate(ordered(rows), 1):
        for cell, value in zip(table.add_row().cells, row.cells(seq), strict=True):
            cell.text = str(value)
    for line in table.rows:  # Word reads widths per cell
        for i, (cell, width) in enumerate(zip(line.cells, DOCX_WIDTHS, strict=True)):
            cell.width = Emu(width)
            if i in (0, 2):
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(f"注：1.每个榜单方向每市推荐数量不超过{current().city_quota}个，请按推荐顺序填写。"
                           "2.任务类别填写理论研究、技术创新、应用实践（可多选）。")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _kind(name: str) -> str:
    return "word" if name.lower().endswith(WORD) else ("pdf" if name.lower().endswith(".pdf") else "other")


def _files(session: Session, blobs: BlobStore, sub: Submission) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The standing version's documents; a Word or PDF it lacks comes from the latest earlier version."""
    versions = _versions(session, sub)
    standing = [v for v in versions if v.number == sub.standing_version]
    wanted: list[tuple[SubmissionVersion, str]] = [(v, n) for v in standing for n in v.documents]
    for kind in ("word", "pdf"):
        if not any(_kind(n) == kind for _, n in wanted):
            older = next(((v, n) for v in versions if v.number < sub.standing_version
                          for n in v.documents if _kind(n) == kind), None)
            wanted += [older] if older else []
    found, missing = [], []
    for version, name in wanted:
        raw = _raw(session, blobs, version)
        data = next((a.data for a in parse_message(raw).attachments if a.name == name), None) if raw else None
        if data is None:  # inside an archive, or the raw message is gone: staff fetch it by hand
            missing.append(name)
        else:
            found.append((name, data))
    return found, missing


@dataclass
class ExportReport:
    table_docx: Path
    table_xlsx: Path
    rows: list[TableRow]
    copied: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # "JB2025-0003: 申报书.pdf"
    warnings: list[str] = field(default_factory=list)


def export_table(session: Session, policy: RoundPolicy, blobs: BlobStore, out_dir: Path, *,
                 filled_on: date, on_step: Step | None = None) -> ExportReport:
    """Write the city's 推荐汇总表 (.docx + .xlsx) and each recommended application's files.

    *on_step*: (done, total) for a command's bar; each application is two steps, its Word
    form read for the table (联系人) and then its files copied.
    """
    city = _city(policy)

    def step(done: int, total: int, *, copied: bool = False) -> None:
        if on_step is not None:
            on_step(done + (total if copied else 0), 2 * total)

    rows = table_rows(session, policy, blobs=blobs, on_row=step)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = ExportReport(out_dir / f"{city}推荐汇总表.docx", out_dir / f"{city}推荐汇总表.xlsx", rows)
    report.table_docx.write_bytes(table_docx(city, rows, filled_on))
    report.table_xlsx.write_bytes(table_workbook(city, rows, filled_on))
    subs = {s.reference: s for _, s in ranked(session, policy)}
    for seq, row in enumerate(rows, 1):
        sub = subs[row.reference]
        if sub.status == SubmissionStatus.incomplete:
            report.warnings.append(f"{sub.reference} 材料待补正 / has open errors")
        folder = out_dir / clean_filename(f"{seq:02d}-{sub.reference}-{sub.unit or ''}")
        folder.mkdir(exist_ok=True)
        files, missing = _files(session, blobs, sub)
        for name, data in files:
            target = folder / clean_filename(name)  # a display name, never a path
            target.write_bytes(data)
            report.copied.append(target)
        report.missing += [f"{sub.reference}: {m}" for m in missing]
        step(seq, len(rows), copied=True)
    return report
