"""Forms, packages and mails in layouts none of the shared samples uses.

Each case is written the way a Shandong applicant or city clerk might really type or
send it; ``expect`` lists only what the case is about, ``has``/``lacks`` the codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.factory import archives, mails, office
from support.formfactory import make_eml, make_uscc
from support.unseen import (
    INSTRUCTIONS,
    TASK_TEXT,
    TITLE,
    USCC_BJ,
    USCC_JN,
    USCC_NATIONAL,
    USCC_QD,
    Block,
    make_docx,
    make_xlsx,
)

from intake.understand import understand
from tracker.config import load_settings

# the public samples' config (cities, addresses), copied so that these run without ../shared
SAMPLES_CONFIG = Path(__file__).resolve().parents[1] / "support" / "samples-config.yaml"

POLICY = load_settings(SAMPLES_CONFIG).round_policy()
UNIT = "山东云图数据科技有限公司"
TASK = "企业数据合规管理工具研发与应用"


@dataclass
class Case:
    blocks: list[Block]
    expect: dict[str, Any]
    has: set[str] = field(default_factory=set)
    lacks: set[str] = field(default_factory=set)


def tail(
    types: str = "☑理论研究  □技术创新  □应用实践", outcomes: str = "☑研究报告"
) -> list[Block]:
    return ["总体目标：" + TASK_TEXT, "阶段性目标：2025年6月完成方案。", f"任务类别：{types}",
            f"预期成果：{outcomes}"]  # fmt: skip


BASE = {"unit": UNIT, "uscc": USCC_JN, "city": "济南市", "direction": 2,
        "task_types": ["theory"]}  # fmt: skip

CASES: dict[str, Case] = {
    "required_marks_and_seal": Case(
        [
            TITLE,
            [
                ["申报单位名称（必填）", UNIT],
                ["统一社会信用代码*", USCC_JN],
                ["所属地市", "济南市"],
                ["单位性质", "民营企业"],
                ["申报方向*", "二、数据治理"],
                ["任务名称", TASK],
            ],
            *tail(),
        ],
        {**BASE, "unit_nature": "other", "task_name": TASK},
    ),
    "lead_seal_label": Case(
        [
            TITLE,
            [
                ["牵头单位（盖章）", UNIT],
                ["组织机构代码/统一社会信用代码", USCC_JN],
                ["注册地", "山东省济南市"],
                ["单位类型", "省属国有企业"],
                ["揭榜方向", "方向2"],
            ],
            *tail(),
        ],
        {**BASE, "unit_nature": "provincial"},
    ),
    "values_on_next_line": Case(
        [
            TITLE,
            "单位全称：",
            UNIT,
            "社会信用代码：",
            USCC_JN,
            "所在地市：",
            "济南市",
            "单位性质：",
            "中央驻鲁企业",
            "选择方向：",
            "第2个方向",
            *tail(),
        ],
        {**BASE, "unit_nature": "central"},
    ),
    "one_paragraph_per_field": Case(
        [
            TITLE,
            f"一、申报单位名称：{UNIT}。统一社会信用代码：{USCC_JN}。所在市：济南市。",
            "二、榜单方向：（二）数据治理方向。",
            *tail(),
        ],
        BASE,
    ),
    "label_and_value_same_cell": Case(
        [
            TITLE,
            [
                [f"揭榜单位：{UNIT}"],
                [f"统一社会信用代码：{USCC_JN}"],
                ["所在市：济南市"],
                ["榜单方向：（二）数据治理"],
                [f"任务名称：{TASK}"],
            ],
            *tail(),
        ],
        {**BASE, "task_name": TASK},
    ),
    "four_column_pairs": Case(
        [
            TITLE,
            [
                ["单位名称", UNIT, "统一社会信用代码", USCC_JN],
                ["所在市", "济南市", "单位性质", "省属事业单位"],
                ["联系人", "张三", "联系电话", "13800000000"],
                ["揭榜方向", "数据治理", "任务类型", "理论研究"],
                ["任务名称", TASK, None, None],
            ],
            "成果形式：研究报告",
            "总体目标：" + TASK_TEXT,
        ],
        {**BASE, "unit_nature": "provincial", "task_name": TASK},
    ),
    "vertical_header_column": Case(
        [
            TITLE,
            [
                ["项目", "内容"],
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "（二）数据治理"],
                ["任务类别", "理论研究"],
                ["预期成果", "研究报告"],
            ],
        ],
        BASE,
    ),
    "empty_template_rows": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
                ["联合单位", ""],
            ],
            "联合单位基本情况",
            [
                ["序号", "单位名称", "统一社会信用代码", "承担任务"],
                ["1", "山东大学", "", "算法研究"],
                ["2", "", "", ""],
                ["3", "", "", ""],
            ],
            *tail(),
        ],
        {**BASE, "partners": ["山东大学"]},
    ),
    "instructions_do_not_tick": Case(
        [
            TITLE,
            INSTRUCTIONS,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "数据安全"],
            ],
            *tail("☑技术创新", "☑创新成果"),
        ],
        {**BASE, "direction": 8, "task_types": ["technology"]},
        lacks={"MULTIPLE_DIRECTIONS"},
    ),
    "instructions_only_no_choice": Case(
        [
            TITLE,
            INSTRUCTIONS,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", ""],
                ["任务类别", ""],
            ],
        ],
        {"direction": None, "task_types": []},
        has={"DIRECTION_MISSING", "TASK_TYPE_MISSING"},
        lacks={"MULTIPLE_DIRECTIONS"},
    ),
    "direction_full_heading": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "（六）数据流通利用技术方向"],
            ],
            *tail(),
        ],
        {**BASE, "direction": 6},
    ),
    "direction_fullwidth_digit": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["申报方向", "方向６"],
            ],
            *tail(),
        ],
        {**BASE, "direction": 6},
    ),
    "direction_sixth": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["选择方向", "第6个方向"],
            ],
            *tail(),
        ],
        {**BASE, "direction": 6},
    ),
    "traditional_name": Case(
        [
            TITLE,
            [
                ["揭榜單位", "山東雲圖數據科技有限公司"],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "濟南市"],
                ["榜单方向", "数据治理"],
            ],
            *tail(),
        ],
        {"unit": "山東雲圖數據科技有限公司", "uscc": USCC_JN, "direction": 2, "city": "济南市"},
    ),
    "uscc_spaced_lowercase": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", f"{USCC_JN[:6]} {USCC_JN[6:12]}-{USCC_JN[12:]}".lower()],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
            ],
            *tail(),
        ],
        BASE,
        lacks={"USCC_INVALID"},
    ),
    "uscc_wrong_check": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN[:17] + ("1" if USCC_JN[17] != "1" else "2")],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
            ],
            *tail(),
        ],
        {"unit": UNIT, "direction": 2},
        has={"USCC_INVALID"},
    ),
    "partner_outside_shandong": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
                ["联合单位", "北京数安科技有限公司"],
            ],
            *tail(),
        ],
        {**BASE, "partners": ["北京数安科技有限公司"]},
        lacks={"NOT_IN_SHANDONG"},
    ),
    "lead_in_beijing": Case(
        [
            TITLE,
            [
                ["揭榜单位", "北京数安科技有限公司"],
                ["统一社会信用代码", USCC_BJ],
                ["注册地址", "北京市海淀区中关村大街1号"],
                ["榜单方向", "数据治理"],
            ],
            *tail(),
        ],
        {"uscc": USCC_BJ, "direction": 2},
        has={"NOT_IN_SHANDONG"},
    ),
    "central_national_code": Case(
        [
            TITLE,
            [
                ["揭榜单位", "中国石油大学（华东）"],
                ["统一社会信用代码", USCC_NATIONAL],
                ["单位性质", "中央驻鲁高校"],
                ["所在市", "青岛市"],
                ["榜单方向", "数据安全"],
            ],
            *tail(),
        ],
        {"uscc": USCC_NATIONAL, "unit_nature": "central", "direction": 8},
        lacks={"NOT_IN_SHANDONG", "USCC_INVALID"},
    ),
    "partners_none_words": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
                ["联合单位", "——"],
            ],
            *tail(),
        ],
        {**BASE, "partners": []},
    ),
    "partners_slash": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
                ["联合申报单位", "/"],
            ],
            *tail(),
        ],
        {**BASE, "partners": []},
    ),
    "three_partners_too_many": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_QD],
                ["所在市", "青岛市"],
                ["榜单方向", "数据治理"],
                ["合作单位", "山东大学；青岛大学；中国海洋大学"],
            ],
            *tail(),
        ],
        {"city": "青岛市", "partners": ["山东大学", "青岛大学", "中国海洋大学"]},
        has={"CONSORTIUM_TOO_LARGE"},
    ),
    "two_directions": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "☑数据治理  ☑数据安全  □数据产权保护"],
            ],
            *tail(),
        ],
        {"unit": UNIT},
        has={"MULTIPLE_DIRECTIONS"},
    ),
    "outcome_missing": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
            ],
            *tail("☑应用实践", "☑研究报告"),
        ],
        {**BASE, "task_types": ["application"]},
        has={"OUTCOME_MISSING"},
    ),
    "nature_university": Case(
        [
            TITLE,
            [
                ["揭榜单位", "山东理工大学"],
                ["统一社会信用代码", make_uscc("370303", "12", "4B5C6D7E8")],
                ["单位性质", "省属高校"],
                ["所在市", "淄博市"],
                ["榜单方向", "数据治理"],
            ],
            *tail(),
        ],
        {"unit_nature": "provincial", "city": "淄博市"},
    ),
    "task_types_written_several": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
                ["任务类型", "理论研究、应用实践"],
                ["成果形式", "研究报告1份、应用场景1个"],
            ],
        ],
        {**BASE, "task_types": ["theory", "application"]},
        lacks={"OUTCOME_MISSING"},
    ),
}


def check(understanding, case: Case) -> None:
    got = understanding.contract()
    assert got["applications"], got
    app = got["applications"][0]
    for key, value in case.expect.items():
        actual = app[key]
        if key in ("task_types", "partners"):
            actual, value = sorted(actual), sorted(value)
        assert actual == value, (key, app)
    codes = {d["code"] for d in got["deficiencies"]}
    assert case.has <= codes, codes
    assert not (case.lacks & codes), codes


@pytest.mark.parametrize("name", sorted(CASES))
def test_form_layout(name: str) -> None:
    case = CASES[name]
    raw = make_eml(attachments=[(f"{name}-申报书.docx", make_docx(case.blocks))])
    check(understand(raw, POLICY), case)


# -- formats and containers ---------------------------------------------------------------------

FORM_BLOCKS = CASES["four_column_pairs"].blocks
FORM_EXPECT = {"unit": UNIT, "uscc": USCC_JN, "city": "济南市", "direction": 2}


def lead(understanding) -> dict[str, Any]:
    got = understanding.contract()
    assert got["applications"], got
    return got["applications"][0]


def expect_form(understanding, expect: dict[str, Any] = FORM_EXPECT) -> dict[str, Any]:
    app = lead(understanding)
    for key, value in expect.items():
        assert app[key] == value, (key, app)
    assert understanding.contract()["intent"] == "submission"
    return app


@pytest.fixture(scope="module")
def converted() -> dict[str, bytes]:
    """The same form as .doc and as PDF, made by LibreOffice in one run each."""
    if not office.soffice_available():
        pytest.skip("LibreOffice not installed")
    data = {"form.docx": make_docx(FORM_BLOCKS)}
    return {**office.convert(data, "doc"), **office.convert(data, "pdf")}


def test_doc(converted: dict[str, bytes]) -> None:
    raw = make_eml(attachments=[("申报书.doc", converted["form.doc"])])
    expect_form(understand(raw, POLICY))


def test_wps_is_a_renamed_doc(converted: dict[str, bytes]) -> None:
    raw = make_eml(attachments=[("揭榜挂帅申报书.wps", converted["form.doc"])])
    u = understand(raw, POLICY)
    expect_form(u)
    assert u.contract()["documents"][0]["format"] == "wps"


def test_pdf_only(converted: dict[str, bytes]) -> None:
    raw = make_eml(attachments=[("申报书（盖章）.pdf", converted["form.pdf"])])
    expect_form(understand(raw, POLICY))


def test_scanned_pdf(converted: dict[str, bytes]) -> None:
    from support.formfactory import scan_pdf

    raw = make_eml(attachments=[("申报书扫描件.pdf", scan_pdf(converted["form.pdf"], dpi=200))])
    u = understand(raw, POLICY)
    app = lead(u)
    codes = {d["code"] for d in u.contract()["deficiencies"]}
    assert "OCR_USED" in codes
    assert app["uscc"] == USCC_JN and app["city"] == "济南市", app
    assert app["unit"] == UNIT, app


def test_word_and_pdf_are_one_application(converted: dict[str, bytes]) -> None:
    raw = make_eml(attachments=[("申报书.docx", make_docx(FORM_BLOCKS)),
                                ("申报书（盖章版）.pdf", converted["form.pdf"])])  # fmt: skip
    got = understand(raw, POLICY).contract()
    assert len(got["applications"]) == 1, got["applications"]


def test_zip_with_gbk_names() -> None:
    data = archives.make_zip({"山东云图-揭榜挂帅申报书.docx": make_docx(FORM_BLOCKS)},
                             gbk_names=True)  # fmt: skip
    u = understand(make_eml(attachments=[("申报材料.zip", data)]), POLICY)
    expect_form(u)
    names = [d["name"] for d in u.contract()["documents"]]
    assert "山东云图-揭榜挂帅申报书.docx" in names, names


def test_7z() -> None:
    try:
        data = archives.make_7z({"申报书.docx": make_docx(FORM_BLOCKS)})
    except ImportError:
        pytest.skip("py7zr not installed")
    expect_form(understand(make_eml(attachments=[("申报材料.7z", data)]), POLICY))


def test_forwarded_eml() -> None:
    inner = make_eml(attachments=[("申报书.docx", make_docx(FORM_BLOCKS))])
    raw = make_eml(subject="转发: 揭榜挂帅申报材料", body="转发单位的申报材料，请查收。",
                   attachments=[("揭榜挂帅申报材料.eml", inner)])  # fmt: skip
    expect_form(understand(raw, POLICY))


def test_winmail_dat() -> None:
    data = mails.tnef({"申报书.docx": make_docx(FORM_BLOCKS)})
    expect_form(understand(make_eml(attachments=[("winmail.dat", data)]), POLICY))


# -- mail clients -----------------------------------------------------------------------------


def client_mail(subject: str, body: str, attachments: list[tuple[str, bytes]],
                charset: str = "gbk", html: bool = False, **kw: Any) -> bytes:  # fmt: skip
    text = (mails.part(f"text/html; charset={charset}", f"<html><body><p>{body}</p></body></html>"
                       .encode(charset)) if html else mails.text_part(body, charset))  # fmt: skip
    return mails.mail_with([text, *(mails.attachment(n, d) for n, d in attachments)],
                           subject=subject, **kw)  # fmt: skip


def test_gbk_subject_and_filename() -> None:
    name = mails.word("山东云图-揭榜挂帅申报书.docx", "gb2312")
    raw = client_mail(mails.word("揭榜挂帅申报材料（山东云图）", "gbk"), "附件为申报书，请查收。",
                      [(f'filename="{name}"', make_docx(FORM_BLOCKS))])  # fmt: skip
    u = understand(raw, POLICY)
    expect_form(u)
    c = u.contract()
    assert c["subject"] == "揭榜挂帅申报材料（山东云图）"
    assert c["documents"][0]["name"] == "山东云图-揭榜挂帅申报书.docx"


def test_outlook_rfc2231_long_name() -> None:
    from urllib.parse import quote

    name = "2025年全省数据要素市场化配置改革揭榜挂帅申报书（山东云图数据科技有限公司）.docx"
    encoded = quote(name.encode("utf-8"))
    # Outlook cuts every ~60 characters, never inside one %XX escape (RFC 2231 §3)
    chunks, rest = [], encoded
    while rest:
        cut = min(60, len(rest))
        while "%" in rest[max(cut - 2, 0) : cut] and cut < len(rest):
            cut -= 1
        chunks.append(rest[:cut])
        rest = rest[cut:]
    params = ";\r\n ".join(f"filename*{i}*={'utf-8' + chr(39) * 2 if i == 0 else ''}{c}"
                           for i, c in enumerate(chunks))  # fmt: skip
    raw = client_mail("申报材料", "请查收", [(params, make_docx(FORM_BLOCKS))])
    u = understand(raw, POLICY)
    expect_form(u)
    assert u.contract()["documents"][0]["name"] == name


def test_html_only_body() -> None:
    part = mails.part("text/html; charset=utf-8",
                      "<html><body><div>您好：</div><div>附件是我单位的申报书，请查收。</div></body></html>"
                      .encode())  # fmt: skip
    att = mails.attachment('filename="申报书.docx"', make_docx(FORM_BLOCKS))
    expect_form(understand(mails.mail_with([part, att], subject="揭榜挂帅申报"), POLICY))


QUOTE = ("\n\n------------------ 原始邮件 ------------------\n发件人: 山东省大数据局\n"
         "主题: 申报材料已收到（编号 JB2025-0003）\n\n您单位的申报材料已收到，编号 JB2025-0003。")  # fmt: skip


@pytest.mark.parametrize(
    ("subject", "body", "reference"),
    [
        ("请问审核进度", "请问我单位JB2025-0012的申报审核进度如何？", "JB2025-0012"),
        ("咨询", "您好，是否收到我单位的揭榜挂帅申报材料？山东云图数据科技有限公司", None),
        ("查询一下", "查询一下我们的申报书状态，编号JB2025-7。", "JB2025-0007"),
        ("确认", "麻烦确认一下是否收到我们1月10日发送的申报材料，谢谢！", None),
        ("Re: 申报材料已收到（编号 JB2025-0012）", "请问目前审核到哪一步了？", "JB2025-0012"),
        ("申报进度查询", "你好，想了解一下申报书的审核情况。" + QUOTE, "JB2025-0003"),
    ],
)
def test_status_queries(subject: str, body: str, reference: str | None) -> None:
    c = understand(make_eml(subject=subject, body=body), POLICY).contract()
    assert c["intent"] == "status_query", c
    assert c["reference"] == reference


def test_reply_quote_does_not_override_own_reference() -> None:
    body = "请问编号JB2025-0012的申报目前是否审核通过？" + QUOTE
    c = understand(make_eml(subject="Re: 申报材料已收到", body=body), POLICY).contract()
    assert c["intent"] == "status_query" and c["reference"] == "JB2025-0012", c


def test_please_check_with_form_is_submission() -> None:
    raw = make_eml(subject="是否收到？", body="麻烦确认一下，附件为我单位申报书，请查收。",
                   attachments=[("申报书.docx", make_docx(FORM_BLOCKS))])  # fmt: skip
    assert understand(raw, POLICY).contract()["intent"] == "submission"


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("自动回复: 揭榜挂帅申报材料", "您好，我正在休假，1月20日后回复邮件。"),
        ("休假", "本人休假中，邮件将于假期结束后处理。"),
        ("自动回复：Re: 申报材料已收到（编号 JB2025-0004）", "您的来信已收到，我会尽快回复。"),
    ],
)
def test_chinese_auto_reply(subject: str, body: str) -> None:
    c = understand(make_eml(subject=subject, body=body), POLICY).contract()
    assert c["intent"] == "auto_reply", c


# -- city packages ------------------------------------------------------------------------------

ZIBO_UNITS = [  # (unit, uscc, direction, task name)
    ("淄博智数信息技术有限公司", make_uscc("370303", body="MA3Y1B2C3"), 2, "工业数据治理平台"),
    ("山东齐鲁数安科技有限公司", make_uscc("370304", body="MA3Y4B5C6"), 2, "数据资产质量评价"),
    ("淄博市大数据产业研究院", make_uscc("370302", "52", "MA3Y7B8C9"), 8, "数据安全审计体系"),
]
TABLE_TITLE = "2025年全省数据要素市场化配置改革揭榜挂帅推荐汇总表"


def form_for(unit: str, uscc: str, direction: int, task: str) -> bytes:
    return make_docx([TITLE, [["揭榜单位（盖章）", unit, "统一社会信用代码", uscc],
                              ["所在市", "淄博市", "单位性质", "民营企业"],
                              ["榜单方向", f"方向{direction}", "任务名称", task]], *tail()])  # fmt: skip


@pytest.fixture(scope="module")
def zibo_forms() -> list[tuple[str, bytes]]:
    """Each application as Word and as its (sealed) PDF, the way cities must send them."""
    words = {f"{u}-申报书.docx": form_for(u, c, d, t) for u, c, d, t in ZIBO_UNITS}
    if not office.soffice_available():
        pytest.skip("LibreOffice not installed")
    return [*words.items(), *office.convert(words, "pdf").items()]


EXPECTED_RECS = [(1, 2, ZIBO_UNITS[0][0]), (2, 2, ZIBO_UNITS[1][0]), (1, 8, ZIBO_UNITS[2][0])]


def expect_package(c: dict[str, Any], city: str = "淄博市") -> set[str]:
    assert c["intent"] == "submission" and c["channel"] == "via_city", c
    assert c["city"] == city
    recs = sorted((r["rank"], r["direction"], r["unit"]) for r in c["recommendations"])
    assert recs == sorted(EXPECTED_RECS), c["recommendations"]
    assert len(c["applications"]) == 3, c["applications"]
    codes = {d["code"] for d in c["deficiencies"]}
    assert not codes & {"TABLE_MISMATCH", "MISSING_WORD_VERSION", "MISSING_PDF_VERSION",
                        "MISSING_RECOMMENDATION_TABLE", "USCC_INVALID",
                        "NOT_IN_SHANDONG"}, codes  # fmt: skip
    return codes


def reordered_rows() -> list[list[str]]:
    header = ["序号", "推荐排序", "榜单方向", "揭榜单位", "揭榜任务名称", "联合单位", "联系人",
              "联系电话", "备注"]  # fmt: skip
    rows = [[TABLE_TITLE], ["推荐单位（盖章）：淄博市大数据局"], header]
    for i, ((rank, direction, unit), (_u, _c, _d, task)) in enumerate(
        zip(EXPECTED_RECS, ZIBO_UNITS, strict=True), start=1
    ):
        rows.append([str(i), ["第一", "第二"][rank - 1], f"方向{direction}", unit, task, "无",
                     "李四", "0533-1234567", ""])  # fmt: skip
    return rows


def test_package_xlsx_reordered_columns(zibo_forms: list[tuple[str, bytes]]) -> None:
    table = make_xlsx(reordered_rows())
    raw = make_eml(sender="zibo-dsj@dsj.zibo.example", subject="淄博市揭榜挂帅推荐材料",
                   attachments=[("推荐汇总表.xlsx", table), *zibo_forms])  # fmt: skip
    codes = expect_package(understand(raw, POLICY).contract())
    assert "UNVERIFIED_CITY_SENDER" not in codes


def test_package_xls(zibo_forms: list[tuple[str, bytes]]) -> None:
    if not office.calc_available():
        pytest.skip("LibreOffice Calc not installed")
    xls = office.convert({"推荐汇总表.xlsx": make_xlsx(reordered_rows())}, "xls")
    raw = make_eml(sender="zibo-dsj@dsj.zibo.example", subject="推荐材料",
                   attachments=[*xls.items(), *zibo_forms])  # fmt: skip
    expect_package(understand(raw, POLICY).contract())


def docx_table(rank_words: tuple[str, str] = ("一", "二"), title_in_table: bool = True) -> bytes:
    """A table typed in Word: title row inside the grid, a two-row merged header."""
    rows: list[list[str | None]] = []
    if title_in_table:
        rows.append([f"淄博市{TABLE_TITLE}", None, None, None, None, None])
    rows += [["序号", "榜单方向", "推荐顺序", "揭榜单位", "联系人信息", None],
             ["", "", "", "", "联系人", "联系电话"]]  # fmt: skip
    for i, (rank, direction, unit) in enumerate(EXPECTED_RECS, start=1):
        name = ["数据治理", "数据安全"][direction == 8]
        rows.append([str(i), name, rank_words[rank - 1], unit, "李四", "0533-1234567"])
    blocks: list[Block] = [] if title_in_table else [f"淄博市{TABLE_TITLE}"]
    return make_docx([*blocks, rows, "填报人：王五"])


def test_package_docx_table_with_title_row(zibo_forms: list[tuple[str, bytes]]) -> None:
    raw = make_eml(sender="zibo-dsj@dsj.zibo.example", subject="推荐材料",
                   attachments=[("附件2：推荐汇总表.docx", docx_table()), *zibo_forms])  # fmt: skip
    expect_package(understand(raw, POLICY).contract())


def test_package_unconfigured_sender_city_from_title(zibo_forms: list[tuple[str, bytes]]) -> None:
    raw = make_eml(sender="zbdsj_2025@163.com", subject="揭榜挂帅推荐材料",
                   body="附件为推荐汇总表及申报书，请查收。",
                   attachments=[("汇总表.docx", docx_table(("第一", "第二"), False)),
                                *zibo_forms])  # fmt: skip
    codes = expect_package(understand(raw, POLICY).contract())
    assert "UNVERIFIED_CITY_SENDER" in codes


# -- more free typing ---------------------------------------------------------------------------

MORE: dict[str, Case] = {
    "direction_in_a_sentence": Case(
        [
            TITLE,
            [["揭榜单位", UNIT], ["统一社会信用代码", USCC_JN], ["所在市", "济南市"]],
            "一、榜单方向",
            "本单位拟揭榜（四）数据流通交易方向，聚焦数据流通交易合规指引。",
            *tail(),
        ],
        {**BASE, "direction": 4},
    ),
    "direction_tick_grid": Case(
        [
            TITLE,
            [["揭榜单位", UNIT], ["统一社会信用代码", USCC_JN], ["所在市", "济南市"]],
            [
                [
                    "榜单方向",
                    "□数据产权保护",
                    "□数据治理",
                    "□公共数据资源授权运营",
                    "□数据流通交易",
                ],
                ["", "□数据收益分配", "■数据流通利用技术", "□数据产业发展", "□数据安全"],
            ],
            *tail(),
        ],
        {**BASE, "direction": 6},
        lacks={"MULTIPLE_DIRECTIONS"},
    ),
    "star_prefix_spaced_labels": Case(
        [
            TITLE,
            [
                ["*单 位 名 称", UNIT],
                ["*统一社会信用代码", "９１" + USCC_JN[2:]],
                ["E-mail", "zhang@yuntu.cn"],
                ["*榜单方向", "数据治理"],
            ],
            *tail(),
        ],
        {**BASE, "contact_email": "zhang@yuntu.cn"},
        lacks={"USCC_INVALID"},
    ),
    "city_only_from_uscc": Case(
        [
            TITLE,
            [["揭榜单位", UNIT], ["统一社会信用代码", USCC_QD], ["榜单方向", "数据治理"]],
            *tail(),
        ],
        {"uscc": USCC_QD, "city": "青岛市"},
        lacks={"NOT_IN_SHANDONG"},
    ),
    "province_level_code": Case(
        [
            TITLE,
            [
                ["揭榜单位", "山东省数据开放创新应用实验室"],
                ["统一社会信用代码", make_uscc("370000", "12", "4950012X1")],
                ["单位性质", "省属事业单位"],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
            ],
            *tail(),
        ],
        {"unit_nature": "provincial", "city": "济南市"},
        lacks={"NOT_IN_SHANDONG"},
    ),
    "partner_table_with_location": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
            ],
            "联合单位（如无可不填）",
            [
                ["序号", "联合单位名称", "所在地", "统一社会信用代码"],
                ["1", "北京数安科技有限公司", "北京市", USCC_BJ],
                ["2", "", "", ""],
            ],
            *tail(),
        ],
        {**BASE, "partners": ["北京数安科技有限公司"]},
        lacks={"NOT_IN_SHANDONG"},
    ),
    "consortium_numbered_line": Case(
        [
            TITLE,
            f"单位名称：{UNIT}",
            f"统一社会信用代码：{USCC_JN}",
            "所在市：济南市",
            "榜单方向：数据治理",
            "联合体成员：1.山东大学 2.浪潮软件股份有限公司",
            *tail(),
        ],
        {**BASE, "partners": ["山东大学", "浪潮软件股份有限公司"]},
    ),
    "partners_not_applicable": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
                ["联合单位", "（无）"],
                ["合作单位", "不涉及"],
            ],
            *tail(),
        ],
        {**BASE, "partners": []},
    ),
    "label_tail_instructions": Case(
        [
            TITLE,
            [
                ["揭榜单位名称（与公章一致）", UNIT],
                ["统一社会信用代码（18位）", USCC_JN],
                ["所在设区市", "济南"],
                ["榜单方向（限选一项）", "数据治理"],
                ["揭榜任务名称（不超过30字）", TASK],
                ["联系邮箱（必填）", "a@b.cn"],
            ],
            *tail(),
        ],
        {**BASE, "task_name": TASK, "contact_email": "a@b.cn"},
    ),
    "nature_written_central_enterprise": Case(
        [
            TITLE,
            [
                ["申报单位", "中国电信股份有限公司山东分公司"],
                ["统一社会信用代码", make_uscc("370100", body="7060012A3")],
                ["单位性质", "中央驻鲁企业"],
                ["所在市", "济南市"],
                ["榜单方向", "数据安全"],
            ],
            *tail(),
        ],
        {"unit_nature": "central", "direction": 8},
    ),
    "vertical_form_header_first_column": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT, ""],
                ["统一社会信用代码", USCC_JN, ""],
                ["所在市", "济南市", ""],
                ["榜单方向", "第二个方向：数据治理", ""],
            ],
            *tail(),
        ],
        {**BASE},
    ),
    "task_type_and_outcome_in_one_cell": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
                ["任务类别及成果形式", "☑技术创新（创新成果）  □理论研究（研究报告）"],
            ],
            "预期成果：形成创新成果2项",
        ],
        {**BASE, "task_types": ["technology"]},
        lacks={"OUTCOME_MISSING"},
    ),
}


@pytest.mark.parametrize("name", sorted(MORE))
def test_more_form_layouts(name: str) -> None:
    case = MORE[name]
    raw = make_eml(attachments=[(f"{name}-申报书.docx", make_docx(case.blocks))])
    check(understand(raw, POLICY), case)


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("咨询", "请帮忙看下我们单位的材料审核通过了没有，谢谢"),
        ("揭榜挂帅", "你好，我单位1月10日提交的申报书收到了吗？"),
        ("关于申报材料", "想问下我们发的申报材料有没有问题，需不需要补充？"),
        ("Re: 申报材料已收到（编号 JB2025-0012）", "好的，麻烦再确认一下材料是否齐全。"),
    ],
)
def test_more_status_queries(subject: str, body: str) -> None:
    c = understand(make_eml(subject=subject, body=body), POLICY).contract()
    assert c["intent"] == "status_query", c


def test_msword_type_on_a_docx() -> None:
    att = mails.part('application/msword; name="申报书.doc"', make_docx(FORM_BLOCKS),
                     disposition='inline; filename="申报书.doc"')  # fmt: skip
    raw = mails.mail_with([mails.text_part("请查收"), att], subject="申报书")
    expect_form(understand(raw, POLICY))


def test_raw_gbk_bytes_in_headers() -> None:
    """Old Foxmail / webmail: 8-bit GBK straight in Subject and filename, no encoding at all."""
    att = mails.part("application/octet-stream", make_docx(FORM_BLOCKS), extra=[(
        "Content-Disposition", b'attachment; filename="' + "申报书.docx".encode("gbk") + b'"')])  # fmt: skip
    raw = mails.mail_with([mails.text_part("请查收", "gbk"), att],
                          subject="揭榜挂帅申报材料".encode("gbk"))  # fmt: skip
    u = understand(raw, POLICY)
    expect_form(u)
    assert u.contract()["subject"] == "揭榜挂帅申报材料"
    assert u.contract()["documents"][0]["name"] == "申报书.docx"


def test_encoded_word_name_without_disposition() -> None:
    name = mails.word("揭榜挂帅申报书.docx", "gbk")
    att = mails.attachment(f'filename="{name}"', make_docx(FORM_BLOCKS), disposition=None)
    raw = mails.mail_with(
        [mails.text_part("请查收"), att], subject=mails.word("申报", "gb2312", "Q")
    )
    u = understand(raw, POLICY)
    expect_form(u)
    assert u.contract()["documents"][0]["name"] == "揭榜挂帅申报书.docx"


def test_inline_forwarded_message() -> None:
    inner = make_eml(attachments=[("申报书.docx", make_docx(FORM_BLOCKS))])
    raw = mails.mail_with([mails.text_part("转发申报材料"),
                           mails.part("message/rfc822", inner, cte="8bit")], subject="Fw: 申报")  # fmt: skip
    expect_form(understand(raw, POLICY))


def test_html_cloud_link_with_query_string_is_not_a_question() -> None:
    html = ('<html><body>您好，申报书较大，通过超大附件发送：<a href="https://mail.qq.com/cgi-bin/'
            'ftnExs_download?k=abc">申报书.zip</a></body></html>')  # fmt: skip
    raw = mails.message(html.encode("gbk"), subject="申报书",
                        content_type="text/html; charset=gb2312", cte="8bit")  # fmt: skip
    c = understand(raw, POLICY).contract()
    assert c["intent"] == "submission"
    assert "CLOUD_ATTACHMENT" in {d["code"] for d in c["deficiencies"]}


def test_rar() -> None:
    data = archives.make_rar({"申报书.docx": make_docx(FORM_BLOCKS)})
    raw = mails.mail_with([mails.text_part("请查收"), mails.attachment('filename="材料.rar"', data)],
                          subject="申报")  # fmt: skip
    expect_form(understand(raw, POLICY))


# -- recommendation tables read alone ---------------------------------------------------------

RT_TITLE = "2025年全省数据要素市场化配置改革揭榜挂帅推荐汇总表"


def recommendations(data: bytes, name: str) -> tuple[str | None, list[tuple]]:
    from intake.attachments import open_attachments
    from intake.extract.table import read_recommendations
    from intake.mime import Attachment

    doc = open_attachments([Attachment(name, data, "application/octet-stream")])[0]
    table = read_recommendations(doc)
    return table.city, [(r.rank, r.direction, r.unit) for r in table.recommendations]


def test_table_partner_city_is_not_the_recommending_city() -> None:
    rows = [[RT_TITLE], ["序号", "揭榜单位", "联合单位", "榜单方向", "推荐排序"],
            ["1", "甲数据有限公司", "山东大学、青岛大学", "方向二", "1"], ["2", "", "", "", ""]]  # fmt: skip
    assert recommendations(make_xlsx(rows), "日照市推荐表.xlsx") == (
        "日照市",
        [(1, 2, "甲数据有限公司")],
    )


def test_table_without_direction_column_takes_it_from_the_title() -> None:
    data = make_docx([f"{RT_TITLE}（数据安全方向）", "推荐单位：德州市大数据局",
                      [["序号", "推荐顺序", "揭榜单位（盖章）", "揭榜任务名称"],
                       ["1", "1", "甲数据有限公司", "A"], ["2", "2", "乙科技有限公司", "B"]]])  # fmt: skip
    assert recommendations(data, "汇总表.docx") == (
        "德州市", [(1, 8, "甲数据有限公司"), (2, 8, "乙科技有限公司")])  # fmt: skip


def test_table_short_headers_and_total_row() -> None:
    rows = [[f"{RT_TITLE}（烟台市）"], ["申报单位", "方向", "排名", "项目名称"],
            ["甲数据有限公司", "数据治理", "第一", "A"], [None, None, "第二", None],
            ["乙科技有限公司", "2", "第二", "B"], ["合计", "2家", None, None]]  # fmt: skip
    city, recs = recommendations(make_xlsx(rows), "t.xlsx")
    assert city == "烟台市"
    assert recs == [(1, 2, "甲数据有限公司"), (2, 2, "乙科技有限公司")]


EXTRA: dict[str, Case] = {
    "traditional_labels_and_options": Case(
        [
            TITLE,
            "揭榜單位：山東雲圖數據科技有限公司",
            f"統一社會信用代碼：{USCC_JN}",
            "所在市：濟南市",
            "榜單方向：數據治理",
            "任務類別：☑理論研究",
            "預期成果：☑研究報告",
        ],
        {
            "unit": "山東雲圖數據科技有限公司",
            "city": "济南市",
            "direction": 2,
            "task_types": ["theory"],
        },
    ),  # fmt: skip
    "diamond_ticks": Case(
        [
            TITLE,
            [
                ["揭榜单位", UNIT],
                ["统一社会信用代码", USCC_JN],
                ["所在市", "济南市"],
                ["榜单方向", "数据治理"],
                ["任务类别", "◆理论研究  ◇技术创新  ◇应用实践"],
                ["预期成果", "◆研究报告  ◇创新成果"],
            ],
        ],
        {**BASE},
        lacks={"OUTCOME_MISSING"},
    ),
    "nature_private_non_enterprise": Case(
        [
            TITLE,
            [
                ["揭榜单位", "济南市数字经济研究会"],
                ["统一社会信用代码", USCC_JN],
                ["单位性质", "民办非企业单位"],
                ["榜单方向", "数据治理"],
            ],
            *tail(),
        ],
        {"unit_nature": "other"},
        lacks={"UNKNOWN_UNIT_NATURE"},
    ),
    "mistyped_uscc_keeps_its_city": Case(
        [
            TITLE,
            [["揭榜单位", UNIT], ["统一社会信用代码", USCC_QD[:17]], ["榜单方向", "数据治理"]],
            *tail(),
        ],
        {"city": "青岛市"},
        has={"USCC_INVALID"},
    ),
}


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_extra_form_layouts(name: str) -> None:
    case = EXTRA[name]
    raw = make_eml(attachments=[(f"{name}-申报书.docx", make_docx(case.blocks))])
    check(understand(raw, POLICY), case)


# -- every free-typed form again, as .doc / .wps / PDF / scan ---------------------------------

ALL_FORMS = {**CASES, **MORE, **EXTRA}


class _Converted(dict[str, dict[str, bytes]]):
    """``{format: {name.format: bytes}}``; a format is converted (one soffice run for every
    form) when a test first asks for it, so the default run, which reads the PDFs only,
    never waits for the .doc batch."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__()
        self.files = files

    def __missing__(self, fmt: str) -> dict[str, bytes]:
        self[fmt] = office.convert(self.files, fmt)
        return self[fmt]


