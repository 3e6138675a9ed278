"""The excellent results (优秀成果, notice 五.1): the passed applications staff chose, as a
workbook and a Word document for publication, with who chose them and when."""

from __future__ import annotations

from sqlmodel import Session

from campaign.catalogue import Catalogue
from campaign.clock import cn_date
from campaign.labels import direction_name
from tracker.records.acceptance import excellent, latest_decision
from tracker.reports.publication import table_document
from tracker.reports.workbook import listing_workbook

HEADERS = ("序号", "榜单方向", "揭榜单位", "联合单位", "揭榜任务名称", "受理编号", "验收通过日期", "推荐说明")


def rows(session: Session, catalogue: Catalogue) -> list[list[str]]:
    out = []
    for i, (sub, chosen) in enumerate(excellent(session), 1):
        passed = latest_decision(session, sub)
        out.append([str(i), direction_name(sub.direction, "—", catalogue), sub.unit or "—",
                    "、".join(p for p in sub.partners if p) or "无", sub.task_name or "—", sub.reference,
                    cn_date(passed.created_at, catalogue) if passed else "", chosen.note])
    return out


def title(catalogue: Catalogue) -> str:
    return f"{catalogue.year}年{catalogue.title}优秀成果名单"


def workbook(listed: list[list[str]]) -> bytes:
    return listing_workbook("优秀成果", HEADERS, listed, (6, 22, 36, 40, 44, 14, 14, 40))


def document(listed: list[list[str]], catalogue: Catalogue) -> bytes:
    return table_document(title(catalogue), "", HEADERS[:5], [r[:5] for r in listed])
