"""Turn a document's text and tables into label → value pairs, sections and column tables.

Three places a value can sit, whatever the layout:
- the next cell of a table row (merged cells repeat their text: skipped),
- the same cell / line after a colon (full- or half-width, spaces around it),
- the rest of a paragraph after the label, or the lines under a heading that *is* a label.
Tables whose first row is a row of labels are column tables (partners, the
recommendation table, or a one-row horizontal form).
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from intake.extract.labels import (
    clean_value,
    field_of,
    is_header_word,
    label_key,
    match_label,
    nfkc,
    norm,
    simplified,
    strip_numbering,
    synonyms_longest_first,
)
from intake.extract.view import (
    ColumnTable,
    FormView,
    Pair,
    dedupe,
    is_header_row,
    is_sub_header,
    merge_sub_header,
)
from intake.extract.wraps import wrapped_fragments
from intake.model import Document

__all__ = ["ColumnTable", "FormView", "Pair", "read_view", "split_lines", "view_of"]


_INSTRUCTION_HEAD = re.compile(r"^(填报说明|填表说明|填写说明|编写说明|注意事项|说明)[:：]?$")
_INSTRUCTION_INLINE = re.compile(r"^(填报说明|填表说明|填写说明|编写说明|注意事项)[:：].")
# The template's own hint left in a value cell: "（请从八个方向中选择一个）", "(可多选)"
_PLACEHOLDER = re.compile(
    r"^[(【\[][^()【】\[\]]*(请|选择|选填|可多选|限选|填写|不超过|例如|如:)[^()【】\[\]]*[)】\]]$"
)
_SENTENCE = re.compile(r"[。；;，,]")
_EMPTY = {"", "/", "-", "—", "——", "无", "暂无", "N/A", "NA", "空"}

# -- questions asked of one line many times ------------------------------------------------
# Reading a view asks each line again and again whether it is a heading, which pairs it
# holds, whether it starts with a label or carries marks: as a line of its own, as the
# line after a label, inside a tick list's or a wrapped value's tail, as a section's end.
# The answers depend on the line alone, so lines up to _MEMO_CHARS are answered once, in
# bounded caches shared by all forms. Longer lines (prose, rarely asked twice) are asked
# afresh: with 300 characters a hostile mail can make each cache hold ~2.5 MB at most.
_MEMO_CHARS = 300
_MEMO_LINES = 4_096
_T = TypeVar("_T")


def _per_line(ask: Callable[[str], _T]) -> Callable[[str], _T]:
    remembered = functools.lru_cache(maxsize=_MEMO_LINES)(ask)

    @functools.wraps(ask)
    def answer(line: str) -> _T:
        return remembered(line) if len(line) <= _MEMO_CHARS else ask(line)

    return answer


def _cells(row: Sequence[str | None]) -> list[str]:
    return [(c or "").strip() for c in row]


def _row_pairs(cells: list[str]) -> list[Pair]:
    out: list[Pair] = []
    i = 0
    while i < len(cells):
        cell = cells[i]
        name = match_label(cell)
        if name is None:
            out.extend(_colon_pairs(cell, "table"))
            i += 1
            continue
        j = i + 1
        while j < len(cells) and (not cells[j] or norm(cells[j]) == norm(cell)):
            j += 1  # empty or merged-duplicate cells
        parts: list[str] = []
        while j < len(cells) and not is_header_word(cells[j]):
            # every cell up to the next label: "☑中央驻鲁 | □省属 | □其他" is one value
            if cells[j] and (not parts or norm(parts[-1]) != norm(cells[j])):
                parts.append(cells[j])
            j += 1
        out.append(Pair(name, " ".join(parts), "table"))
        i = j
    return out


# The same as [ \t\u3000]* (any run of spaces, tabs and ideographic spaces), written so
# that compiling it is cheap: a class holding a character past U+00FF costs the compiler
# a 64K-entry table, and there is one between every two characters of the 168 synonyms
# (importing this module took ~70 ms, most of it there).
_GAP = r"[ \t]*(?:\u3000[ \t]*)*"


def _spaced(synonym: str) -> str:
    """A synonym that tolerates stray spaces between its characters ("单 位 名 称")."""
    return _GAP.join(re.escape(ch) for ch in synonym)


_ANY_LABEL = "|".join(_spaced(s) for s in synonyms_longest_first())
_COLON_LABEL = re.compile(
    rf"({_ANY_LABEL})([ \t\u3000]*\([^()]{{0,24}}\))?[ \t\u3000]*[:：]", re.IGNORECASE
)


def _colon_pairs(text: str, source: str) -> list[Pair]:
    """``单位名称：甲  统一社会信用代码：乙`` → two pairs; also ``标签\\n值`` in one cell."""
    text = nfkc(text)
    hits = []
    # labels are matched in simplified characters (one for one, so offsets hold); values
    # are sliced from the text as written: "揭榜單位：山東某某公司" keeps its name.
    # Every match ends in a colon (NFKC made "：" ":"): without one the search is skipped.
    colons = ":" in text or "：" in text
    for m in _COLON_LABEL.finditer(simplified(text)) if colons else ():
        label = norm(m.group(1))
        # short labels need a boundary ("紧急联系人：" is not "联系人"); long ones are distinctive
        if m.start() == 0 or len(label) >= 4 or _after_separator(text, m.start()):
            hits.append((m.start(), m.end(), field_of(label)))
    if not hits:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        name = match_label(lines[0]) if len(lines) > 1 else None
        return [Pair(name, "\n".join(lines[1:]).strip(), source)] if name else []
    out = []
    for k, (_start, end, name) in enumerate(hits):
        stop = hits[k + 1][0] if k + 1 < len(hits) else len(text)
        out.append(Pair(name, text[end:stop].strip(), source))
    return out


def _after_separator(head: str, at: int) -> bool:
    return head[at - 1] in " \t\u3000,，;；、|" or head[:at].strip() == ""


def _line_pair(line: str) -> list[Pair]:
    """The pairs a line holds (new ones each time: readers extend their values)."""
    return [Pair(name, value, "line") for name, value in _line_values(line)]


def _holds_pair(line: str) -> bool:
    return bool(_line_values(line))


@_per_line
def _line_values(line: str) -> tuple[tuple[str, str], ...]:
    """(field, value) of each pair in a line (none: an empty tuple)."""
    return tuple((p.field, p.value) for p in _read_line(line))


def _read_line(line: str) -> list[Pair]:
    line = nfkc(line)  # once: _colon_pairs normalises again, at no cost (NFKC is stable)
    pairs = _colon_pairs(line, "line")
    if pairs:
        return pairs
    # "揭榜单位（盖章） 某某公司" — label then whitespace/tab/bar, as PDFs and tab-joined cells read.
    text = strip_numbering(line.strip())
    m = _HEAD_LABEL.match(simplified(text))
    if m and m.group(3).strip():
        rest = text[m.start(3) :].strip()
        if not _starts_with_label(rest):
            return _split_more(field_of(norm(m.group(1))), rest)
    return []


def _split_more(name: str, rest: str) -> list[Pair]:
    """ "91370212MA3C 所在市 青岛市": a PDF/OCR line holding two cells of one row."""
    tokens = re.split(r"(\s+)", rest)
    for i in range(2, len(tokens) - 2, 2):
        other = match_label(tokens[i])
        if other and other != name and "".join(tokens[i + 1 :]).strip():
            head = "".join(tokens[:i]).strip()
            return [Pair(name, head, "line"), *_split_more(other, "".join(tokens[i + 2 :]).strip())]
    return [Pair(name, rest, "line")]


_HEAD_LABEL = re.compile(
    rf"^({_ANY_LABEL})(\s*\([^()]{{0,24}}\))?(?:\s*[\t|]\s*|\s+|(?<=\)))(.*)$",
    re.IGNORECASE | re.S,
)


@_per_line
def _starts_with_label(text: str) -> bool:
    head = re.split(r"[\s:：|\t]", text.strip(), maxsplit=1)[0]
    return bool(match_label(head))


def _tick_lines(first: str, lines: list[str]) -> list[str]:
    """A tick list that starts on a label's line, with the rest (one option per line)."""
    from intake.extract.directions import directions_in

    out: list[str] = [first]
    for line in lines:
        text = norm(line)
        option = _is_heading(line) and len(directions_in(line)) == 1  # "（二）数据治理"
        if (_is_heading(line) and not option) or _holds_pair(line) or len(text) > 30 or _SENTENCE.search(text):
            break
        if out and len(text) <= 6 and not _has_marks(line):
            out[-1] += text  # "□数据产权保" / "护": an option wrapped inside its PDF cell
        elif out and _has_marks(line) and len(_BARE_MARK.sub("", nfkc(line)).strip()) <= 2:
            out[-1] += nfkc(line).strip()  # "（二）数据治理" / "(V)": its mark wrapped below it
        else:
            out.append(line)
    return out


