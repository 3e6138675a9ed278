"""Excel and CSV for staff: the digest's workbook, ``jiebang export``, and the 推荐汇总表 sheet.

The 推荐汇总表 follows the notice's 附件2 (the blank form in shared/samples/forms):
columns 序号 · 榜单方向 · 推荐顺序 · 揭榜单位 · 联合单位 · 揭榜任务名称 · 任务类别 ·
联系人 · 联系电话, with 附件2 / title / 推荐单位（盖章） and 填报日期 above and a 注 below.
Excel has no time zones: times are written as wall time in the round's zone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, col, func, select

from campaign import current
from campaign.clock import cn_date, local_naive
from campaign.labels import (
    CHANNEL_LABELS,
    INTENT_LABELS,
    MAIL_KIND_LABELS,
    MAIL_STATE_LABELS,
    NATURE_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    direction_label,
    task_type_label,
    task_type_labels,
)
from campaign.policy import RoundPolicy
from notifier.models import OutboxMail
from notifier.wording import title_of
from tracker.records.queries import SubmissionFilter, open_codes_of
from tracker.reports.cells import safe_cell
from tracker.store.tables import (
    CityPackage,
    DeficiencyRecord,
    RecommendationRow,
    StoredMessage,
    Submission,
    SubmissionVersion,
)

TABLE_COLUMNS = ("序号", "榜单方向", "推荐顺序", "揭榜单位", "联合单位", "揭榜任务名称", "任务类别", "联系人", "联系电话")
TABLE_WIDTHS = (6, 20, 9, 30, 30, 40, 16, 10, 15)  # as in the notice's .xlsx form
SUBMISSION_COLUMNS = ("受理编号", "揭榜单位", "统一社会信用代码", "单位性质", "注册地", "榜单方向", "揭榜任务名称",
                      "任务类别", "联合单位", "报送渠道", "推荐城市", "状态", "版本数", "逾期", "未解决问题",
                      "联系邮箱", "首次收到", "最近收到")
DEFICIENCY_COLUMNS = ("受理编号", "揭榜单位", "代码", "级别", "问题", "说明", "状态", "提出时间", "解决时间", "处理说明")
MESSAGE_COLUMNS = ("序号", "来信/去信", "时间", "发件人/收件人", "主题", "类型", "状态", "受理编号", "错误")
_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD = PatternFill("solid", fgColor="DDE6F0")
Step = Callable[[int, int], None]  # (done, total) after each row: a command's progress bar, never needed


@dataclass
class _Tally:
    """Counts the rows written to a file as they go, for *on_row* (a command's bar)."""

    total: int
    on_row: Step | None
    done: int = 0

    def rows(self, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        for row in rows:
            yield row
            self.done += 1
            if self.on_row is not None:
                self.on_row(self.done, self.total)


@dataclass(frozen=True)
class TableRow:
    """One line of a 推荐汇总表 (the notice's columns, plus our reference)."""

    direction: int
    rank: int
    unit: str
    partners: tuple[str, ...] = ()
    task_name: str = ""
    task_types: tuple[str, ...] = ()  # labels: 理论研究 …
    contact: str = ""
    phone: str = ""
    reference: str = ""

    def cells(self, seq: int) -> list[Any]:
        return [seq, direction_label(self.direction), self.rank, self.unit, "、".join(self.partners) or "无",
                self.task_name, "、".join(self.task_types), self.contact, self.phone]


def table_title(city: str) -> str:
    return f"{city}{current().round_title}推荐汇总表"


def table_note() -> str:
    return f"注：每个榜单方向每市推荐数量不超过{current().city_quota}个，请按推荐顺序填写。"


def ordered(rows: Iterable[TableRow]) -> list[TableRow]:
    """The order the notice asks for: by direction, then by recommendation rank."""
    return sorted(rows, key=lambda r: (r.direction or 99, r.rank, r.unit))


def _local(value: datetime | None, policy: RoundPolicy) -> datetime | None:
    return local_naive(value, policy.catalogue)


def _text(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


# --- sheets ----------------------------------------------------------------------------------
def _append(ws: Worksheet, values: Iterable[Any]) -> None:
    """Every row goes in here: mail-borne text must never become a formula."""
    cells = []
    for value in values:
        cell = Cell(ws, value=safe_cell(value))
        if isinstance(cell.value, str):
            cell.data_type = "s"  # openpyxl makes any string starting with "=" a formula otherwise
        cells.append(cell)
    ws.append(cells)


def write_table_sheet(ws: Worksheet, city: str, rows: Sequence[TableRow], filled_on: date) -> None:
    """The 推荐汇总表 in the notice's layout on *ws*."""
    last = get_column_letter(len(TABLE_COLUMNS))
    _append(ws, ["附件2"])
    _append(ws, [table_title(city)])
    ws.merge_cells(f"A2:{last}2")
    ws["A2"].font = Font(size=16, bold=True)
    ws["A2"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[2].height = 30
    _append(ws, [f"推荐单位（盖章）：{city}大数据局", None, None, None, None, None, f"填报日期：{cn_date(filled_on)}"])
    ws.merge_cells("A3:F3")
    _append(ws, TABLE_COLUMNS)
    for seq, row in enumerate(ordered(rows), 1):
        _append(ws, row.cells(seq))
    for line in ws.iter_rows(min_row=4, max_row=ws.max_row, max_col=len(TABLE_COLUMNS)):
        for cell in line:
            cell.border = _BOX
            cell.alignment = Alignment(vertical="center", wrap_text=True,
                                       horizontal="center" if cell.column in (1, 3) else None)
    for cell in ws[4]:
        cell.font, cell.fill = Font(bold=True), _HEAD
        cell.alignment = Alignment(horizontal="center", vertical="center")
    _append(ws, [table_note()])
    for i, width in enumerate(TABLE_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4


def table_workbook(city: str, rows: Sequence[TableRow], filled_on: date) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "推荐汇总表"
    write_table_sheet(ws, city, rows, filled_on)
    return _bytes(wb)


def _listing(ws: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[int]) -> None:
    _append(ws, headers)
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True), _HEAD
    for row in rows:
        _append(ws, row)
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for cell in ws.iter_rows(min_row=2):
        for c in cell:
            if isinstance(c.value, datetime):
                c.number_format = "yyyy-mm-dd hh:mm"
    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions


def _bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- rows from the database ---------------------------------------------------------------------
def submission_rows(session: Session, policy: RoundPolicy, *, only: SubmissionFilter | None = None) -> list[list[Any]]:
    """One row per submission (those *only* selects), in SUBMISSION_COLUMNS order (times as local wall time)."""
    spans = {sid: (lo, hi) for sid, lo, hi in session.exec(
        select(SubmissionVersion.submission_id, func.min(SubmissionVersion.received_at),
               func.max(SubmissionVersion.received_at)).group_by(col(SubmissionVersion.submission_id))).all()}
    subs = session.exec((only or SubmissionFilter()).apply(select(Submission).where(Submission.round_code == policy.code))
                        .order_by(Submission.reference)).all()
    codes = open_codes_of(session, [s.id or 0 for s in subs])
    out = []
    for s in subs:
        assert s.id is not None  # a stored row
        first, latest = spans.get(s.id, (None, None))
        out.append([
            s.reference, s.unit or "", s.uscc or "", NATURE_LABELS.get(s.unit_nature or "", ""), s.unit_city or "",
            direction_label(s.direction), s.task_name or "", task_type_labels(s.task_types),
            "、".join(s.partners), CHANNEL_LABELS.get(s.channel or "", ""), s.city or "",
            STATUS_LABELS.get(s.status, s.status), s.versions, "是" if s.late else "否",
            "；".join(title_of(c) for c in codes.get(s.id, [])), "、".join(s.contacts),  # as staff read them
            _local(first, policy), _local(latest, policy),
        ])
    return out


def deficiency_rows(session: Session, policy: RoundPolicy, *, only: SubmissionFilter | None = None) -> list[list[Any]]:
    """Every deficiency; with *only*, those of the submissions it selects (no package's)."""
    subs = {s.id: s for s in session.exec((only or SubmissionFilter()).apply(select(Submission))).all()}
    packages = {p.id: p for p in session.exec(select(CityPackage)).all()} if only is None else {}
    stmt = select(DeficiencyRecord)
    if only is not None:
        stmt = stmt.where(col(DeficiencyRecord.submission_id).in_(only.apply(select(Submission.id))))
    out = []
    for d in session.exec(stmt.order_by(col(DeficiencyRecord.state).desc(), col(DeficiencyRecord.id))).all():
        sub, pkg = subs.get(d.submission_id or -1), packages.get(d.package_id or -1)
        owner = sub.reference if sub else (f"{pkg.city}推荐材料第{pkg.version}版" if pkg else "")
        unit = (sub.unit or "") if sub else (f"{pkg.city}大数据局" if pkg else "")
        out.append([owner, unit, d.code, "错误" if d.severity == "error" else "提示",
                    title_of(d.code), d.message,
                    "未解决" if d.state == "open" else "已解决", _local(d.opened_at, policy),
                    _local(d.resolved_at, policy), d.resolution or ""])
    return out


def message_rows(session: Session, policy: RoundPolicy) -> list[list[Any]]:
    """Incoming messages and outgoing mails, oldest first."""
    rows: list[tuple[datetime | None, list[Any]]] = []
    for m in session.exec(select(StoredMessage).order_by(col(StoredMessage.id))).all():
        when = _local(m.received_at or m.stored_at, policy)
        rows.append((when, [f"收{m.id}", "来信", when, m.from_addr or "", m.subject,
                            INTENT_LABELS.get(m.intent, m.intent or ""), STATE_LABELS.get(m.state, m.state),
                            " ".join(m.references or []), m.error or ""]))
    for o in session.exec(select(OutboxMail).order_by(col(OutboxMail.id))).all():
        when = _local(o.sent_at or o.created_at, policy)
        rows.append((when, [f"发{o.id}", "去信", when, "、".join(o.to_addrs), o.subject,
                            MAIL_KIND_LABELS.get(o.kind, o.kind), MAIL_STATE_LABELS.get(o.state, o.state),
                            o.reference or "", o.last_error or ""]))
    rows.sort(key=lambda r: (r[0] or datetime.min, r[1][0]))
    return [r for _, r in rows]


def province_tables(session: Session, policy: RoundPolicy) -> dict[str, list[TableRow]]:
    """Each city's current 推荐汇总表 as received (province role)."""
    packages = session.exec(select(CityPackage).where(CityPackage.round_code == policy.code,
                                                      col(CityPackage.current).is_(True))
                            .order_by(col(CityPackage.city), col(CityPackage.version))).all()
    city_of = {p.id: p.city for p in packages}
    stmt = select(RecommendationRow).where(col(RecommendationRow.package_id).in_(list(city_of) or [-1]))
    stmt = stmt.where(col(RecommendationRow.current).is_(True))
    subs = {s.id: s for s in session.exec(select(Submission)).all()}
    out: dict[str, list[TableRow]] = {p.city: [] for p in packages if p.has_table}
    for r in session.exec(stmt.order_by(col(RecommendationRow.id))).all():
        sub = subs.get(r.submission_id or -1)
        out.setdefault(city_of[r.package_id], []).append(TableRow(
            direction=r.direction, rank=r.rank, unit=r.unit, task_name=r.task_name or (sub.task_name if sub else "") or "",
            partners=tuple(sub.partners) if sub else (),
            task_types=tuple(task_type_label(t) for t in sub.task_types) if sub else (),
            reference=sub.reference if sub else ""))
    return out


# --- whole files ---------------------------------------------------------------------------------
def digest_workbook(session: Session, policy: RoundPolicy, *, tables: dict[str, list[TableRow]],
                    filled_on: date, only: SubmissionFilter | None = None, on_row: Step | None = None) -> bytes:
    """申报汇总 · 问题清单 · one 推荐汇总表 per city · 邮件记录; *on_row* hears of each listed row
    written (the writing, not the reading, is what takes long: thousands of cells)."""
    submissions = submission_rows(session, policy, only=only)
    deficiencies = deficiency_rows(session, policy, only=only)
    messages = message_rows(session, policy)
    tally = _Tally(len(submissions) + len(deficiencies) + len(messages), on_row)
    wb = Workbook()
    ws = wb.active
    ws.title = "申报汇总"
    _listing(ws, SUBMISSION_COLUMNS, tally.rows(submissions),
             (14, 30, 21, 9, 9, 22, 36, 20, 30, 10, 9, 16, 7, 6, 28, 28, 17, 17))
    _listing(wb.create_sheet("问题清单"), DEFICIENCY_COLUMNS, tally.rows(deficiencies),
             (20, 30, 28, 6, 24, 60, 8, 17, 17, 24))
    for city, rows in tables.items():
        write_table_sheet(wb.create_sheet(f"推荐汇总表-{city}"), city, rows, filled_on)
    _listing(wb.create_sheet("邮件记录"), MESSAGE_COLUMNS, tally.rows(messages),
             (8, 8, 17, 32, 48, 18, 8, 14, 40))
    return _bytes(wb)


def submissions_csv(session: Session, policy: RoundPolicy, *, only: SubmissionFilter | None = None,
                    on_row: Step | None = None) -> bytes:
    """UTF-8 with a BOM: Excel on Windows opens it as UTF-8 only then; *on_row* after each row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(SUBMISSION_COLUMNS)
    rows = submission_rows(session, policy, only=only)
    for row in _Tally(len(rows), on_row).rows(rows):
        writer.writerow([safe_cell(_text(v) if isinstance(v, datetime) else v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def listing_workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                     widths: Sequence[int]) -> bytes:
    """One sheet *title*: a bold header row, then *rows* (text cells never formulas)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    _listing(ws, headers, rows, widths)
    return _bytes(wb)