@pytest.fixture(scope="module")
def all_converted() -> dict[str, dict[str, bytes]]:
    if not office.soffice_available():
        pytest.skip("LibreOffice not installed")
    return _Converted({f"{name}.docx": make_docx(case.blocks) for name, case in ALL_FORMS.items()})


# .doc and .wps are read through LibreOffice, one soffice start per mail (~2.5 s each): the
# layouts themselves are the .docx tests' (test_form_layout & co.), the way in is test_doc
# and test_wps_is_a_renamed_doc in the default set, so every layout again as .doc / .wps is slow.
@pytest.mark.parametrize("fmt", [pytest.param("doc", marks=pytest.mark.slow),
                                 pytest.param("wps", marks=pytest.mark.slow), "pdf"])  # fmt: skip
@pytest.mark.parametrize("name", sorted(ALL_FORMS))
def test_form_as_other_format(name: str, fmt: str, all_converted: dict) -> None:
    source = "doc" if fmt == "wps" else fmt
    data = all_converted[source][f"{name}.{source}"]
    raw = make_eml(attachments=[(f"{name}-申报书.{fmt}", data)])
    check(understand(raw, POLICY), ALL_FORMS[name])


SCANNED = [
    "label_and_value_same_cell",
    "values_on_next_line",
    pytest.param("one_paragraph_per_field", marks=pytest.mark.xfail(
        reason="RapidOCR drops the whole first line of this paragraph (OCR, not parsing)")),
    "lead_seal_label",
    "partner_outside_shandong",
]  # fmt: skip


