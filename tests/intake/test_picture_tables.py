"""Issue #22 item 4: a 推荐汇总表 that exists only as a photo or a scanned PDF.

Before: no recommendation was read from it, and every form of the package was reported
"未列入推荐汇总表" (a false TABLE_MISMATCH). Now its rows are read from where OCR found
the text (columns under the header 序号 · 榜单方向 · 推荐顺序 · 揭榜单位 …, rows between
the ruled lines) into the same recommendations a Word or Excel table gives. What OCR is
unsure of goes to staff (OCR_USED), never into a finding about the table: a picture
nothing could be read from says so to staff and raises no TABLE_MISMATCH.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from support.photos import CASES, ZIBO_FORMS

from campaign import using
from intake.checks import Facts, run_checks
from intake.extract.fields import FormReading
from intake.extract.table import (
    RecommendationTable,
    TableRow,
    combine_tables,
    read_recommendations,
    rows_from_layout,
    settle_units,
)
from intake.model import Application, Document, PageLayout, Recommendation, Understanding
from intake.understand import understand
from tracker.config import load_settings

POLICY = load_settings(Path(__file__).resolve().parents[1] / "support" / "samples-config.yaml").round_policy()
needs_office = pytest.mark.skipif(__import__("shutil").which("soffice") is None,
                                  reason="LibreOffice prints the forms and the table")  # fmt: skip


@cache
def _understood(name: str) -> Understanding:
    return understand(CASES[name].build(), POLICY)


def _check(name: str) -> Understanding:
    case = CASES[name]
    result = _understood(name)
    assert result.channel == "via_city" and result.city == "淄博市"
    assert [(r.unit, r.direction, r.rank) for r in result.recommendations] == case.recommendations, name
    assert {d.code for d in result.deficiencies} == case.codes, (name, result.deficiencies)
    assert [a.unit for a in result.applications] == [a["unit"] for a in case.applications]
    return result


@needs_office
def test_a_photo_of_the_table_gives_its_recommendations_and_no_false_mismatch():
    result = _check("table_photo")
    assert "TABLE_MISMATCH" not in {d.code for d in result.deficiencies}


@needs_office
def test_a_picture_of_the_table_nothing_could_be_read_from_goes_to_staff_not_to_the_city():
    result = _check("table_photo_unreadable")
    staff = [d for d in result.deficiencies if d.code == "OCR_USED"]
    assert staff and all(d.severity == "warning" for d in result.deficiencies)
    assert "推荐汇总表" in staff[0].message and "人工核对" in staff[0].message


@needs_office
@pytest.mark.slow
@pytest.mark.parametrize("name", ["table_scanned_pdf", "table_photo_lists_a_missing_form"])
def test_a_scanned_table_reads_and_a_row_without_its_form_is_still_found(name):
    result = _check(name)
    if name == "table_photo_lists_a_missing_form":
        [mismatch] = [d for d in result.deficiencies if d.code == "TABLE_MISMATCH"]
        assert ZIBO_FORMS[1].unit in mismatch.message


# -- rows from boxes, without OCR --------------------------------------------------------------------

HEADER = [("序号", 100), ("榜单方向", 300), ("推荐顺序", 520), ("揭榜单位", 760), ("揭榜任务名称", 1060)]


def _box(text: str, x: float, y: float, score: float = 0.99, width: float | None = None) -> tuple:
    w = width if width is not None else 34 * len(text)
    return (x - w / 2, y - 17, x + w / 2, y + 17, text, score)


def _page(rows: list[list[tuple]], *, rules: bool = True, wrapped_header: bool = False) -> PageLayout:
    boxes = [_box("2025年全省数据要素市场化配置改革揭榜挂帅推荐汇总表", 600, 60),
             _box("推荐单位（盖章）：淄博市大数据局", 400, 120)]  # fmt: skip
    for text, x in HEADER:
        if wrapped_header and text == "推荐顺序":
            boxes += [_box("推荐", x, 185), _box("顺序", x, 222)]
        else:
            boxes.append(_box(text, x, 200))
    lines = [160.0, 245.0]
    y = 245.0
    for row in rows:
        height = 45 * max(len(cell) for cell in row)
        for cell, (_, x) in zip(row, HEADER, strict=False):
            for k, piece in enumerate(cell):  # a cell's wrapped lines, top-aligned
                boxes.append(piece if isinstance(piece, tuple) else _box(piece, x, y + 22 + 38 * k))
        y += height
        lines.append(y)
    boxes.append(_box("联系人：王五", 200, y + 40))
    return PageLayout(1400, 1000, boxes, lines if rules else [])


ROWS = [
    [["1"], ["（二）数据治", "理"], ["1"], ["淄博智数信息", "技术有限公司"], ["工业数据治理", "平台"]],
    [["2"], ["（八）数据安", "全"], ["1"], ["山东齐鲁数安", "科技有限公司"], ["数据安全审计"]],
    [["3"], ["（二）数据治", "理"], ["2"], ["淄博数港科技", "有限公司"], ["数据资产登记"]],
]
UNITS = [("淄博智数信息技术有限公司", 2, 1), ("山东齐鲁数安科技有限公司", 8, 1), ("淄博数港科技有限公司", 2, 2)]


def _read(rows: list) -> list[tuple]:
    return [(r.recommendation.unit, r.recommendation.direction, r.recommendation.rank) for r in rows]


def test_rows_are_read_between_the_ruled_lines_wrapped_cells_joined():
    rows = rows_from_layout(_page(ROWS))
    assert _read(rows) == UNITS
    assert [r.recommendation.task_name for r in rows] == ["工业数据治理平台", "数据安全审计", "数据资产登记"]
    assert all(r.pictured and r.doubt is None for r in rows)


def test_without_ruled_lines_a_row_starts_at_its_number_and_a_wrapped_header_is_read():
    rows = rows_from_layout(_page(ROWS, rules=False, wrapped_header=True))
    assert _read(rows) == UNITS


def test_a_picture_with_no_table_header_gives_no_rows():
    page = PageLayout(1000, 1000, [_box("营业执照", 500, 100), _box("名称 山东云图数据科技有限公司", 500, 200)])
    assert rows_from_layout(page) == []


def test_cells_ocr_is_unsure_of_are_doubted_and_go_to_staff():
    rows = [list(r) for r in ROWS]
    rows[0][3] = [_box("淄博智数信息", 760, 267, score=0.62), "技术有限公司"]  # a smudged name
    rows[1][2] = ["l"]  # a rank OCR read as a letter
    doubted = rows_from_layout(_page(rows))
    assert [r.doubt for r in doubted] == ["揭榜单位名称", "推荐顺序", None]
    table = RecommendationTable(rows=doubted, name="推荐汇总表.jpg")
    assert len(table.unsure) == 2 and "第2行（山东齐鲁数安科技有限公司）的推荐顺序" in table.unsure[1]


def test_a_name_one_character_off_takes_the_forms_name_and_loses_its_doubt():
    row = TableRow(Recommendation(1, 2, "淄博智数信自技术有限公司"), pictured=True, doubt="揭榜单位名称")
    typed = TableRow(Recommendation(1, 8, "山东齐鲁数安科技公司"))  # typed rows are never changed
    table = RecommendationTable(rows=[row, typed])
    settle_units(table, ["淄博智数信息技术有限公司", "山东齐鲁数安科技有限公司"])
    assert row.recommendation.unit == "淄博智数信息技术有限公司" and row.doubt is None
    assert typed.recommendation.unit == "山东齐鲁数安科技公司"


def test_a_typed_copy_of_the_table_stands_for_an_unreadable_picture_of_it():
    picture = RecommendationTable(notes=["推荐汇总表“推荐汇总表.jpg”为图片或扫描件，未能识别出推荐的单位，请人工核对。"])
    typed = RecommendationTable(rows=[TableRow(Recommendation(1, 2, "淄博智数信息技术有限公司"))])
    assert combine_tables([(typed, False), (picture, True)]).unsure == []
    assert combine_tables([(picture, True)]).unsure == picture.notes


def test_an_unread_scanned_table_says_so_to_staff():
    doc = Document(name="推荐汇总表.pdf", format="pdf", scanned=True, text="推荐汇总表\n模糊不清", pages=1)
    table = read_recommendations(doc)
    assert table.rows == [] and "未能识别出推荐的单位" in table.notes[0]


def _form(unit: str, direction: int) -> FormReading:
    return FormReading(Application(unit=unit, direction=direction, task_types=["theory"]),
                       name=f"{unit}.docx", format="docx", directions={direction}, outcomes={"研究报告"},
                       has_content=True)  # fmt: skip


def test_a_doubted_picture_table_raises_no_mismatch_and_no_quota_error_of_its_own():
    rows = [TableRow(Recommendation(i, 2, f"淄博第{i}数据科技有限公司"), pictured=True,
                     doubt="榜单方向" if i == 3 else None) for i in (1, 2, 3)]  # fmt: skip
    table = RecommendationTable(rows=rows, city="淄博市", name="推荐汇总表.jpg")
    forms = [_form("淄博第1数据科技有限公司", 2), _form("淄博第2数据科技有限公司", 2)]
    docs = [Document(name="推荐汇总表.jpg", format="image", role="recommendation_table", scanned=True)]
    facts = Facts(policy=POLICY, intent="submission", channel="via_city", city="淄博市", sender_city="淄博市",
                  documents=docs, forms=forms, table=table)  # fmt: skip
    with using(POLICY.catalogue):
        found = run_checks(facts).deficiencies
    codes = {d.code for d in found}
    assert "TABLE_MISMATCH" not in codes and "CITY_QUOTA_EXCEEDED" not in codes, found
    assert [d.message for d in found if d.code == "OCR_USED"] == table.unsure
