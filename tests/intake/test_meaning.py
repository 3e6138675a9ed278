"""Directions, task categories and the unit from what a form *means* (issue #22 item 4).

The cases are generated here, at test time, from a few facts per direction: the scope
words of the notice's section 二 an applicant writes instead of the direction's name,
the sentences that negate or restrict a task category, and a cover's short name beside
the table's registered one. Precision first: a keyword of two directions, or one left in
the template's instructions, gives no direction at all (staff decide), never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any

import pytest
from support.formfactory import make_eml
from support.unseen import INSTRUCTIONS, TASK_TEXT, TITLE, USCC_JN, Block, make_docx

from intake.understand import understand
from tracker.config import Campaign, DirectionEntry, load_settings

SAMPLES_CONFIG = Path(__file__).resolve().parents[1] / "support" / "samples-config.yaml"
POLICY = load_settings(SAMPLES_CONFIG).round_policy()
UNIT = "山东云图数据科技有限公司"
NEUTRAL_TASK = "数据要素综合服务平台建设"


@dataclass
class Case:
    blocks: list[Block]
    expect: dict[str, Any]
    has: set[str] = field(default_factory=set)
    lacks: set[str] = field(default_factory=set)


def form(
    task: str = NEUTRAL_TASK,
    direction: str | None = None,
    goal: str = TASK_TEXT,
    types: str = "☑理论研究  □技术创新  □应用实践",
    outcomes: str = "☑研究报告",
    unit: str = UNIT,
    before: list[Block] | None = None,
    after: list[Block] | None = None,
) -> list[Block]:
    """A plain form: the basic-info table, then goals, categories and outcomes."""
    rows: list[list[str | None]] = [["揭榜单位", unit], ["统一社会信用代码", USCC_JN], ["所在市", "济南市"]]
    if direction is not None:
        rows.append(["榜单方向", direction])
    rows.append(["任务名称", task])
    return [*(before or []), TITLE, rows, "总体目标：" + goal, "阶段性目标：2025年6月完成方案。",
            f"任务类别：{types}", f"预期成果：{outcomes}", *(after or [])]  # fmt: skip


# -- directions from the notice's scope words ---------------------------------------------------
# direction → task names that use only its scope words (no name, no alias, no number)
SCOPE_TASKS: dict[int, tuple[str, ...]] = {
    1: ("企业数据三权分置与产权登记服务平台", "衍生数据认定规则研究"),
    2: ("企业数据合规管理与数据产品质量评价体系建设",),
    3: ("公共数据资源开发利用定价机制研究",),
    4: ("数据市场信用管理与联管联治机制研究", "数据流通负面清单与示范合同编制"),
    5: ("个人数据有偿使用定价评估模型研究",),
    6: ("基于隐私计算的医疗数据融合应用", "可信数据空间建设与运营", "数据元件加工与数联网试点"),
    7: ("数据企业培育孵化服务平台",),
    8: ("工业数据分类分级与安全审计平台", "个人信息匿名化处理技术研究"),
}
# a sentence of the 总体目标 that, alone, says the direction (two of its scope words)
SCOPE_GOALS: dict[int, str] = {
    2: "建成企业数据合规管理平台，形成数据产品质量评价方法。",
    6: "建成基于隐私保护计算和区块链的数据流通平台。",
    8: "建成数据分类分级管理系统，开展数据安全审计。",
}
# what one keyword in the 榜单方向 cell says on its own
SCOPE_CELLS: dict[int, str] = {6: "隐私计算", 8: "数据分类分级", 4: "数据市场信用管理", 1: "三权分置"}


def _generated() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for number, tasks in SCOPE_TASKS.items():
        for i, task in enumerate(tasks):
            cases[f"task_name_d{number}_{i}"] = Case(
                form(task), {"direction": number}, lacks={"DIRECTION_MISSING"}
            )
    for number, goal in SCOPE_GOALS.items():
        cases[f"goal_d{number}"] = Case(form(goal=goal), {"direction": number}, lacks={"DIRECTION_MISSING"})
    for number, cell in SCOPE_CELLS.items():
        cases[f"cell_d{number}"] = Case(
            form(direction=cell), {"direction": number}, lacks={"DIRECTION_MISSING"}
        )
    # the filled-in form with the template's instructions left in it still reads its own scope
    cases["task_name_with_instructions_left_in"] = Case(
        form("基于隐私计算的医疗数据融合应用", before=[INSTRUCTIONS]), {"direction": 6},
        lacks={"DIRECTION_MISSING"},
    )
    return cases


KEYWORD_CASES = _generated()

# no direction: staff decide (DIRECTION_MISSING as before, never a wrong direction)
NO_DIRECTION: dict[str, Case] = {
    "two_directions_in_the_task_name": Case(form("基于隐私计算的数据分类分级平台"), {"direction": None}),
    "two_directions_in_the_cell": Case(form(direction="隐私计算、分类分级"), {"direction": None}),
    "one_keyword_in_the_body_only": Case(form(goal="平台采用区块链存证。"), {"direction": None}),
    "task_of_one_goal_of_another": Case(
        form("基于隐私计算的数据融合平台", goal="建成数据分类分级管理系统，开展数据安全审计。"),
        {"direction": None},
    ),
    "keywords_only_in_the_instructions": Case(
        form(before=["填报说明：榜单方向须为通知所列方向之一，如（六）数据流通利用技术方向可围绕可信数据空间、"
                     "隐私保护计算、区块链等关键技术。"]),
        {"direction": None},
    ),
    "keywords_only_in_an_unlabelled_note": Case(
        form(before=["榜单方向应围绕可信数据空间、隐私保护计算、区块链等关键技术，请从通知所列方向中选择一个。"]),
        {"direction": None},
    ),
    "notice_scope_copied_into_the_form": Case(
        form(before=["（六）数据流通利用技术。围绕可信数据空间、数联网、数据元件、隐私保护计算、区块链等关键技术。",
                     "（八）数据安全。围绕数据分类分级管理、数据安全审计、个人信息匿名化处理等方面。"]),
        {"direction": None},
    ),
    "template_hint_in_the_cell": Case(
        form(direction="（请填写方向名称，如可信数据空间、隐私计算等）"), {"direction": None},
    ),
    "blank_instructions_only": Case(form(before=[INSTRUCTIONS]), {"direction": None}),
    # "方向一致" and "方向三权分置" are no 方向一 / 方向三
    "fangxiang_yizhi_is_no_number": Case(form(before=["本任务与国家战略方向一致。"]), {"direction": None}),
}  # fmt: skip

# a direction named, numbered or ticked always wins over scope words
NAMED_WINS: dict[str, Case] = {
    "name_over_keyword": Case(form("基于隐私计算的医疗数据融合应用", direction="数据安全"), {"direction": 8}),
    "number_over_keyword": Case(form("工业数据分类分级平台", direction="方向六"), {"direction": 6}),
    "tick_over_keyword": Case(
        form("工业数据分类分级平台", direction="□（六）数据流通利用技术 ☑（二）数据治理"), {"direction": 2}
    ),
}

# -- task categories: negated and exclusive wording ------------------------------------------
CATEGORIES: dict[str, Case] = {
    "negated_in_brackets": Case(
        form(types="应用实践（不涉及理论研究和技术创新）", outcomes="应用场景1个"),
        {"task_types": ["application"]}, lacks={"OUTCOME_MISSING", "TASK_TYPE_MISSING"},
    ),
    "negated_then_exclusive": Case(
        form(types="不涉及理论研究和技术创新，仅开展应用实践", outcomes="实践案例1个"),
        {"task_types": ["application"]}, lacks={"OUTCOME_MISSING"},
    ),
    "negated_alone_leaves_the_third": Case(
        form(types="不涉及理论研究和技术创新", outcomes="应用场景1个"),
        {"task_types": ["application"]}, lacks={"OUTCOME_MISSING", "TASK_TYPE_MISSING"},
    ),
    "exclusive_only": Case(
        form(types="仅开展应用实践，理论研究、技术创新由后续项目承担", outcomes="应用场景1个"),
        {"task_types": ["application"]}, lacks={"OUTCOME_MISSING"},
    ),
    "exclusive_zhi": Case(
        form(types="只做技术创新，不做理论研究", outcomes="软件著作权2项"),
        {"task_types": ["technology"]}, lacks={"OUTCOME_MISSING"},
    ),
    "two_of_three_and_none": Case(
        form(types="技术创新、应用实践，无理论研究", outcomes="专利1项，应用场景1个"),
        {"task_types": ["technology", "application"]}, lacks={"OUTCOME_MISSING"},
    ),
    "not_only_is_no_exclusive": Case(
        form(types="不仅开展理论研究，也开展技术创新", outcomes="研究报告1份，专利1项"),
        {"task_types": ["theory", "technology"]}, lacks={"OUTCOME_MISSING"},
    ),
    "bu_duan_is_no_negation": Case(
        form(types="理论研究、技术创新（不断完善）", outcomes="研究报告1份，专利1项"),
        {"task_types": ["theory", "technology"]}, lacks={"OUTCOME_MISSING"},
    ),
    "bracket_ticks_kept": Case(
        form(types="（√）应用实践 （ ）理论研究 （ ）技术创新", outcomes="应用场景1个"),
        {"task_types": ["application"]}, lacks={"OUTCOME_MISSING"},
    ),
    "plain_list_kept": Case(
        form(types="理论研究、应用实践", outcomes="研究报告1份，应用场景1个"),
        {"task_types": ["theory", "application"]}, lacks={"OUTCOME_MISSING"},
    ),
    # outcomes: a negated outcome is not promised, so the category still lacks it
    "negated_outcome_is_not_promised": Case(
        form(types="技术创新", outcomes="形成应用场景1个，不申请专利"),
        {"task_types": ["technology"]}, has={"OUTCOME_MISSING"},
    ),
    "outcome_with_a_negation_elsewhere_counts": Case(
        form(types="技术创新", outcomes="不涉及研究报告，形成专利2项"),
        {"task_types": ["technology"]}, lacks={"OUTCOME_MISSING"},
    ),
}  # fmt: skip

# -- the unit: the registered name over a cover's short name -------------------------------------
COVER = "山东云图集团"
FULL = "山东云图集团有限公司"


def cover(name: str) -> list[Block]:
    return [[["申报单位（盖章）", name], ["申报日期", "2025年1月10日"]]]


UNITS: dict[str, Case] = {
    "cover_then_table": Case(form(unit=FULL, before=cover(COVER)), {"unit": FULL}),
    "cover_paragraph_then_table": Case(form(unit=FULL, before=[f"申报单位：{COVER}"]), {"unit": FULL}),
    "cover_without_province": Case(form(unit="山东云图集团股份有限公司", before=cover("云图集团")),
                                   {"unit": "山东云图集团股份有限公司"}),
    "seal_text_at_the_end": Case(
        [*cover(COVER), TITLE, [["统一社会信用代码", USCC_JN], ["所在市", "济南市"]], "任务类别：理论研究",
         "预期成果：研究报告", f"{FULL}（盖章）", "2025年1月10日"],
        {"unit": FULL},
    ),
    "a_different_unit_is_not_a_full_name": Case(
        form(unit="山东星河数据有限公司", before=cover(COVER)), {"unit": COVER},
    ),
    "a_hospital_is_not_its_university": Case(
        form(unit="山东大学齐鲁医院", before=cover("山东大学")), {"unit": "山东大学"},
    ),
    "two_full_names_is_unsure": Case(
        [*cover(COVER), TITLE, [["统一社会信用代码", USCC_JN]], "任务类别：理论研究", "预期成果：研究报告",
         f"{FULL}（盖章）", "山东云图集团股份有限公司"],
        {"unit": COVER},
    ),
    "full_name_first_stays": Case(form(unit=FULL, after=[f"申报单位：{COVER}"]), {"unit": FULL}),
}  # fmt: skip


def run(case: Case, name: str, policy: Any = POLICY) -> dict[str, Any]:
    raw = make_eml(attachments=[(f"申报书-{abs(hash(name)) % 1000}.docx", make_docx(case.blocks))])
    got = understand(raw, policy).contract()
    assert got["applications"], got
    app: dict[str, Any] = got["applications"][0]
    for key, value in case.expect.items():
        actual = app[key]
        if key == "task_types":
            actual, value = sorted(actual), sorted(value)
        assert actual == value, (key, app)
    codes = {d["code"] for d in got["deficiencies"]}
    assert case.has <= codes, codes
    assert not (case.lacks & codes), codes
    return got


ALL = {**KEYWORD_CASES, **NO_DIRECTION, **NAMED_WINS, **CATEGORIES, **UNITS}


@pytest.mark.parametrize("name", sorted(ALL))
def test_meaning(name: str) -> None:
    run(ALL[name], name)


def test_a_direction_the_mail_names_wins_over_scope_words() -> None:
    """Scope words are the weakest source: the subject's 数据安全方向 wins over a task name
    in 数据治理's scope."""
    raw = make_eml(subject="揭榜挂帅申报（数据安全方向）",
                   attachments=[("申报书.docx", make_docx(form("企业数据合规管理与数据产品质量评价体系建设")))])
    app = understand(raw, POLICY).contract()["applications"][0]
    assert app["direction"] == 8