_BARE_MARK = re.compile(r"[\[(【〔][^\])】〕]{0,3}[\])】〕]|[☑☒✓✔√■□☐○◯〇▢◻]")


def _continues(line: str) -> bool:
    """A short fragment that can only be the tail of the value above it."""
    text = nfkc(line).strip()
    return (
        0 < len(text) <= 10
        and not re.search(r"\s", text)
        and not _is_heading(line)
        and not _holds_pair(line)
        and not _has_marks(line)
        and not re.match(r"^[0-9(（一二三四五六七八九十①-⑳]", text)
        and not re.search(r"[。；;:：]", text)
    )


def _open_bracket(value: str) -> bool:
    """A value that opens a bracket and does not close it: "（请从以下方向中选择一个：…"."""
    text = nfkc(value)
    return text.count("(") > text.count(")")


def _bracket_tail(lines: list[str]) -> list[str]:
    """The wrapped lines of a bracketed hint, up to the line that closes it."""
    out: list[str] = []
    for line in lines:
        if _is_heading(line) or _holds_pair(line) or _starts_with_label(line):
            return []  # never closed: no wrapped hint, leave the value as it is
        out.append(nfkc(line).strip())
        if ")" in out[-1]:
            return out
    return []


def _lists_on(value: str, nxt: str) -> bool:
    """A list of options ("甲、乙、丙") a narrow PDF cell wrapped onto the next line."""
    value, text = nfkc(value).strip(), nfkc(nxt).strip()
    return bool(text) and ("、" in value or value.endswith(("、", "，"))) and "、" in text and not (
        _is_heading(nxt) or _holds_pair(nxt) or _starts_with_label(nxt) or _has_marks(nxt)
        or re.search(r"[。；;:：]", text)
    )  # fmt: skip


