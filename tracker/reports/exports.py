"""Files staff download: the submissions (.xlsx, .csv) and a city's 推荐汇总表 (.xlsx, .docx).

One function per file, returning its bytes, for `jiebang export` and the web workspace
alike; every cell goes through the formula-safe writers of ``workbook``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from campaign.policy import RoundPolicy
from tracker.records.queries import SubmissionFilter
from tracker.reports.recommendation import table_docx, table_rows
from tracker.reports.workbook import (
    Step,
    digest_workbook,
    province_tables,
    submissions_csv,
    table_workbook,
)
from tracker.store.blobs import BlobStore

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSV = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class ExportFile:
    name: str
    content_type: str
    data: bytes


def submissions_file(session: Session, policy: RoundPolicy, fmt: str, *, filled_on: date,
                     only: SubmissionFilter | None = None, on_row: Step | None = None) -> ExportFile:
    """Every submission, or those *only* selects (the workspace's list filter): ``csv`` (UTF-8
    with BOM) or ``xlsx`` (the digest's workbook; with a filter, its 申报汇总 and 问题清单
    hold only those submissions). *on_row*: (done, total) as rows are written (`jiebang export`'s bar)."""
    if fmt == "csv":
        return ExportFile(f"揭榜挂帅申报-{filled_on.isoformat()}.csv", CSV,
                          submissions_csv(session, policy, only=only, on_row=on_row))
    if fmt != "xlsx":
        raise ValueError("format must be xlsx or csv")
    city = policy.city if policy.role == "city" else None
    tables = {city: table_rows(session, policy)} if city else province_tables(session, policy)
    return ExportFile(f"揭榜挂帅汇总-{filled_on.isoformat()}.xlsx", XLSX,
                      digest_workbook(session, policy, tables=tables, filled_on=filled_on, only=only,
                                      on_row=on_row))


def recommendation_file(session: Session, policy: RoundPolicy, city: str, fmt: str, *, filled_on: date,
                        blobs: BlobStore | None = None) -> ExportFile:
    """*city*'s 推荐汇总表: the city's own ranking (city role) or the table it sent (province)."""
    if policy.role == "city":
        rows = table_rows(session, policy, blobs=blobs)
    else:
        rows = province_tables(session, policy).get(city, [])
    if fmt == "docx":
        return ExportFile(f"{city}推荐汇总表.docx", DOCX, table_docx(city, rows, filled_on))
    return ExportFile(f"{city}推荐汇总表.xlsx", XLSX, table_workbook(city, rows, filled_on))