def test_default_config_lists_the_catalogues_keywords() -> None:
    """``jiebang init`` writes the directions out: the scope words go with them."""
    import yaml

    from campaign import SHANDONG_2025

    path = Path(__file__).resolve().parents[2] / "tracker" / "default-config.yaml"
    written = yaml.safe_load(path.read_text(encoding="utf-8"))["campaign"]["directions"]
    assert Campaign(directions=written).catalogue().directions == SHANDONG_2025.directions


def test_another_rounds_directions_have_no_2025_keywords() -> None:
    """A five-direction round from config: the 2025 scope words mean nothing there."""
    campaign = Campaign(code="JB2026", directions=[
        DirectionEntry(name="数据基础设施建设", aliases=["基础设施建设"]),
        DirectionEntry(name="数据标注产业"), DirectionEntry(name="数据资产入表"),
        DirectionEntry(name="可信数据空间"), DirectionEntry(name="数据跨境流动"),
    ])  # fmt: skip
    policy = dc_replace(POLICY, catalogue=campaign.catalogue())
    assert all(not d.keywords for d in policy.catalogue.directions)
    run(Case(form("工业数据分类分级与安全审计平台"), {"direction": None}), "d2026", policy)
    # its own name still counts
    run(Case(form(direction="可信数据空间"), {"direction": 4}), "d2026b", policy)


def test_config_keywords_are_data() -> None:
    """A round's directions may carry their own scope words in config.yaml."""
    campaign = Campaign(code="JB2026", directions=[
        DirectionEntry(name="数据标注产业", keywords=["标注平台", "数据标注基地"]),
        DirectionEntry(name="数据跨境流动", keywords=["出境评估"]),
    ])  # fmt: skip
    policy = dc_replace(POLICY, catalogue=campaign.catalogue())
    run(Case(form("重点行业数据出境评估服务"), {"direction": 2}), "cfg", policy)
    # absent keys: the 2025 defaults carry the notice's scope words
    assert Campaign().catalogue().directions[5].keywords
