"""推荐汇总表 → ranked recommendations, from docx/xlsx/xls tables or a PDF's text lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from intake.extract.checkboxes import selected
from intake.extract.directions import direction_hint, directions_in
from intake.extract.fields import task_types
from intake.extract.labels import clean_value, match_label, nfkc, norm
from intake.extract.pairs import ColumnTable, view_of
from intake.extract.units import city_in
from intake.model import Document, Recommendation, TaskType

_UNIT_END = re.compile(
    r"[\u4e00-\u9fff()（）A-Za-z]{3,60}(?:有限责任公司|股份有限公司|有限公司|集团|公司|大学|学院|研究院|研究所|"
    r"研究中心|中心|医院|协会|学会|联盟|银行|局|厅|院|所)"
)
_CN_RANK = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


@dataclass
class TableRow:
    recommendation: Recommendation
    partners: list[str] = field(default_factory=list)
    task_types: list[TaskType] = field(default_factory=list)


@dataclass
class RecommendationTable:
    rows: list[TableRow] = field(default_factory=list)
    city: str | None = None  # the recommending city named in the table
    # where two copies of the table in one mail (xlsx + sealed PDF…) say different things
    disagreements: list[str] = field(default_factory=list)

    @property
    def recommendations(self) -> list[Recommendation]:
        return [r.recommendation for r in self.rows]


def _rank(text: str) -> int | None:
    text = nfkc(text or "").strip()
    m = re.search(r"\d+", text)
    if m:
        return int(m.group(0))
    m = re.search(r"[一二三四五]", text)
    return _CN_RANK[m.group(0)] if m else None


def _direction(text: str) -> int | None:
    found = directions_in(text or "")
    return next(iter(found)) if len(found) == 1 else None


def _is_table(ct: ColumnTable) -> bool:
    return ct.column("unit") is not None and (
        ct.column("direction") is not None or ct.column("rank") is not None
    )


def _cell(row: list[str], col: int | None) -> str:
    return row[col] if col is not None and col < len(row) else ""


def _rows_from(ct: ColumnTable) -> list[TableRow]:
    out: list[TableRow] = []
    last_direction: int | None = None
    unit_col, dir_col, rank_col = ct.column("unit"), ct.column("direction"), ct.column("rank")
    for row in ct.rows:
        unit = clean_value(_cell(row, unit_col))
        if not unit or match_label(unit) or norm(unit).startswith(("注", "合计", "说明", "联系人")):
            continue
        raw_dir = _cell(row, dir_col)
        # a direction merged over several rows comes back empty (xlsx) or repeated (docx)
        direction = _direction(raw_dir) if raw_dir.strip() else last_direction
        last_direction = direction
        partners_cell = _cell(row, ct.column("partners"))
        partners = [
            p
            for p in re.split(r"[、,，;；\n]", nfkc(partners_cell))
            if clean_value(p) not in ("", "无", "/")
        ]
        types, _ = selected(_cell(row, ct.column("task_types")), task_types())
        out.append(
            TableRow(
                Recommendation(
                    rank=_rank(_cell(row, rank_col)) or 0,
                    direction=direction,
                    unit=unit,
                    task_name=clean_value(_cell(row, ct.column("task_name"))) or None,
                ),
                partners=[clean_value(p) for p in partners],
                task_types=[t for t in task_types() if t in types],
            )
        )
    _fill_ranks(out)
    return out


def _fill_ranks(rows: list[TableRow]) -> None:
    """No 推荐顺序 column: the order within each direction is the rank."""
    seen: dict[int | None, int] = {}
    for row in rows:
        seen[row.recommendation.direction] = seen.get(row.recommendation.direction, 0) + 1
        if not row.recommendation.rank:
            row.recommendation.rank = seen[row.recommendation.direction]


def _rows_from_lines(lines: list[str]) -> list[TableRow]:
    """A PDF whose table lost its grid: one recommendation per line naming a unit and a direction."""
    out: list[TableRow] = []
    last_direction: int | None = None
    for line in lines:
        text = nfkc(line)
        unit_m = _UNIT_END.search(re.sub(r"\([一二三四五六七八]\)[^\s]*", " ", text))
        if not unit_m or sum(1 for c in text.split() if match_label(c)) >= 2:
            continue
        found = directions_in(text[: unit_m.start()] if unit_m.start() else text)
        direction = next(iter(found)) if len(found) == 1 else last_direction
        if direction is None:
            continue
        last_direction = direction
        after_dir = text[: unit_m.start()]
        ranks = re.findall(r"(?<![\d(])\b(\d)\b(?![\d)])", after_dir)
        rank = int(ranks[-1]) if len(ranks) >= 2 else 0  # 序号 then 推荐顺序
        out.append(
            TableRow(
                Recommendation(rank=rank, direction=direction, unit=clean_value(unit_m.group(0)))
            )
        )
    _fill_ranks(out)
    return out


_ROW_START = re.compile(r"^\s*\d{1,2}\s")
_CJK_TOKEN = re.compile(r"^[\u4e00-\u9fff()（）]+$")


def join_wrapped_rows(lines: list[str]) -> list[str]:
    """A table read from a scan or a grid-less PDF: a long unit name wraps inside its cell.

    ``1 数据治理 淄博智数信 李四 0533-`` / ``息技术有限 1234567`` / ``公司``: the row's
    open name (a long Chinese fragment that is no direction and no whole name yet) takes
    the first Chinese fragment of each following line until the next numbered row.
    """
    out: list[str] = []
    open_at: int | None = None  # index of the open fragment among the last row's tokens
    tokens: list[str] = []
    for line in lines:
        if _ROW_START.match(nfkc(line)):
            if tokens:
                out.append(" ".join(tokens))
            tokens = nfkc(line).split()
            open_at = next(
                (i for i, t in enumerate(tokens) if _CJK_TOKEN.match(t) and len(t) >= 4
                 and not directions_in(t) and not _UNIT_END.fullmatch(t)),
                None,
            )  # fmt: skip
            continue
        fragment = next((t for t in nfkc(line).split() if _CJK_TOKEN.match(t)), None)
        if tokens and open_at is not None and fragment and ":" not in nfkc(line):
            tokens[open_at] += fragment
            if _UNIT_END.fullmatch(tokens[open_at]):
                open_at = None
            continue
        if tokens:
            out.append(" ".join(tokens))
            tokens, open_at = [], None
        out.append(line)
    if tokens:
        out.append(" ".join(tokens))
    return out


def read_recommendations(doc: Document) -> RecommendationTable:
    view = view_of(doc)
    rows: list[TableRow] = []
    for ct in view.column_tables:
        if _is_table(ct):
            rows += _rows_from(ct)
    if not rows:
        rows = _rows_from_lines(join_wrapped_rows(view.lines))
    # The title, stamp line and file name speak for the whole table; a data row does not
    # (its partner "青岛大学" says nothing about which city recommends).
    heads = [ln for ln in view.lines[:8] if _HEAD_LINE.search(ln) and not _is_data_line(ln, rows)]
    city = None
    for value in view.values("recommender") + heads + [doc.name]:
        city = city_in(value)
        if city:
            break
    if rows and all(r.recommendation.direction is None for r in rows):
        # a table per direction: "数据安全方向推荐汇总表", or a note under the table
        hint = direction_hint("\n".join([*heads, doc.name])) or _note_direction(view.lines)
        for row in rows:
            row.recommendation.direction = hint
    return RecommendationTable(rows=rows, city=city)


_HEAD_LINE = re.compile(r"大数据局|汇总表|推荐|填报单位|报送单位|盖章|揭榜挂帅|^\S{2,4}市$")


def _is_data_line(line: str, rows: list[TableRow]) -> bool:
    key = norm(line)
    return any(norm(r.recommendation.unit) in key for r in rows)


def _note_direction(lines: list[str]) -> int | None:
    for line in lines:
        if norm(line).startswith(("注", "备注", "说明")):
            found = directions_in(line)
            if len(found) == 1:
                return next(iter(found))
    return None


def _same_row_unit(a: str, b: str, fuzzy: bool) -> bool:
    from intake.extract.merge import _near

    na, nb = norm(a), norm(b)
    if not na or not nb:
        return False
    return na == nb or (fuzzy and _near(na, nb, 6) is not None)


_FUZZY_PAIRS = 2500


def combine_tables(copies: list[tuple[RecommendationTable, bool]]) -> RecommendationTable:
    """The recommendations of every 推荐汇总表 in a mail: (table, read from a scan) each.

    One table sent twice (the xlsx and its sealed PDF, a docx and a scan) counts once:
    rows that agree are one recommendation; where the copies differ the typed copy's
    rows stand and the difference is noted for staff. Tables that share no unit (one
    per direction) are simply added up. A copy that yielded no rows is not compared.
    """
    readable = [(t, scanned) for t, scanned in copies if t.rows]
    readable.sort(key=lambda c: (c[1], -len(c[0].rows)))  # typed and fullest first
    merged = RecommendationTable()
    merged.city = next((t.city for t, _ in copies if t.city), None)
    if not readable:
        return merged
    merged.rows = list(readable[0][0].rows)
    for table, scanned in readable[1:]:
        # near matches only for a scan of a table of a city's size (hostile tables are long)
        fuzzy = scanned and len(table.rows) * len(merged.rows) <= _FUZZY_PAIRS
        exact = {norm(m.recommendation.unit): m for m in reversed(merged.rows)}
        pairs = [
            (row, exact.get(norm(row.recommendation.unit)) or (
                next((m for m in merged.rows
                      if _same_row_unit(m.recommendation.unit, row.recommendation.unit, True)), None)
                if fuzzy else None))
            for row in table.rows
        ]  # fmt: skip
        if not any(m is not None for _, m in pairs):
            merged.rows += table.rows  # another table, not a copy
            continue
        before = list(merged.rows)
        matched = {id(m) for _, m in pairs if m is not None}
        # a scan's garbled name is no evidence of a different row while the counts agree
        count_differs = not scanned or len(table.rows) != len(before)
        for row, mine in pairs:
            rec = row.recommendation
            if mine is None:
                if count_differs:
                    merged.disagreements.append(
                        f"推荐汇总表的不同版本不一致：“{rec.unit}”只出现在其中一个版本中。")
                if not scanned:
                    merged.rows.append(row)
                continue
            theirs = mine.recommendation
            if rec.direction and theirs.direction and rec.direction != theirs.direction:
                merged.disagreements.append(
                    f"推荐汇总表的不同版本中，“{theirs.unit}”的榜单方向不一致。")
            elif not scanned and rec.rank and theirs.rank and rec.rank != theirs.rank:
                merged.disagreements.append(
                    f"推荐汇总表的不同版本中，“{theirs.unit}”的推荐顺序不一致。")
        for mine in before:
            if id(mine) not in matched and count_differs:
                merged.disagreements.append(
                    f"推荐汇总表的不同版本不一致：“{mine.recommendation.unit}”只出现在其中一个版本中。")
    merged.disagreements = list(dict.fromkeys(merged.disagreements))
    return merged
