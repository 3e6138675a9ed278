"""The round's 榜单方向, read from a number, a name, "方向六" or a tick.

Names, aliases and how many there are come from the catalogue in force
(``campaign.current()``): a direction outside the round's range is no direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from campaign import cn_number, current
from intake.extract.checkboxes import normalise_marks, selected
from intake.extract.labels import nfkc, simplified


def names() -> dict[int, str]:
    """The round's directions by number (the catalogue in force)."""
    return current().direction_names


def aliases() -> dict[int, tuple[str, ...]]:
    """Each direction's name and shortened names; matched longest first by ``selected``."""
    return current().direction_aliases


@dataclass(frozen=True)
class _Patterns:
    digit: str
    numbered: tuple[re.Pattern[str], ...]
    hint: re.Pattern[str]


@lru_cache(maxsize=8)
def _patterns(count: int) -> _Patterns:
    """Numbers a direction may be written as: 一..N in Chinese, 1..N in digits."""
    cn = sorted((cn_number(n) for n in range(1, count + 1)), key=len, reverse=True)
    digits = sorted((str(n) for n in range(1, count + 1)), key=len, reverse=True)
    digit = "(" + "|".join(cn + digits) + ")"
    numbered = (
        re.compile(rf"\(\s*{digit}\s*\)"),  # （六） after NFKC
        re.compile(rf"方向\s*{digit}(?![0-9一二三四五六七八九十])"),  # 方向六 / 方向 6
        re.compile(rf"第\s*{digit}\s*(?:个|项|类)?\s*(?:方向|榜单)"),  # 第六个方向
        re.compile(rf"^\s*{digit}\s*[、.．]"),  # 6.数据流通利用技术 / 六、
        re.compile(rf"^\s*{digit}\s*$"),  # just "6"
    )
    hint = re.compile(rf"方向\s*{digit}(?![0-9一二三四五六七八九十])|\(\s*{digit}\s*\)\s*方向")
    return _Patterns(digit, numbered, hint)


_CN_VALUE = {cn_number(n): n for n in range(1, 100)}
_PAREN = re.compile(r"\([^()]*\)|【[^【】]*】|《[^《》]*》")


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _CN_VALUE[token]


def numbers_in(text: str) -> set[int]:
    text = nfkc(text)
    found: set[int] = set()
    count = len(names())
    for line in text.splitlines() or [text]:
        for pattern in _patterns(count).numbered:
            found |= {n for m in pattern.finditer(line) if 0 < (n := _number(m.group(1))) <= count}
    return found


def names_in(text: str) -> set[int]:
    """Directions named in free text; a name only in brackets counts when none is outside."""
    text = nfkc(simplified(text))
    outside, _ = selected(_PAREN.sub(" ", text), aliases())
    if outside:
        return outside
    return selected(text, aliases())[0]


def directions_in(value: str) -> set[int]:
    """Every direction a 榜单方向 value names (a tick list counts only the ticked)."""
    if not value:
        return set()
    text = normalise_marks(value)
    chosen, marked = selected(text, aliases())
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
        m = _patterns(len(names())).hint.search(nfkc(text or ""))
        if m:
            found = {_number(m.group(1) or m.group(2))}
    return next(iter(found)) if len(found) == 1 else None