@pytest.mark.slow  # ~6 s of OCR each; the default set scans one form: test_scanned_pdf
@pytest.mark.parametrize("name", SCANNED)
def test_form_scanned(name: str, all_converted: dict) -> None:
    """A scan: lenient — the unit, its code and city must come through OCR."""
    from support.formfactory import scan_pdf

    pdf = scan_pdf(all_converted["pdf"][f"{name}.pdf"], dpi=200)
    got = understand(make_eml(attachments=[(f"{name}-扫描件.pdf", pdf)]), POLICY).contract()
    app = got["applications"][0]
    want = ALL_FORMS[name].expect
    assert (app["unit"], app["uscc"], app["city"]) == (want["unit"], want["uscc"], want["city"])
    assert "OCR_USED" in {d["code"] for d in got["deficiencies"]}


# -- template hints and instructions left in the form ------------------------------------------

_HINT_BASE = [["揭榜单位", UNIT], ["统一社会信用代码", USCC_JN], ["所在市", "济南市"]]
_NOTHING = {"direction": None, "task_types": []}
_NO_CHOICE = {"DIRECTION_MISSING", "TASK_TYPE_MISSING"}

HINTS: dict[str, Case] = {
    "instructions_in_a_table_row": Case(
        [TITLE, [*_HINT_BASE, ["榜单方向", ""], ["任务类别", ""],
                 ["填表说明", INSTRUCTIONS.removeprefix("填报说明：")]]],
        _NOTHING, has=_NO_CHOICE, lacks={"MULTIPLE_DIRECTIONS"},
    ),
    "instructions_as_a_note": Case(
        [TITLE, [*_HINT_BASE, ["榜单方向", ""], ["任务类别", ""]],
         "注：" + INSTRUCTIONS.removeprefix("填报说明：")],
        _NOTHING, has=_NO_CHOICE, lacks={"MULTIPLE_DIRECTIONS"},
    ),
    "placeholder_hints_left_in_cells": Case(
        [TITLE, [*_HINT_BASE,
                 ["榜单方向", "（请从以下方向中选择一个：数据产权保护、数据治理、公共数据资源授权运营、"
                              "数据流通交易、数据收益分配、数据流通利用技术、数据产业发展、数据安全）"],
                 ["任务类别", "（理论研究/技术创新/应用实践，可多选）"]]],
        _NOTHING, has=_NO_CHOICE, lacks={"MULTIPLE_DIRECTIONS", "OUTCOME_MISSING"},
    ),
    "all_eight_listed_none_chosen": Case(
        [TITLE, [*_HINT_BASE, ["榜单方向", "数据产权保护、数据治理、公共数据资源授权运营、数据流通交易、"
                                        "数据收益分配、数据流通利用技术、数据产业发展、数据安全"]],
         *tail()],
        {"direction": None}, has={"DIRECTION_MISSING"}, lacks={"MULTIPLE_DIRECTIONS"},
    ),
    "hint_next_to_the_choice": Case(
        [TITLE, [*_HINT_BASE, ["榜单方向", "数据治理（请从八个方向中选择一个）"]], *tail()],
        {"direction": 2}, lacks={"MULTIPLE_DIRECTIONS", "DIRECTION_MISSING"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(HINTS))
def test_template_hints(name: str) -> None:
    case = HINTS[name]
    raw = make_eml(attachments=[(f"{name}-申报书.docx", make_docx(case.blocks))])
    check(understand(raw, POLICY), case)


# -- who sent it, when, and in reply to what ---------------------------------------------------


def test_corrected_form_in_reply_keeps_the_reference() -> None:
    raw = make_eml(subject="Re: 申报材料不完整（编号 JB2025-0007）",
                   body="已按要求补充，附件为修改后的申报书，请查收。",
                   attachments=[("申报书（修改版）.docx", make_docx(FORM_BLOCKS))])  # fmt: skip
    c = understand(raw, POLICY).contract()
    assert (c["intent"], c["reference"]) == ("submission", "JB2025-0007")


def test_private_company_writing_to_the_province_is_redirected() -> None:
    raw = make_eml(
        attachments=[("申报书.docx", make_docx(CASES["required_marks_and_seal"].blocks))]
    )
    assert "WRONG_CHANNEL" in {
        d["code"] for d in understand(raw, POLICY).contract()["deficiencies"]
    }


@pytest.mark.parametrize(("day", "hour", "late"), [(20, 23, False), (21, 0, True)])
def test_provincial_deadline_is_the_end_of_the_day(day: int, hour: int, late: bool) -> None:
    from datetime import datetime

    from support.formfactory import CST

    raw = make_eml(attachments=[("申报书.docx", make_docx(CASES["lead_seal_label"].blocks))],
                   received=datetime(2025, 1, day, hour, 30, tzinfo=CST))  # fmt: skip
    codes = {d["code"] for d in understand(raw, POLICY).contract()["deficiencies"]}
    assert ("LATE" in codes) == late


# slow: OCR of three 200-dpi scans (~15 s). By default: Word and scan paired in a package,
# test_precision's package_scans_named_by_unit; GBK names in a zip, test_zip_with_gbk_names
@pytest.mark.slow
def test_package_zip_of_word_and_scanned_sealed_pdfs(zibo_forms: list[tuple[str, bytes]]) -> None:
    """The sealed PDFs are scans (print, stamp, scan); all in one zip with GBK names."""
    from support.formfactory import scan_pdf

    made = dict(zibo_forms)  # each form as Word and as LibreOffice's PDF, built once
    members = {}
    for i, (unit, *_rest) in enumerate(ZIBO_UNITS):
        members[f"{i + 1}.{unit}申报书.docx"] = made[f"{unit}-申报书.docx"]
        members[f"{unit}（盖章）.pdf"] = scan_pdf(made[f"{unit}-申报书.pdf"], dpi=200)
    raw = make_eml(
        sender="zibo-dsj@dsj.zibo.example",
        subject="淄博市推荐材料",
        attachments=[
            ("推荐汇总表.xlsx", make_xlsx(reordered_rows())),
            ("淄博市申报材料.zip", archives.make_zip(members, gbk_names=True)),
        ],
    )
    c = understand(raw, POLICY).contract()
    expect_package(c)
    assert all(len(a["documents"]) == 2 for a in c["applications"]), c["applications"]


# -- what people write next to a unit's name ----------------------------------------------------

_NAME_BASE = [["统一社会信用代码", USCC_JN], ["所在市", "济南市"], ["榜单方向", "数据治理"]]
NAMES: dict[str, Case] = {
    "role_tails": Case(
        [TITLE, [["揭榜单位", UNIT + "（牵头单位）"], *_NAME_BASE,
                 ["联合单位", "山东大学（联合单位）、浪潮软件股份有限公司（参与单位）"]], *tail()],
        {"unit": UNIT, "partners": ["山东大学", "浪潮软件股份有限公司"]},
    ),
    "partner_codes_in_the_cell": Case(
        [TITLE, [["揭榜单位", UNIT], *_NAME_BASE,
                 ["联合单位", f"山东大学 {USCC_NATIONAL}；北京数安科技有限公司 {USCC_BJ}"]], *tail()],
        {"partners": ["山东大学", "北京数安科技有限公司"]}, lacks={"CONSORTIUM_TOO_LARGE"},
    ),
    "stamp_note_on_its_own_line": Case(
        [TITLE, [["揭榜单位", f"{UNIT}\n（公章）"], *_NAME_BASE], *tail()],
        {"unit": UNIT},
    ),
    "applicant_names_its_city_bureau_as_recommender": Case(
        [TITLE, [["揭榜单位", UNIT], *_NAME_BASE, ["单位性质", "民营企业"],
                 ["推荐单位", "济南市大数据局"]], *tail()],
        {"unit": UNIT, "unit_nature": "other"}, has={"WRONG_CHANNEL"},
        lacks={"MISSING_RECOMMENDATION_TABLE"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(NAMES))
def test_unit_name_notes(name: str) -> None:
    case = NAMES[name]
    raw = make_eml(attachments=[(f"{name}-申报书.docx", make_docx(case.blocks))])
    check(understand(raw, POLICY), case)


@pytest.mark.parametrize(
    ("subject", "body", "intent"),
    [
        ("咨询", "您好，请问我们单位的揭榜挂帅申报是否已经通过初审？", "status_query"),
        ("核实", "想核实一下我单位的申报材料是否已经登记", "status_query"),
        ("询问申报情况", "山东云图数据科技有限公司的申报书审核情况如何", "status_query"),
        ("催问", "申报材料已经提交一周了，还没有收到受理回执，麻烦帮忙查一下", "status_query"),
        ("申报结果", "您好，想问一下我们单位揭榜挂帅的评审结果出来了吗", "status_query"),
        ("咨询", "请问申报截止时间是哪天？", "other"),
        ("咨询", "请问申报书模板在哪里下载？", "other"),
        ("Re: 揭榜挂帅申报材料", "此邮件为自动回复，我将尽快处理您的来信。", "auto_reply"),
        ("答复: 申报材料已收到（编号 JB2025-0012）", "这是一封自动回复邮件。", "auto_reply"),
        ("补充材料", "附件为补充的营业执照复印件，请查收", "submission"),
        ("申报材料", "现提交我单位申报材料，请审核", "submission"),
    ],
)
def test_everyday_wording(subject: str, body: str, intent: str) -> None:
    assert understand(make_eml(subject=subject, body=body), POLICY).contract()["intent"] == intent


@pytest.fixture(scope="module")
def sealed_table_pdf() -> bytes:
    """The 推荐汇总表 (title above the grid) as LibreOffice prints it, made once."""
    if not office.soffice_available():
        pytest.skip("LibreOffice not installed")
    return office.convert({"tbl.docx": docx_table(title_in_table=False)}, "pdf")["tbl.pdf"]


@pytest.mark.parametrize("scanned", [False, True])
def test_package_table_only_as_sealed_pdf(
    scanned: bool, zibo_forms: list[tuple[str, bytes]], sealed_table_pdf: bytes
) -> None:
    """The city sends its 推荐汇总表 only as the stamped PDF (a two-row header; maybe a scan)."""
    from support.formfactory import scan_pdf

    table = scan_pdf(sealed_table_pdf, dpi=200) if scanned else sealed_table_pdf
    raw = make_eml(sender="zibo-dsj@dsj.zibo.example", subject="推荐材料",
                   attachments=[("推荐汇总表（盖章）.pdf", table), *zibo_forms])  # fmt: skip
    expect_package(understand(raw, POLICY).contract())
