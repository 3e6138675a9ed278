"""Field extraction across layouts, label wordings, colons, tick styles and partner lists."""

from __future__ import annotations

import pytest
from support.formfactory import (
    FormSpec,
    form_document,
    make_docx,
    make_table_docx,
    make_table_xlsx,
    make_uscc,
    pdf_text_document,
    to_pdf,
    variant,
)

from intake.extract import checkboxes, directions, nature, uscc
from intake.extract.fields import read_form
from intake.extract.labels import clean_value, match_label
from intake.extract.merge import merge_readings
from intake.extract.table import read_recommendations
from intake.model import Document

LAYOUTS = ["cover_table", "paragraphs", "big_table", "horizontal", "grid"]
BASE = FormSpec(
    unit="山东海岱数据科技有限公司",
    uscc=make_uscc("370212"),
    nature="省属企业",
    city="青岛市",
    direction=6,
    task_types=["technology", "application"],
    outcomes=["创新成果", "应用场景"],
    partners=["齐鲁数智研究院", "北京星河智能科技有限公司"],
)


def read(spec: FormSpec):
    return read_form(form_document(spec))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_reads_every_field(layout: str) -> None:
    r = read(variant(BASE, layout=layout))
    app = r.application
    assert app.unit == BASE.unit
    assert app.uscc == BASE.uscc
    assert app.unit_nature == "provincial"
    assert app.city == "青岛市"
    assert app.direction == 6
    assert app.task_types == ["technology", "application"]
    assert [clean_value(p) for p in app.partners] == BASE.partners
    assert app.contact_email == "lianxi@example.com"
    assert {"innovation", "scenario"} <= r.outcomes


@pytest.mark.parametrize("label", ["揭榜单位", "申报单位", "牵头单位", "单位名称", "揭榜单位名称"])
@pytest.mark.parametrize("layout", ["cover_table", "paragraphs", "big_table", "grid"])
def test_unit_label_synonyms(label: str, layout: str) -> None:
    assert read(variant(BASE, unit_label=label, layout=layout)).application.unit == BASE.unit


@pytest.mark.parametrize("label", ["统一社会信用代码", "信用代码", "社会信用代码"])
@pytest.mark.parametrize("colon", ["：", ":", " ："])
def test_uscc_labels_and_colons(label: str, colon: str) -> None:
    app = read(variant(BASE, uscc_label=label, colon=colon, layout="paragraphs")).application
    assert app.uscc == BASE.uscc and app.unit == BASE.unit