def _list_tail(lines: list[str]) -> list[str]:
    """The wrapped lines of a list: each holds "、", the last may be a short end."""
    out: list[str] = []
    for line in lines:
        text = nfkc(line).strip()
        if _is_heading(line) or _holds_pair(line) or _starts_with_label(line) or _has_marks(line):
            break
        if re.search(r"[。；;:：]", text.rstrip("）)")):
            break
        if "、" in text:
            out.append(text)
        elif len(text) <= 12 and out and out[-1].endswith("、") or len(text) <= 6 and out:
            out.append(text)
            break
        else:
            break
    return out


def _wrapped_cells(found: list[Pair], nxt: str) -> None:
    """A multi-column row read from a PDF or scan wraps cell by cell onto the next line."""
    tokens = nfkc(nxt).split()
    if not tokens or _is_heading(nxt) or _has_marks(nxt) or re.search(r"[。；;:：]", nxt):
        return
    if any(len(t) > 10 or match_label(t) for t in tokens):
        return
    for index, token in wrapped_fragments([p.value for p in found], tokens):
        found[index].value += token


@_per_line
def _is_heading(line: str) -> bool:
    """A short outline line ("三、揭榜任务", "（五）预期成果") or a bare label line."""
    text = norm(line)
    if not text or len(text) > 30 or _SENTENCE.search(text):
        return False
    return strip_numbering(text) != text or match_label(text) is not None


_SECTION_TAILS = ("基本情况", "情况", "信息", "概况", "名单", "及形式", "形式", "(可多选)")


def _is_section(line: str) -> bool:
    """A heading that opens a part of the form ("二、联合单位", "联合单位基本情况").

    A bare label line ("联合单位" above its value) is not one: what follows it may
    well be the lead's next field.
    """
    if not _is_heading(line):
        return False
    text = norm(line)
    return strip_numbering(text) != text or (
        match_label(text) is None and _heading_field(line) is not None
    )


