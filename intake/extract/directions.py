"""The eight 榜单方向 of the notice, read from a number, a name, "方向六" or a tick."""

from __future__ import annotations

import re

from intake.extract.checkboxes import normalise_marks, selected
from intake.extract.labels import nfkc, simplified

NAMES: dict[int, str] = {
    1: "数据产权保护",
    2: "数据治理",
    3: "公共数据资源授权运营",
    4: "数据流通交易",
    5: "数据收益分配",
    6: "数据流通利用技术",
    7: "数据产业发展",
    8: "数据安全",
}

# Shortened names people write; matched longest first, so "数据流通利用技术" never
# also counts as "数据流通交易" and "数据产权保护" never as "数据产权".
ALIASES: dict[int, tuple[str, ...]] = {
    1: ("数据产权保护", "产权保护", "数据产权"),
    2: ("数据治理",),
    3: ("公共数据资源授权运营", "公共数据授权运营", "公共数据资源运营", "授权运营"),
    4: ("数据流通交易", "流通交易", "数据交易"),
    5: ("数据收益分配", "收益分配"),
    6: ("数据流通利用技术", "数据流通利用", "流通利用技术", "流通利用"),
    7: ("数据产业发展", "产业发展", "数据产业"),
    8: ("数据安全",),
}

_CN = {c: i for i, c in enumerate("一二三四五六七八", start=1)}
_DIGIT = r"([一二三四五六七八1-8])"
_NUMBERED = (
    re.compile(rf"\(\s*{_DIGIT}\s*\)"),  # （六） after NFKC
    re.compile(rf"方向\s*{_DIGIT}(?![0-9])"),  # 方向六 / 方向 6
    re.compile(rf"第\s*{_DIGIT}\s*(?:个|项|类)?\s*(?:方向|榜单)"),  # 第六个方向
    re.compile(rf"^\s*{_DIGIT}\s*[、.．]"),  # 6.数据流通利用技术 / 六、
    re.compile(rf"^\s*{_DIGIT}\s*$"),  # just "6"
)
_PAREN = re.compile(r"\([^()]*\)|【[^【】]*】|《[^《》]*》")


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _CN[token]


def numbers_in(text: str) -> set[int]:
    text = nfkc(text)
    found: set[int] = set()
    for line in text.splitlines() or [text]:
        for pattern in _NUMBERED:
            found |= {_number(m.group(1)) for m in pattern.finditer(line)}
    return found


def names_in(text: str) -> set[int]:
    """Directions named in free text; a name only in brackets counts when none is outside."""
    text = nfkc(simplified(text))
    outside, _ = selected(_PAREN.sub(" ", text), ALIASES)
    if outside:
        return outside
    return selected(text, ALIASES)[0]


def directions_in(value: str) -> set[int]:
    """Every direction a 榜单方向 value names (a tick list counts only the ticked)."""
    if not value:
        return set()
    text = normalise_marks(value)
    chosen, marked = selected(text, ALIASES)
    if marked:
        return chosen
    names = names_in(text)
    numbers = numbers_in(text)
    if len(numbers) == 1 and numbers <= names:
        return numbers  # "（六）数据流通利用技术：……兼顾数据安全": the numbered name is the choice
    return names or numbers


def direction_hint(text: str) -> int | None:
    """One direction from a title, file name, subject or task name; None if none or several."""
    found = names_in(text or "")
    if not found:
        m = re.search(rf"方向\s*{_DIGIT}(?![0-9])|\(\s*{_DIGIT}\s*\)\s*方向", nfkc(text or ""))
        if m:
            found = {_number(m.group(1) or m.group(2))}
    return next(iter(found)) if len(found) == 1 else None