@pytest.mark.parametrize("tick", ["☑", "■", "√", "✔", "[x]", "☒", "是"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_tick_styles(tick: str, layout: str) -> None:
    spec = variant(
        BASE,
        tick=tick,
        layout=layout,
        nature="中央驻鲁单位",
        nature_style="ticks",
        direction_style="ticks",
        task_types=["theory"],
        outcomes=["研究报告"],
    )
    r = read(spec)
    assert r.application.task_types == ["theory"]
    assert r.application.direction == 6 and r.directions == {6}
    assert r.application.unit_nature == "central"
    assert "report" in r.outcomes and "innovation" not in r.outcomes


@pytest.mark.parametrize("style", ["label", "number", "name", "chinese", "ticks", "title"])
@pytest.mark.parametrize("layout", ["cover_table", "paragraphs", "big_table", "grid"])
def test_direction_styles(style: str, layout: str) -> None:
    for n in (1, 4, 6, 8):
        r = read(variant(BASE, direction=n, direction_style=style, layout=layout))
        assert r.application.direction == n, (style, layout, n)


@pytest.mark.parametrize("style", ["label", "name", "ticks"])
def test_two_directions_are_seen(style: str) -> None:
    r = read(variant(BASE, direction=[2, 8], direction_style=style))
    assert r.directions == {2, 8} and r.application.direction is None


def test_no_direction() -> None:
    # a task name free of the notice's scope words (the factory's "数据产品质量评价…" is
    # direction 二's own scope: tests/intake/test_meaning.py)
    r = read(variant(BASE, direction=None, task_name="数据要素综合服务平台建设"))
    assert r.directions == set() and r.application.direction is None


@pytest.mark.parametrize("layout", LAYOUTS)
def test_task_types_written(layout: str) -> None:
    r = read(
        variant(BASE, layout=layout, task_style="written", task_types=["theory", "application"])
    )
    assert r.application.task_types == ["theory", "application"]


def test_nothing_ticked_is_no_task_type() -> None:
    assert read(variant(BASE, task_types=[])).application.task_types == []


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("style", ["table", "line"])
def test_partners(layout: str, style: str) -> None:
    names = ["甲乙数据科技有限公司", "丙丁大学", "上海戊己信息技术有限公司"]
    r = read(variant(BASE, layout=layout, partner_style=style, partners=names))
    assert [clean_value(p) for p in r.application.partners] == names


@pytest.mark.parametrize("nature_style", ["words", "ticks"])
def test_partners_described_like_the_lead(nature_style: str) -> None:
    spec = variant(
        BASE,
        layout="paragraphs",
        partner_style="kv",
        nature="省属单位",
        nature_style=nature_style,
        partners=["甲乙数据科技有限公司", "丙丁大学"],
    )
    app = read(spec).application
    assert (app.unit, app.uscc, app.unit_nature) == (BASE.unit, BASE.uscc, "provincial")
    assert app.partners == ["甲乙数据科技有限公司", "丙丁大学"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_no_partners(layout: str) -> None:
    assert read(variant(BASE, layout=layout, partners=[])).application.partners == []


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("中央驻鲁企业", "central"),
        ("省属事业单位", "provincial"),
        ("民营企业", "other"),
        ("市属国有企业", "other"),
        ("省属高校", "provincial"),
        ("其他", "other"),
        ("国有企业", None),
    ],
)
def test_nature_words(words: str, expected: str | None) -> None:
    assert nature.nature_from_words(words) == expected


def test_nature_cues_when_form_is_silent() -> None:
    spec = variant(
        BASE, nature_style="none", unit="中国某某通信集团山东分公司", uscc=make_uscc("370100")
    )
    assert read(spec).application.unit_nature == "central"
    assert (
        read(
            variant(BASE, nature_style="none", uscc=make_uscc("370000", "12"))
        ).application.unit_nature
        == "provincial"
    )
    assert read(variant(BASE, nature_style="none")).application.unit_nature is None


@pytest.mark.parametrize(
    ("unit", "words", "expected"),
    [
        ("山东省港口数据集团有限公司", "国有企业", "provincial"),
        ("济南城投数据集团有限公司", "国有企业", "other"),
        ("烟台市数据研究院", "事业单位", "other"),
        ("山东某某科技有限公司", "国有企业", None),
    ],
)
def test_public_sector_words_take_the_level_from_the_name(
    unit: str, words: str, expected: str | None
) -> None:
    assert (
        read(
            variant(BASE, unit=unit, nature=words, uscc=make_uscc("370102"))
        ).application.unit_nature
        == expected
    )


def test_pdf_text_reads_like_word() -> None:
    r = read_form(pdf_text_document(BASE))
    assert (r.application.unit, r.application.uscc, r.application.direction) == (
        BASE.unit,
        BASE.uscc,
        6,
    )
    assert r.application.task_types == ["technology", "application"]


def test_word_and_pdf_merge_into_one() -> None:
    word = read_form(form_document(BASE, "甲-申报书.docx"))
    pdf = read_form(pdf_text_document(BASE, "甲-申报书（盖章）.pdf"))
    scan = read_form(Document(name="甲-申报书扫描件.pdf", format="pdf", scanned=True))
    other = read_form(
        form_document(variant(BASE, unit="另一家科技有限公司", uscc=make_uscc("370303")), "乙.docx")
    )
    merged = merge_readings([word, pdf, scan, other])
    assert len(merged) == 2
    assert merged[0].application.documents == [
        "甲-申报书.docx",
        "甲-申报书（盖章）.pdf",
        "甲-申报书扫描件.pdf",
    ]
    assert merged[0].format == "docx" and not merged[0].scanned


def test_uscc_validation_and_regions() -> None:
    assert uscc.is_valid("91370212MA1Y9KXG4J") and uscc.is_valid("12370000MA6QUE1R0M")
    assert not uscc.is_valid("91370212MA1Y9KXG4K") and not uscc.is_valid("91370212MA1Y9KXG4")
    assert not uscc.is_valid("91370212MA1Y9KXGIJ")  # I is not in the alphabet
    assert uscc.city_of(make_uscc("371202")) == "济南市"  # former 莱芜
    assert uscc.city_of(make_uscc("370000")) is None
    assert uscc.in_shandong(make_uscc("100000")) is None
    assert uscc.in_shandong(make_uscc("310115")) is False
    assert uscc.in_shandong(make_uscc("371700")) is True


def test_checkbox_sides_do_not_bleed() -> None:
    opts = {"a": ("理论研究",), "b": ("技术创新",), "c": ("应用实践",)}
    assert checkboxes.selected("☑理论研究　□技术创新　□应用实践", opts) == ({"a"}, True)
    assert checkboxes.selected("理论研究□　技术创新√　应用实践□", opts) == ({"b"}, True)
    assert checkboxes.selected("理论研究：否 技术创新：是 应用实践：是", opts) == ({"b", "c"}, True)
    assert checkboxes.selected("□理论研究 □技术创新 □应用实践", opts) == (set(), True)
    assert checkboxes.selected("技术创新、应用实践", opts) == ({"b", "c"}, False)
    grid = [["理论研究", "技术创新", "应用实践"], ["√", "", "√"]]
    assert checkboxes.grid_choices(grid, opts) == {"a", "c"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("（六）数据流通利用技术", {6}),
        ("6", {6}),
        ("方向六", {6}),
        ("数据流通交易", {4}),
        ("第4个方向", {4}),
        ("6.数据流通利用技术", {6}),
        ("公共数据资源授权运营", {3}),
        ("数据治理、数据安全", {2, 8}),
        ("☑（一）数据产权保护\n□（二）数据治理", {1}),
        ("数据流通利用技术（兼顾数据安全）", {6}),
    ],
)
def test_direction_values(value: str, expected: set[int]) -> None:
    assert directions.directions_in(value) == expected


