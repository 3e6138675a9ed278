"""Which options of a list are ticked: ☑ ■ √ ✔ ☒ [x] (√) 是 vs □ ☐ [ ] 否, or just written.

A mark belongs to the option it touches. Forms put it before the option ("☑理论研究
□技术创新") or after it ("理论研究√", "理论研究：是"); which side a line uses is
decided per line by majority, so "☑甲 □乙" never reads the □ as 甲's mark.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from typing import Literal, TypeVar

from intake.extract.labels import nfkc, simplified

K = TypeVar("K", bound=Hashable)
State = Literal["checked", "unchecked", "plain"]

# Private-use code points are Wingdings / Wingdings 2 boxes as some readers emit them.
CHECKED = set("☑☒✅✓✔√■▣◼◾●◉⊠🗹⬛◆") | {"\uf0fe", "\uf052", "\uf054", "\uf0fc", "\uf050", "\uf06e"}
UNCHECKED = set("□☐○◯〇▢◻◽❏❑⬜◇") | {"\uf0a8", "\uf0a3", "\uf06f", "\uf0a1", "\uf071"}
_BOXED_TICK = re.compile(r"[\[(【〔]\s*[xX×√✓✔☑■●✗✘vV]\s*[\])】〕]")
_BOXED_EMPTY = re.compile(r"[\[【〔]\s*[\]】〕]|\(\s+\)|\(\)")
_SKIP = " \t\u3000:：类"
_OCR_BOX = re.compile(r"(?:(?<=^)|(?<=[\s\u3000:：]))口(?=[ \u3000]*[(\u4e00-\u9fff])", re.M)
# (one stray character after the number is OCR noise: "（七)娄 数据产业发展")
_NUMBER_TAIL = re.compile(
    r"(?:\(\s*[一二三四五六七八九十0-9]{1,2}\s*\)\S?|[0-9一二三四五六七八九十]{1,2}\s*[、.．])?\s*$"
)
_RANK = {"plain": 0, "unchecked": 1, "checked": 2}


def normalise_marks(text: str) -> str:
    """Bracketed ticks ("[x]", "（√）") and empty brackets become ☑ / □.

    OCR reads an empty box as the character 口; at the start of a word it is a box.
    """
    text = nfkc(simplified(text))  # options are matched in simplified characters
    text = _BOXED_TICK.sub("☑", text)
    text = _OCR_BOX.sub("□", text)
    return _BOXED_EMPTY.sub("□", text)


# What OCR makes of a box or a tick right before an option word: an empty box reads as
# 口 (also glued to the previous option: "☑理论研究口技术创新"), a tick as ×, ≥, V, x…
_SCAN_EMPTY = "口曰日"
_SCAN_TICK = "×xXvVY≥≤√✓✔☑■ノ"


def scan_marks(text: str, options: Iterable[str]) -> str:
    """A scan's line of options with the garbled marks before option words made ☑ / □ again.

    Only a line naming two or more options is a tick list; only the one character
    right before an option word is touched (口 in "人口" before no option stays).
    """
    words = [nfkc(w) for w in options if w]
    if not words or not text:
        return text
    alternation = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    option = re.compile(rf"(?:\(\s*[一二三四五六七八]\s*\))?(?:{alternation})")
    out = []
    for original in text.split("\n"):
        line = nfkc(original)
        hits = list(option.finditer(line))
        if len(hits) < 2:
            out.append(original)
            continue
        chars = list(line)
        for m in hits:
            at = m.start() - 1
            if at < 0:
                continue
            if chars[at] in _SCAN_EMPTY:
                chars[at] = "□"
            elif chars[at] in _SCAN_TICK and (at == 0 or not chars[at - 1].isascii() or not chars[at - 1].isalnum()):
                chars[at] = "☑"
        fixed = "".join(chars)
        out.append(original if fixed == line else fixed)
    return "\n".join(out)


def has_marks(text: str) -> bool:
    text = normalise_marks(text)
    return any(ch in CHECKED or ch in UNCHECKED for ch in text)


def _occurrences(text: str, options: Mapping[K, Iterable[str]]) -> list[tuple[int, int, K]]:
    """Non-overlapping option mentions, longest synonym first."""
    return _mentions(text, _words(options))


def _words(options: Mapping[K, Iterable[str]]) -> list[tuple[str, K]]:
    """(normalised synonym, option), longest synonym first: what _mentions looks for."""
    pairs = sorted(((s, k) for k, syns in options.items() for s in syns), key=lambda p: -len(p[0]))
    return [(nfkc(syn), key) for syn, key in pairs]


def _mentions(text: str, words: list[tuple[str, K]]) -> list[tuple[int, int, K]]:
    taken = [False] * len(text)
    found: list[tuple[int, int, K]] = []
    for word, key in words:
        if word not in text:
            continue  # most options are absent from a line: no pattern to compile for them
        for m in re.finditer(re.escape(word), text):
            if not any(taken[m.start() : m.end()]):
                taken[m.start() : m.end()] = [True] * (m.end() - m.start())
                found.append((m.start(), m.end(), key))
    return sorted(found, key=lambda f: f[0])


def _left_mark(text: str, start: int) -> State | None:
    # "☑（六）数据流通利用技术", "□ 2.数据治理": the outline number sits between mark and name
    head = _NUMBER_TAIL.sub("", text[max(0, start - 10) : start]).rstrip(" \t\u3000")
    if head and len(text[max(0, start - 10) : start]) - len(head) <= 8:
        if head[-1] in CHECKED:
            return "checked"
        if head[-1] in UNCHECKED:
            return "unchecked"
    return None


def _right_mark(text: str, end: int) -> State | None:
    i = end
    while i < len(text) and i - end <= 3 and text[i] in _SKIP:
        i += 1
    if i >= len(text):
        return None
    ch = text[i]
    if ch in CHECKED:
        return "checked"
    if ch in UNCHECKED:
        return "unchecked"
    if (
        ch in "是否"
        and i > end
        and (i + 1 == len(text) or not text[i + 1].isalnum() or text[i + 1] in "是否")
    ):
        return "checked" if ch == "是" else "unchecked"
    return None


def read_choices(text: str, options: Mapping[K, Iterable[str]]) -> dict[K, State]:
    """Each mentioned option's state; options not mentioned are absent."""
    out: dict[K, State] = {}
    words = _words(options)  # once for all the lines
    for line in normalise_marks(text).splitlines():
        hits = _mentions(line, words)
        lefts = [_left_mark(line, s) for s, _, _ in hits]
        rights = [_right_mark(line, e) for _, e, _ in hits]
        use = (
            lefts
            if sum(m is not None for m in lefts) >= sum(m is not None for m in rights)
            else rights
        )
        use = _detached(line, hits, use)
        for (_, _, key), mark in zip(hits, use, strict=True):
            state: State = mark or "plain"
            # a tick anywhere wins over an empty box, which wins over a bare mention
            if key not in out or _RANK[state] > _RANK[out[key]]:
                out[key] = state
    return out


