"""Unit nature: 中央驻鲁 (central) / 省属 (provincial) / other.

It decides the channel (docs/rules.md, "Who sends what, where, by when"), so the form's own words or ticks come first; cues
from the name and the USCC's registration level are a fallback, and anything else
stays unknown (a warning for staff, never a guess presented as fact).
"""

from __future__ import annotations

import re

from campaign import current
from intake.extract.checkboxes import normalise_marks, read_choices, selected
from intake.extract.labels import nfkc, norm
from intake.extract.uscc import NATIONAL, PROVINCIAL, region
from intake.model import Nature

# Longest first inside ``selected``; "非省属" and the like are removed before matching.
OPTIONS: dict[Nature, tuple[str, ...]] = {
    "central": (
        "中央驻鲁单位",
        "中央驻鲁企事业单位",
        "中央驻鲁企业",
        "中央驻鲁",
        "驻鲁央企",
        "中央在鲁",
        "中央企业",
        "中央单位",
        "央企",
        "中直单位",
        "中央直属",
        "部属高校",
        "部属",
        "教育部直属",
        "国务院国资委",
        "中管企业",
        "驻鲁",
        "中央",
    ),
    "provincial": (
        "省属单位",
        "省属企事业单位",
        "省属企业",
        "省属事业单位",
        "省属高校",
        "省属国有企业",
        "省属国企",
        "省属",
        "省直单位",
        "省直部门",
        "省直",
        "省管企业",
        "省管",
        "省级事业单位",
        "省级单位",
        "省级",
        "省国资委",  # "省国资委监管企业": the province owns it
        "省财政厅",
    ),
    "other": (
        "其他单位",
        "其他",
        "其它",
        "民营企业",
        "民营",
        "私营企业",
        "私营",
        "市属",
        "区属",
        "县属",
        "市直",
        "区直",
        "县直",
        "市级",
        "县级",
        "区级",
        "外资企业",
        "外资",
        "合资企业",
        "个体",
        "非公",
        "社会组织",
        "股份制企业",
        "混合所有制",
        "民办非企业",
        "民办",
        "集体企业",
        "港澳台",
    ),
}
_NEGATED = re.compile(r"(?:非|不属于|不是)(?:中央驻鲁|中央|省属|省直|省管)")
_CENTRAL_NAME = re.compile(
    r"^(?:中国|中华|国家|国网|中铁|中建|中交|中电|中航|中冶|中化|中粮|中核|中船|中石油|中石化|中海油|"
    r"中信|中移|中远|招商局|华润|国投|国药)"
)
_BRANCH = re.compile(
    r"(?:山东|济南|青岛|烟台|潍坊|[鲁])[^,，]*(?:分公司|分院|分行|分中心|公司|研究院)$"
)
_PUBLIC_WORDS = re.compile(r"国有|国企|国资|事业单位|公立|公办")
_CITY_PREFIX = re.compile(
    r"^(?:济南|青岛|淄博|枣庄|东营|烟台|潍坊|济宁|泰安|威海|日照|临沂|德州|聊城|滨州|菏泽)"
)
_PUBLIC_BODY = re.compile(r"(?:厅|局|委员会|研究院|研究所|科学院|中心|大学|学院|医院)$")


def nature_from_words(value: str | None) -> Nature | None:
    """From a 单位性质 value: ticks if any were made, else the words written."""
    if not value:
        return None
    text = _NEGATED.sub(" ", normalise_marks(value))
    chosen, marked = selected(text, OPTIONS)
    if not chosen and not marked:
        return None
    for nature in ("central", "provincial", "other"):  # several words: the most specific wins
        if nature in chosen:
            return nature
    return None


def nature_from_ticks(lines: list[str]) -> Nature | None:
    """A ticked nature anywhere (the tick list may stand without a 单位性质 label)."""
    for line in lines:
        states = read_choices(_NEGATED.sub(" ", normalise_marks(line)), OPTIONS)
        ticked = [k for k, s in states.items() if s == "checked"]
        if not ticked and any(s == "unchecked" for s in states.values()):
            ticked = [k for k, s in states.items() if s == "plain"]  # OCR dropped the tick
        if len(ticked) == 1 and len(states) >= 2:
            return ticked[0]
    return None


def nature_from_cues(unit: str | None, uscc: str | None, words: str = "") -> Nature | None:
    """Registration level and name: weak, used only when the form gives no level.

    ``words`` is what the form did say ("国有企业", "事业单位"): public-sector words
    without a level take the level from the name's prefix (the round's province, 山东省…, or a city, 济南市…).
    """
    reg = region(uscc)
    name = norm(nfkc(unit or ""))
    province = current().province
    if reg == NATIONAL:
        return "central"
    if name and _CENTRAL_NAME.match(name) and _BRANCH.search(name):
        return "central"
    if reg == PROVINCIAL:
        return "provincial"
    if name.startswith(province) and _PUBLIC_BODY.search(name) and "公司" not in name:
        return "provincial"
    if _PUBLIC_WORDS.search(nfkc(words or "")):
        if name.startswith(province):
            return "provincial"
        if _CITY_PREFIX.match(name):
            return "other"  # a city's own state-owned or public body (市属)
    return None
