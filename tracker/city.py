"""City role: a city bureau ranks the applications it recommends and writes its 推荐汇总表.

The notice (四.（二）) has each city recommend at most 2 applications per direction, in
ranked order. The database enforces it too: ranks are 1 or 2 and unique per direction,
so no code path (or two staff at once) can store a third.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from intake.policy import RoundPolicy
from notifier.dbtypes import UtcDateTime
from notifier.headers import clean_filename
from notifier.wording import STATUS_LABELS, TASK_TYPE_LABELS
from tracker.blobstore import BlobMissing, BlobStore
from tracker.digest import RankedItem, direction_label
from tracker.events import record
from tracker.models import StoredMessage, utcnow
from tracker.records_models import Submission, SubmissionStatus, SubmissionVersion
from tracker.rules import CITY_QUOTA
from tracker.workbook import TABLE_COLUMNS, TableRow, cn_day, ordered, table_title, table_workbook

WORD = (".docx", ".doc", ".wps")
# the notice's Word form (附件2): column widths in EMU, title 20 pt, "附件2" 16 pt
DOCX_WIDTHS = (431800, 1224280, 575945, 1511935, 1440180, 1871980, 935990, 647700, 1007745)


class CityRecommendation(SQLModel, table=True):
    """One recommended application and its rank within its direction (migration 0004)."""

    __tablename__ = "city_recommendation"
    __table_args__ = (
        UniqueConstraint("round_code", "submission_id", name="uq_city_recommendation_submission"),
        UniqueConstraint("round_code", "city", "direction", "rank", name="uq_city_recommendation_rank"),
        CheckConstraint("rank IN (1, 2)", name="ck_city_recommendation_rank"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_code: str = Field(max_length=20)
    city: str = Field(max_length=20)
    direction: int
    rank: int
    submission_id: int = Field(foreign_key="submission.id")
    actor: str = Field(default="system", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class RecommendError(Exception):
    """Staff asked for a recommendation the rules do not allow; the message is one line."""


class QuotaExceeded(RecommendError):
    """A third application in one direction."""


def _city(policy: RoundPolicy) -> str:
    if policy.role != "city" or not policy.city:
        raise RecommendError("推荐排序仅用于市级部署（config: role: city）/ recommendations need role: city")
    return policy.city


def ranked(session: Session, policy: RoundPolicy) -> list[tuple[CityRecommendation, Submission]]:
    """The city's recommendations by direction and rank."""
    stmt = (select(CityRecommendation, Submission).join(Submission, Submission.id == CityRecommendation.submission_id)
            .where(CityRecommendation.round_code == policy.code, CityRecommendation.city == (policy.city or ""))
            .order_by(CityRecommendation.direction, CityRecommendation.rank))
    return list(session.exec(stmt).all())


def ranked_items(session: Session, policy: RoundPolicy) -> tuple[RankedItem, ...]:
    return tuple(RankedItem(direction_label(r.direction), r.rank, s.reference, s.unit or "",
                            STATUS_LABELS.get(s.status, s.status)) for r, s in ranked(session, policy))


def _quota_message(direction: int, peers: list[tuple[CityRecommendation, str]]) -> str:
    names = "、".join(f"{ref}（第{r.rank}位）" for r, ref in peers)
    refs = ", ".join(f"{ref} (rank {r.rank})" for r, ref in peers)
    return (f"每个榜单方向每市最多推荐{CITY_QUOTA}项：{direction_label(direction)}已推荐 {names}，"
            f"请先移除一项（jiebang recommend REF --remove）/ At most {CITY_QUOTA} recommendations per "
            f"direction: direction {direction} already has {refs}; remove one first.")