@_per_line
def _heading_field(line: str) -> str | None:
    key = label_key(line)
    name = match_label(key)
    if name:
        return name
    for tail in _SECTION_TAILS:
        if key.endswith(tail) and match_label(key[: -len(tail)]):
            return match_label(key[: -len(tail)])
    return None


def split_lines(text: str) -> list[str]:
    """Text lines without the form's own instructions (they name every option)."""
    out: list[str] = []
    skipping = inline = False
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        key = norm(line)
        if _INSTRUCTION_HEAD.match(key):
            skipping = True
            continue
        if _INSTRUCTION_INLINE.match(key):
            # "填报说明：1.榜单方向从以下八个方向中选择一个……" as one paragraph, which a
            # PDF wraps over several lines: skip to its closing "。"
            inline = not key.endswith("。")
            continue
        if inline:
            if _is_heading(line) or _holds_pair(line) or match_label(line.split()[0]):
                inline = False
            else:
                inline = not key.endswith("。")
                continue
        if skipping:
            if strip_numbering(key) != key and re.match(r"^[一二三四五六七八九十]+[、.]", key):
                skipping = False  # the next chapter, "一、揭榜单位基本情况"
            elif not re.match(r"^\d+[.、]", key) and _is_heading(line):
                skipping = False
            else:
                continue
        if key.startswith(("注:", "注：", "说明:")) or "应至少" in key:
            # a note a PDF wrapped over several lines: its tail names options too
            inline = key.startswith(("注:", "注：", "说明:")) and not key.endswith("。")
            continue
        out.append(line)
    return out


def _sections(lines: list[str]) -> list[Pair]:
    out: list[Pair] = []
    for i, line in enumerate(lines):
        name = _heading_field(line) if _is_heading(line) else None
        if name is None:
            continue
        body: list[str] = []
        for nxt in lines[i + 1 : i + 13]:
            if _is_heading(nxt) or (_holds_pair(nxt) and not _has_marks(nxt)):
                break
            body.append(nxt)
        out.append(Pair(name, "\n".join(body).strip(), "section"))
    return out


@_per_line
def _has_marks(line: str) -> bool:
    from intake.extract.checkboxes import has_marks

    return has_marks(line)


def _is_kv_row(cells: list[str]) -> bool:
    filled = dedupe(cells)
    return bool(filled) and match_label(filled[0]) is not None and len(filled) <= 4


def _read_table(
    rows: list[list[str]], flat: str, offsets: list[tuple[int, str]]
) -> tuple[list[Pair], list[ColumnTable]]:
    pairs: list[Pair] = []
    tables: list[ColumnTable] = []
    current: ColumnTable | None = None
    heading = _table_context(rows, flat, offsets)
    for row in rows:
        filled = dedupe(row)
        if len(filled) == 1 and (
            _is_section(filled[0]) or (_is_heading(filled[0]) and not match_label(filled[0]))
        ):
            heading, current = filled[0], None  # a full-width title row inside one big table
            continue
        if is_header_row(row):
            current = ColumnTable(
                header=row,
                fields=[match_label(c) if c else None for c in row],
                rows=[],
                context=heading,
            )
            tables.append(current)
            continue
        if current is not None and not current.rows and is_sub_header(row):
            merge_sub_header(current, row)  # "联系人信息" over "联系人 | 联系电话"
            continue
        if current is not None and filled and not _is_kv_row(row):
            current.rows.append(row)
            continue
        current = None
        if pairs and filled and not row[0] and not any(is_header_word(c) for c in filled):
            # the label cell spans several rows (a tick grid of 8 directions): this row
            # goes on with the value above
            pairs[-1].value = "\n".join(filter(None, [pairs[-1].value, " ".join(filled)]))
            continue
        pairs.extend(_retag(_row_pairs(row), heading))
    return pairs, tables


# Under a "联合单位" heading, 单位名称 / 信用代码 … describe a partner, not the lead.
_PARTNER_FIELDS = {
    "unit": "partners",
    "uscc": "partner_uscc",
    "nature": "partner_nature",
    "city": "partner_city",
    "region": "partner_city",
    "address": "partner_address",
    "email": "partner_email",
}


def _retag(pairs: list[Pair], heading: str) -> list[Pair]:
    if not heading or _heading_field(heading) != "partners":
        return pairs
    return [Pair(_PARTNER_FIELDS.get(p.field, p.field), p.value, p.source) for p in pairs]


