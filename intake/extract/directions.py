"""The round's 榜单方向, read from a number, a name, "方向六" or a tick.

Names, aliases and how many there are come from the catalogue in force
(``campaign.current()``): a direction outside the round's range is no direction.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
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


# what may follow "方向三" when 三 is the direction's number, not the start of a word
# ("方向三权分置" is no 方向三, "方向一致" no 方向一)
_AFTER_NUMBER = re.compile(r"$|[^\u4e00-\u9fff]|[的即为是类及和与或]")


def _whole_number(line: str, m: re.Match[str], group: int = 1) -> bool:
    """Is the Chinese numeral of "方向N" a number, not the first character of a word?"""
    if m.group(group).isdigit() or not line[m.start() :].startswith("方向"):
        return True
    rest = line[m.end(group) :]
    if _AFTER_NUMBER.match(rest):
        return True
    head = nfkc(simplified(rest))
    return any(head.startswith(nfkc(simplified(a))) for names_ in aliases().values() for a in names_)


def numbers_in(text: str) -> set[int]:
    text = nfkc(text)
    found: set[int] = set()
    count = len(names())
    for line in text.splitlines() or [text]:
        for pattern in _patterns(count).numbered:
            found |= {
                n for m in pattern.finditer(line) if 0 < (n := _number(m.group(1))) <= count and _whole_number(line, m)
            }
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
        line = nfkc(text or "")
        m = next((m for m in _patterns(len(names())).hint.finditer(line)
                  if m.group(2) or _whole_number(line, m)), None)  # fmt: skip
        if m:
            found = {_number(m.group(1) or m.group(2))}
    return next(iter(found)) if len(found) == 1 else None


# -- a direction from the notice's scope words ------------------------------------------------
# Only when a form names no direction (name, alias, number, tick) and its scope words point
# to one direction clearly; a hint is never enough. Where a word stands weighs: the 榜单方向
# cell, the task's name and the file name say what the form is about (STRONG), a word in
# the body counts once however often it is repeated (a long text touches many topics).
STRONG = 2
# the template's instructions and hints name options, not a choice
_HINT = re.compile(r"请|填写|填报|选择|可选|选填|例如|之一|以下|不超过|字以内|说明|须为|应为")
_BRACKETED = re.compile(r"\([^()]*\)|【[^【】]*】|\[[^\[\]]*\]")
_SENTENCE_END = re.compile(r"[。;!?]")
# a company's name is no scope ("与山东区块链科技有限公司合作"); at worst this drops a few
# words before it, never adds one
_COMPANY = re.compile(r"[\u4e00-\u9fffA-Za-z0-9()]{2,16}?(?:有限公司|有限责任公司|集团|研究院)")


def keywords() -> dict[int, tuple[str, ...]]:
    """Each direction's scope words in the round in force (none for a round that gives none)."""
    return current().direction_keywords


def _scope_words(text: str, words: list[tuple[str, int]], skip: tuple[str, ...] = ()) -> Counter[str]:
    """The scope words a text uses, longest first, never overlapping; instruction
    sentences, template hints, organisation names and notice-like lines dropped."""
    found: Counter[str] = Counter()
    count = len(names())
    for line in nfkc(simplified(text)).splitlines():
        for name in skip:
            line = line.replace(name, " ")
        line = _BRACKETED.sub(lambda m: " " if _HINT.search(m.group(0)) else m.group(0), line)
        line = _COMPANY.sub(" ", line)
        named = names_in(line)
        if len(named) >= 2 or (named and _patterns(count).numbered[0].search(line)):
            continue  # a list of directions, or the notice's "（六）数据流通利用技术。围绕……"
        for sentence in _SENTENCE_END.split(line):
            if _HINT.search(sentence):
                continue
            taken = [False] * len(sentence)
            for word, _ in words:
                at = sentence.find(word)
                while at >= 0:
                    if not any(taken[at : at + len(word)]):
                        taken[at : at + len(word)] = [True] * len(word)
                        found[word] += 1
                    at = sentence.find(word, at + 1)
    return found


def direction_from_scope(strong: Iterable[str], body: Iterable[str], skip: Iterable[str] = ()) -> int | None:
    """The one direction a form's scope words point to, or None when they point to none,
    to several, or only weakly.

    Each scope word counts STRONG in the 榜单方向 cell, the task's name or the file name,
    once in the rest of the text. The leading direction needs at least STRONG and at
    least twice the weight of all the others together: "基于隐私计算的数据分类分级平台"
    (六 and 八) gives none, one "区块链" in a long text gives none. *skip*: the names of
    the form's units (a company may be called 区块链科技).
    """
    owners: dict[str, set[int]] = {}
    for number, ws in keywords().items():
        for w in ws:
            if w:
                owners.setdefault(nfkc(simplified(w)), set()).add(number)
    # a word a config gives two directions says neither
    words = sorted(((w, next(iter(ns))) for w, ns in owners.items() if len(ns) == 1), key=lambda p: -len(p[0]))
    if not words:
        return None
    owner = dict(words)
    names_ = tuple(sorted({nfkc(simplified(n)) for n in skip if n and len(n) >= 4}, key=len, reverse=True))
    score: Counter[int] = Counter()
    for text in strong:
        for word in _scope_words(text, words, names_):
            score[owner[word]] += STRONG
    for word in _scope_words("\n".join(body), words, names_):
        score[owner[word]] += 1
    if not score:
        return None
    (best, top), *others = score.most_common()
    rest = sum(v for _, v in others)
    return best if top >= STRONG and top >= 2 * rest else None