def recommend(session: Session, policy: RoundPolicy, sub: Submission, rank: int, *, actor: str) -> list[str]:
    """Put *sub* at *rank* in its direction; the other one there moves to the free rank.

    Returns what changed, in Chinese; raises RecommendError / QuotaExceeded (nothing written).
    """
    city = _city(policy)
    if rank not in range(1, CITY_QUOTA + 1):
        raise RecommendError(f"推荐顺序只能是1或{CITY_QUOTA} / rank must be 1..{CITY_QUOTA}")
    if not sub.direction:
        raise RecommendError(f"{sub.reference} 未识别榜单方向，无法推荐 / {sub.reference} has no direction yet")
    if sub.status == SubmissionStatus.withdrawn:
        raise RecommendError(f"{sub.reference} 已撤回，不能推荐 / {sub.reference} is withdrawn")
    rows = session.exec(select(CityRecommendation).where(
        CityRecommendation.round_code == policy.code, CityRecommendation.city == city,
        (CityRecommendation.direction == sub.direction) | (CityRecommendation.submission_id == sub.id))).all()
    peers = [r for r in rows if r.submission_id != sub.id and r.direction == sub.direction]
    if len(peers) >= CITY_QUOTA:
        refs = [(r, session.get(Submission, r.submission_id).reference) for r in peers]  # type: ignore[union-attr]
        raise QuotaExceeded(_quota_message(sub.direction, sorted(refs, key=lambda x: x[0].rank)))
    wanted = {sub.id: rank} | {p.submission_id: (CITY_QUOTA + 1 - rank) if p.rank == rank else p.rank for p in peers}
    before = {r.submission_id: (r.direction, r.rank) for r in rows}
    for r in rows:  # delete, then insert: the unique (direction, rank) never sees two at once
        session.delete(r)
    session.flush()
    notes = []
    for sid, new_rank in sorted(wanted.items(), key=lambda kv: kv[1]):
        session.add(CityRecommendation(round_code=policy.code, city=city, direction=sub.direction, rank=new_rank,
                                       submission_id=sid, actor=actor))
        if before.get(sid) != (sub.direction, new_rank):
            other = sub if sid == sub.id else session.get(Submission, sid)
            note = f"{other.reference} {direction_label(sub.direction)} 第{new_rank}位"  # type: ignore[union-attr]
            record(session, "recommended", submission=other, actor=actor, detail=note)
            notes.append(note)
    session.flush()
    return notes


def remove(session: Session, policy: RoundPolicy, sub: Submission, *, actor: str) -> bool:
    """Withdraw the city's recommendation of *sub*; the one ranked after it moves up."""
    city = _city(policy)
    row = session.exec(select(CityRecommendation).where(CityRecommendation.round_code == policy.code,
                                                        CityRecommendation.submission_id == sub.id)).first()
    if row is None:
        return False
    direction, rank = row.direction, row.rank
    session.delete(row)
    session.flush()
    record(session, "recommendation_removed", submission=sub, actor=actor,
           detail=f"{direction_label(direction)} 原第{rank}位")
    for later in session.exec(select(CityRecommendation).where(
            CityRecommendation.round_code == policy.code, CityRecommendation.city == city,
            CityRecommendation.direction == direction, CityRecommendation.rank > rank)).all():
        later.rank -= 1
        session.add(later)
    session.flush()
    return True


# --- the 推荐汇总表 and the documents that go with it -------------------------------------------
def _contact(raw: bytes, names: list[str]) -> tuple[str, str]:
    """联系人 and 联系电话 as the Word form states them (label synonyms from intake)."""
    from intake.documents import open_attachments
    from intake.extract.labels import clean_value
    from intake.extract.pairs import read_view
    from intake.mime import parse_message

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


def table_rows(session: Session, policy: RoundPolicy, *, blobs: BlobStore | None = None) -> list[TableRow]:
    """The city's 推荐汇总表 rows; with *blobs*, 联系人/联系电话 are read from the Word forms."""
    out = []
    for rec, sub in ranked(session, policy):
        contact = phone = ""
        if blobs is not None:
            standing = next((v for v in _versions(session, sub) if v.number == sub.standing_version), None)
            raw = _raw(session, blobs, standing) if standing else None
            if raw is not None and standing is not None:
                contact, phone = _contact(raw, list(standing.documents))
        out.append(TableRow(direction=rec.direction, rank=rec.rank, unit=sub.unit or "", partners=tuple(sub.partners),
                            task_name=sub.task_name or "", task_types=tuple(TASK_TYPE_LABELS.get(t, t) for t in sub.task_types),
                            contact=contact, phone=phone, reference=sub.reference))
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
    document.add_paragraph(f"推荐单位（盖章）：{city}大数据局" + "\u3000" * 14 + f"填报日期：{cn_day(filled_on)}")
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
    document.add_paragraph("注：1.每个榜单方向每市推荐数量不超过2个，请按推荐顺序填写。"
                           "2.任务类别填写理论研究、技术创新、应用实践（可多选）。")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _kind(name: str) -> str:
    return "word" if name.lower().endswith(WORD) else ("pdf" if name.lower().endswith(".pdf") else "other")


def _files(session: Session, blobs: BlobStore, sub: Submission) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The standing version's documents; a Word or PDF it lacks comes from the latest earlier version."""
    from intake.mime import parse_message

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
                 filled_on: date) -> ExportReport:
    """Write the city's 推荐汇总表 (.docx + .xlsx) and each recommended application's files."""
    city = _city(policy)
    rows = table_rows(session, policy, blobs=blobs)
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
    return report