def _detached(
    line: str, hits: list[tuple[int, int, K]], use: list[State | None]
) -> list[State | None]:
    """Marks a PDF's text layer moved away from their options ("□甲　乙　丙 □ ☑").

    Text extraction follows the drawing order, and symbol glyphs are often drawn in
    a separate run. When there is exactly one mark per option, their order still
    tells which is which; otherwise only marks that touch an option are trusted.
    """
    marks = [ch for ch in line if ch in CHECKED or ch in UNCHECKED]
    if len(hits) < 2 or all(m is not None for m in use):
        return use
    glyphs = "".join(sorted(CHECKED | UNCHECKED))
    cluster = re.search(rf"[{re.escape(glyphs)}][\s\u3000]+[{re.escape(glyphs)}]", line)
    if cluster is None:
        return use
    if len(marks) == len(hits):
        return ["checked" if ch in CHECKED else "unchecked" for ch in marks]
    return [_left_mark(line, s) for s, _, _ in hits]


def selected(text: str, options: Mapping[K, Iterable[str]]) -> tuple[set[K], bool]:
    """(chosen options, whether the text used tick marks at all).

    Ticks present → the ticked ones (none ticked → nothing chosen);
    no marks → every option written down ("任务类别：技术创新、应用实践").
    """
    states = read_choices(text, options)
    ticked = {k for k, s in states.items() if s == "checked"}
    if ticked:
        return ticked, True
    plain = {k for k, s in states.items() if s == "plain"}
    if any(s == "unchecked" for s in states.values()):
        # empty boxes but no tick at all: the options left without a box are the chosen
        # ones (a scan's ☑ that OCR dropped, or a box the applicant deleted)
        return plain, True
    return plain, False


def ticked_anywhere(lines: Iterable[str], options: Mapping[K, Iterable[str]]) -> set[K]:
    """Options carrying a tick on any line (the fallback when no label leads to them)."""
    found: set[K] = set()
    for line in lines:
        found |= {k for k, s in read_choices(line, options).items() if s == "checked"}
    return found


def grid_choices(table: list[list[str]], options: Mapping[K, Iterable[str]]) -> set[K] | None:
    """A row of option names with the ticks in the row below (same columns), or None."""
    for upper, lower in zip(table, table[1:], strict=False):
        keys = [next(iter(_keys_in(c, options)), None) for c in upper]
        if sum(k is not None for k in keys) < 2 or not any(
            has_marks(c) or c.strip() in "是否" and c.strip() for c in lower
        ):
            continue
        chosen = set()
        for key, cell in zip(keys, lower, strict=False):
            cell = normalise_marks(cell).strip()
            if key is not None and cell and (cell[0] in CHECKED or cell == "是"):
                chosen.add(key)
        return chosen
    return None


def _keys_in(cell: str, options: Mapping[K, Iterable[str]]) -> list[K]:
    return [k for _, _, k in _occurrences(nfkc(cell), options)]
