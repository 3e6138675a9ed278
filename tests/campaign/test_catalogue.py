"""The catalogue is the one place the round is declared: docs, SPEC and rules agree with it."""

from __future__ import annotations

import re
from datetime import date

import pytest
from support import REPO, SHARED, needs_shared

from campaign import CODES, SHANDONG_2025, Catalogue, Direction, cn_number, codes_in
from intake.checks import RULES
from tracker.records.rules import CROSS_RULES

_ROW = re.compile(r"^\| ([A-Z_]+) \| (error|warning) \|(?: (mail|application|package|cross|acceptance) \|)?", re.M)


def _table(text: str, heading: str) -> dict[str, tuple[str, ...]]:
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return {m[0]: tuple(x for x in m[1:] if x) for m in _ROW.findall(section)}


def test_docs_rules_table_is_the_catalogue() -> None:
    table = _table((REPO / "docs" / "rules.md").read_text(encoding="utf-8"), "## Deficiency codes")
    assert table == {c.code: (c.severity, c.scope) for c in CODES.values()}


@needs_shared
def test_spec_codes_and_severities_are_the_catalogue() -> None:
    table = _table((SHARED / "SPEC.md").read_text(encoding="utf-8"), "## 3.")
    assert {code: sev for code, (sev, *_) in table.items()} == {c.code: c.severity for c in CODES.values()}


def test_every_code_has_a_rule_and_every_rule_a_declared_code() -> None:
    per_message = {r.code.code for r in RULES}
    cross = {r.code.code for r in CROSS_RULES}
    assert cross == codes_in("cross")
    # CITY_QUOTA_EXCEEDED is also checked within one package (for `inspect`); its wording is shared
    # an acceptance request's codes (SPEC §7) belong to the acceptance phase, not to intake's rules
    assert per_message | cross | codes_in("acceptance") == set(CODES)
    assert len(per_message) == len(RULES)  # each code registered once


def test_every_code_has_a_title_and_a_fix_filled_in_for_the_round() -> None:
    other = Catalogue(code="JB2026", year=2026, consortium_max=4, city_quota=3,
                      directions=(Direction("甲"), Direction("乙"), Direction("丙")))
    for c in CODES.values():
        assert c.title_for(other) and c.fix_for(other).endswith("。"), c.code
        assert "{" not in c.title_for(other) + c.fix_for(other)
    assert "不超过4家" in CODES["CONSORTIUM_TOO_LARGE"].fix_for(other)
    assert "不超过3个" in CODES["CITY_QUOTA_EXCEEDED"].fix_for(other)
    assert "三个方向" in CODES["DIRECTION_MISSING"].fix_for(other)
    assert "2026年" in CODES["MISSING_APPLICATION_FORM"].fix_for(other)


@pytest.mark.parametrize(("n", "text"), [(1, "一"), (8, "八"), (10, "十"), (12, "十二"), (20, "二十"), (31, "三十一")])
def test_chinese_numbers(n: int, text: str) -> None:
    assert cn_number(n) == text


def test_directions_are_numbered_by_position() -> None:
    assert SHANDONG_2025.direction_label(6) == "（六）数据流通利用技术"
    assert SHANDONG_2025.direction_label(9) == "未识别" and SHANDONG_2025.direction_label(None) == "未识别"
    assert SHANDONG_2025.deadline_end("city_applicant").date() == date(2025, 1, 15)