def test_labels() -> None:
    assert match_label("揭榜单位（盖章）：") == "unit"
    assert match_label("统一社会信用代码:") == "uscc"
    assert match_label("（一）任务类别") == "task_types"
    assert match_label("某某科技有限公司") is None


def _doc(data: bytes, name: str, fmt: str) -> Document:
    from support.formfactory import docx_document

    if fmt == "docx":
        return docx_document(data, name)
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    rows = [
        [("" if v is None else str(v)) for v in r] for r in wb.active.iter_rows(values_only=True)
    ]
    return Document(
        name=name, format="xlsx", text="\n".join("\t".join(r) for r in rows), tables=[rows]
    )


def test_recommendation_table_docx_and_xlsx() -> None:
    a = variant(BASE, unit="甲公司科技有限公司", direction=2)
    b = variant(BASE, unit="乙公司科技有限公司", direction=2)
    c = variant(BASE, unit="丙公司科技有限公司", direction=5)
    t = read_recommendations(_doc(make_table_docx([a, b, c], "烟台市"), "推荐汇总表.docx", "docx"))
    assert [(r.rank, r.direction, r.unit) for r in t.recommendations] == [
        (1, 2, a.unit),
        (2, 2, b.unit),
        (1, 5, c.unit),
    ]
    assert t.city == "烟台市"
    x = read_recommendations(
        _doc(make_table_xlsx([a, b, c], merge_directions=True), "汇总表.xlsx", "xlsx")
    )
    assert [(r.rank, r.direction) for r in x.recommendations] == [(1, 2), (2, 2), (1, 5)]
    assert x.city == "青岛市"


def test_recommendation_table_from_pdf_lines() -> None:
    text = (
        "2025年全省数据要素市场化配置改革揭榜挂帅推荐汇总表\n推荐单位（盖章）：德州市大数据局\n"
        "序号 榜单方向 推荐顺序 揭榜单位 联合单位 揭榜任务名称\n"
        "1 （二）数据治理 1 德州甲数据有限公司 无 某任务\n2 （二）数据治理 2 德州乙科技有限公司 无 某任务\n"
    )
    t = read_recommendations(Document(name="推荐汇总表.pdf", format="pdf", text=text))
    assert [(r.rank, r.direction, r.unit) for r in t.recommendations] == [
        (1, 2, "德州甲数据有限公司"),
        (2, 2, "德州乙科技有限公司"),
    ]
    assert t.city == "德州市"


@pytest.fixture(scope="module")
def real_pdfs() -> dict[str, Document]:
    """Each layout (ticks everywhere) printed to PDF by LibreOffice and opened by intake.documents."""
    from intake.attachments import open_attachments
    from intake.mime import Attachment

    specs = {
        layout: variant(
            BASE,
            layout=layout,
            direction_style="ticks",
            nature="中央驻鲁单位",
            nature_style="ticks",
        )
        for layout in LAYOUTS
    }
    pdfs = to_pdf([make_docx(s) for s in specs.values()])
    if pdfs is None:
        pytest.skip("LibreOffice not installed")
    docs = open_attachments(
        [
            Attachment(f"{k}.pdf", data, "application/pdf")
            for k, data in zip(specs, pdfs, strict=True)
        ]
    )
    return {d.name[:-4]: d for d in docs}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_real_pdf_text_layer(layout: str, real_pdfs: dict[str, Document]) -> None:
    r = read_form(real_pdfs[layout])
    app = r.application
    assert (app.unit, app.uscc, app.unit_nature, app.city, app.direction) == (
        BASE.unit,
        BASE.uscc,
        "central",
        "青岛市",
        6,
    )
    assert app.task_types == ["technology", "application"]
    assert [clean_value(p) for p in app.partners] == BASE.partners
    assert app.contact_email == "lianxi@example.com"
