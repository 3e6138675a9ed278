"""Options written in words, with what the words say about them: negated, exclusive, or plain.

"任务类别：应用实践（不涉及理论研究和技术创新）" names all three categories and chooses
one. Tick marks are read as before (``checkboxes.selected``); a text without marks is read
clause by clause: an option right after a negation ("不涉及…", "无…", "不做…") is not
chosen, one right after 仅/只 ("仅开展应用实践") is the only one chosen. Between the
negation and the option only other options and conjunctions may stand, so "不断完善技术
创新" and "不仅开展理论研究" negate nothing.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

from intake.extract.checkboxes import normalise_marks, selected
from intake.extract.labels import nfkc

K = TypeVar("K", bound=Hashable)

# verbs a negation or 仅 may carry before the option ("不涉及", "仅开展", "不申请")
_VERBS = (
    "涉及|开展|进行|包括|包含|含|属于|做|作|从事|申报|申请|选择|选|是|为|考虑|安排|形成|产出|提交|计划|"
    "打算|列入|纳入|限于|针对|围绕"
)
_NEGATION = re.compile(rf"(?:不|未|无|非|没有|无需)(?:{_VERBS})?$")
# 仅/只, never 不仅/不只 ("不仅开展理论研究，也开展技术创新" restricts nothing)
_EXCLUSIVE = re.compile(rf"(?<!不)(?<!并不)(?:仅|只|单纯|唯一)(?:限|有)?(?:{_VERBS})?$")
# what may stand between a negation and the options it covers: "和", "、", "以及", "类"
_JOINER = re.compile(r"(?:[\s、/,和与及或类]|以及|或者)+")  # used with fullmatch
# "理论研究：无", "技术创新 否": a negation right after the option
_NEGATED_AFTER = re.compile(r"^[\s:]*(?:无|否|不涉及|不开展|暂无|没有)(?:$|[^\u4e00-\u9fff])")
_CLAUSE = re.compile(r"[,。;\n()【】\[\]]")


def _mentions(text: str, options: Mapping[K, Iterable[str]]) -> list[tuple[int, int, K]]:
    """Non-overlapping option mentions in a clause, longest synonym first, in order."""
    words = sorted(((nfkc(w), k) for k, ws in options.items() for w in ws if w), key=lambda p: -len(p[0]))
    taken = [False] * len(text)
    found: list[tuple[int, int, K]] = []
    for word, key in words:
        at = text.find(word)
        while at >= 0:
            end = at + len(word)
            if not any(taken[at:end]):
                taken[at:end] = [True] * len(word)
                found.append((at, end, key))
            at = text.find(word, at + 1)
    return sorted(found, key=lambda f: f[0])


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE.split(text) if c.strip()]


def read_stated(text: str, options: Mapping[K, Iterable[str]]) -> tuple[set[K], set[K], set[K]]:
    """(plain, exclusive, negated) options of a text without tick marks."""
    plain: set[K] = set()
    exclusive: set[K] = set()
    negated: set[K] = set()
    for clause in _clauses(normalise_marks(text)):
        hits = _mentions(clause, options)
        kind = "plain"
        for i, (start, end, key) in enumerate(hits):
            before = clause[hits[i - 1][1] if i else 0 : start]
            joined = i > 0 and _JOINER.fullmatch(before) is not None
            if not joined:  # a new run of options: what stands before it decides for the run
                kind = "negated" if _NEGATION.search(before) else "exclusive" if _EXCLUSIVE.search(before) else "plain"
            after = clause[end : hits[i + 1][0] if i + 1 < len(hits) else len(clause)]
            own = "negated" if _NEGATED_AFTER.match(after) else kind
            {"plain": plain, "exclusive": exclusive, "negated": negated}[own].add(key)
    # an option said both ways ("理论研究…不涉及理论研究以外") stays chosen
    return plain - exclusive, exclusive, negated - plain - exclusive


def stated(text: str, options: Mapping[K, Iterable[str]], complement: bool = False) -> tuple[set[K], bool]:
    """(chosen options, whether the text used tick marks) as ``checkboxes.selected``, with
    negated options left out and 仅/只 keeping only what it names.

    *complement*: when every option but one is negated and nothing is named otherwise
    ("不涉及理论研究和技术创新" of three categories), the one left is the choice.
    """
    chosen, marked = selected(text, options)
    if marked or not chosen:
        return chosen, marked
    plain, exclusive, negated = read_stated(text, options)
    if exclusive:
        return exclusive, False
    if plain:
        return plain, False
    left = set(options) - negated
    if complement and len(left) == 1 and len(options) > 2:
        return left, False
    return set(), False