def _table_context(table: list[list[str]], flat: str, offsets: list[tuple[int, str]]) -> str:
    """The heading above a table, found by locating its first row in the running text."""
    key = "".join(norm(c) for c in dedupe(table[0]))[:40]
    pos = flat.find(key) if key else -1
    if pos < 0:
        return ""
    heading = ""
    for at, line in offsets:
        if at >= pos:
            break
        if _is_section(line):
            heading = line
    return heading


def read_view(text: str, tables: list[list[list[str]]]) -> FormView:
    view = FormView(lines=split_lines(text))
    offsets, flat = [], ""
    for line in view.lines:
        offsets.append((len(flat), line))
        flat += norm(line.replace("|", ""))
    for table in tables:
        rows = [_cells(r) for r in table if r]
        if rows:
            pairs, column_tables = _read_table(rows, flat, offsets)
            view.pairs.extend(pairs)
            view.column_tables.extend(column_tables)
    section = ""
    for i, line in enumerate(view.lines):
        if _is_section(line):
            section = line
        found = _line_pair(line)
        nxt = view.lines[i + 1] if i + 1 < len(view.lines) else ""
        if not found and match_label(line) and nxt:
            # a bare label line: the value is on the next line
            # ("联合单位" left empty, then the heading "联合单位基本情况" is no value of it)
            if (
                not _is_heading(nxt)
                and not _holds_pair(nxt)
                and not _starts_with_label(nxt)
                and _heading_field(nxt) is None
            ):
                found = [Pair(match_label(line) or "", nxt, "line")]
        elif len(found) == 1 and found[0].value and (
            _has_marks(found[0].value)
            or (_has_marks(nxt) and len(_BARE_MARK.sub("", nfkc(nxt)).strip()) <= 2)
        ):
            # a tick list; its first option's mark may sit on the next line ("护（）", "(V)")
            ticks = _tick_lines(found[0].value, view.lines[i + 1 : i + 12])
            found[0].value = "\n".join(ticks)
        elif len(found) == 1 and found[0].value and _continues(nxt):
            found[0].value += nxt.strip()  # a PDF line wrapped inside a narrow cell
        elif len(found) == 1 and found[0].value and _open_bracket(found[0].value) and nxt:
            found[0].value += "".join(_bracket_tail(view.lines[i + 1 : i + 8]))
        elif len(found) == 1 and found[0].value and _lists_on(found[0].value, nxt):
            found[0].value += "".join(_list_tail(view.lines[i + 1 : i + 8]))
        elif len(found) > 1:
            _wrapped_cells(found, nxt)
        view.pairs.extend(_retag(found, section))
    view.sections = _sections(view.lines)
    for p in view.pairs + view.sections:
        p.value = p.value.strip()
        if clean_value(p.value).upper() in _EMPTY or _PLACEHOLDER.match(nfkc(p.value).strip()):
            p.value = ""
    return view


# -- one view per document ------------------------------------------------------------------
# Classification reads a document's view (of its first 20,000 and 60,000 characters),
# then the form and table readers read it again, whole: building a view is the costliest
# step of extraction, and for all but long documents the three are the same text. The
# views live beside the document, not in it (a Document is pickled back from a worker
# and dumped to JSON for claims), and go when it goes.


@dataclass
class _Cached:
    text: str
    tables: list[list[list[str]]]
    view: FormView


_VIEWS: dict[int, dict[int, _Cached]] = {}  # id(document) → length of text read → view


def view_of(doc: Document, limit: int | None = None) -> FormView:
    """``read_view`` of the document's text (its first ``limit`` characters) and tables,
    built once while the document lives. Shared: a caller that adds to it copies first."""
    text = doc.text if limit is None else doc.text[:limit]
    views = _VIEWS.get(id(doc))
    if views is None:
        views = _VIEWS[id(doc)] = {}
        weakref.finalize(doc, _VIEWS.pop, id(doc), None)
    cached = views.get(len(text))
    # the text and tables are set once when the document is opened; compared anyway
    # (by identity first, so a hit costs nothing) in case a caller replaced them
    if cached is None or cached.text != text or cached.tables != doc.tables:
        cached = views[len(text)] = _Cached(text, doc.tables, read_view(text, doc.tables))
    return cached.view
