"""推荐汇总表 → ranked recommendations, from docx/xlsx/xls tables, a PDF's text lines, or
the text boxes OCR found on a photo or a scan of one (``Document.layout``).

A table read from a picture is read for what it is sure of: a row whose unit name OCR
read with doubt, or whose direction or rank cell it could not make out, carries its
``doubt``, and a picture nothing could be read from leaves a note; both go to staff
(``RecommendationTable.unsure``, under OCR_USED) and never count as a mismatch between
the table and the forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from intake.extract.checkboxes import selected
from intake.extract.directions import direction_hint, directions_in
from intake.extract.fields import task_types
from intake.extract.labels import clean_value, match_label, nfkc, norm
from intake.extract.pairs import ColumnTable, view_of
from intake.extract.units import city_in
from intake.model import Document, OcrBox, PageLayout, Recommendation, TaskType

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
    pictured: bool = False  # read by OCR from a photo or a scan
    doubt: str | None = None  # what OCR could not be sure of in this row (staff check it)


@dataclass
class RecommendationTable:
    rows: list[TableRow] = field(default_factory=list)
    city: str | None = None  # the recommending city named in the table
    # where two copies of the table in one mail (xlsx + sealed PDF…) say different things
    disagreements: list[str] = field(default_factory=list)
    # what staff must read from the picture themselves (a picture no row could be read from)
    notes: list[str] = field(default_factory=list)
    name: str = ""  # the file it was read from

    @property
    def recommendations(self) -> list[Recommendation]:
        return [r.recommendation for r in self.rows]

    @property
    def unsure(self) -> list[str]:
        """For staff: the picture notes, and each row read with doubt."""
        rows = [
            f"推荐汇总表{_file(self.name)}为图片或扫描件，第{i}行（{r.recommendation.unit}）的"
            f"{r.doubt}识别不确定，请人工核对。"
            for i, r in enumerate(self.rows, start=1)
            if r.doubt
        ]
        return [*self.notes, *rows]


def _file(name: str) -> str:
    return f"“{name}”" if name else ""


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


def _rows_from(ct: ColumnTable, doubts: list[str | None] | None = None) -> list[TableRow]:
    out: list[TableRow] = []
    last_direction: int | None = None
    unit_col, dir_col, rank_col = ct.column("unit"), ct.column("direction"), ct.column("rank")
    for index, row in enumerate(ct.rows):
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
                pictured=doubts is not None,
                doubt=doubts[index] if doubts is not None else None,
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
    notes: list[str] = []
    if not rows and doc.scanned:
        for page in doc.layout:
            rows += rows_from_layout(page)
    if not rows:
        rows = _rows_from_lines(join_wrapped_rows(view.lines))
        if doc.scanned:
            for row in rows:  # a scan's lines without its grid: which cell is which is a guess
                row.pictured, row.doubt = True, "内容（表格结构未能识别）"
    if doc.scanned and not rows:
        notes.append(f"推荐汇总表{_file(doc.name)}为图片或扫描件，未能识别出推荐的单位，请人工核对。")
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
    return RecommendationTable(rows=rows, city=city, notes=notes, name=doc.name)


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
    if not any(not scanned for _, scanned in readable):
        # no typed copy stands for the pictures: what could not be read of them is for staff
        merged.notes = [n for t, _ in copies for n in t.notes]
    if not readable:
        return merged
    merged.name = readable[0][0].name
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


# -- a table in a picture: rows and columns from where OCR found the text -------------------------
# RapidOCR gives each piece of text with its box (intake.documents.images straightens a
# tilted photo first). The header row is the one naming the columns (序号 · 榜单方向 ·
# 推荐顺序 · 揭榜单位 …, each possibly wrapped over two lines); every piece of text below
# it belongs to the column whose header's middle is nearest, and to the row between the
# two ruled lines around it (or, with no rules found, the row a 序号 starts).

_PICTURE_FIELDS = ("seq", "direction", "rank", "unit", "partners", "task_name", "task_types")
_SURE = 0.85  # OCR's score below which a unit's name is not taken on trust
_FOOTER = re.compile(r"^(注|备注|说明|联系人|填报人|审核人|负责人|联系电话)")


def rows_from_layout(page: PageLayout) -> list[TableRow]:
    """The recommendations of a table OCR read on one page (none: no such table)."""
    boxes = [b for b in page.boxes if b[4].strip()]
    if not boxes:
        return []
    height = sorted(b[3] - b[1] for b in boxes)[len(boxes) // 2]
    header = _header(boxes, height, page.rules)
    if header is None:
        return []
    columns, bottom = header
    fields = [f for f, _ in columns]
    centres = [c for _, c in columns]
    below = [b for b in boxes if (b[1] + b[3]) / 2 > bottom]
    bands = _bands(below, page.rules, bottom, height, columns)
    grid: list[list[str]] = []
    doubts: list[str | None] = []
    for band in bands:
        cells: list[list[OcrBox]] = [[] for _ in columns]
        for box in band:
            middle = (box[0] + box[2]) / 2
            cells[min(range(len(centres)), key=lambda i: abs(centres[i] - middle))].append(box)
        texts = ["".join(b[4].strip() for b in _reading_order(cell, height)) for cell in cells]
        if _FOOTER.match(nfkc(next((t for t in texts if t), ""))):
            break
        grid.append(texts)
        doubts.append(_doubt(dict(zip(fields, texts, strict=True)),
                             dict(zip(fields, cells, strict=True))))  # fmt: skip
    ct = ColumnTable(header=[f for f in fields], fields=list(fields), rows=grid)
    kept = [(row, doubt) for row, doubt in zip(grid, doubts, strict=True)
            if clean_value(_cell(row, ct.column("unit")))]  # fmt: skip
    rows = _rows_from(ColumnTable(ct.header, ct.fields, [r for r, _ in kept]), [d for _, d in kept])
    return [r for r in rows if r.recommendation.unit]


def _reading_order(cell: list[OcrBox], height: float) -> list[OcrBox]:
    """A cell's pieces line by line (a piece whose middle is within half a line of the
    line's first is on it), each line left to right."""
    lines: list[list[OcrBox]] = []
    for box in sorted(cell, key=lambda b: b[1] + b[3]):
        if lines and (box[1] + box[3]) / 2 - (lines[-1][0][1] + lines[-1][0][3]) / 2 < 0.5 * height:
            lines[-1].append(box)
        else:
            lines.append([box])
    return [b for line in lines for b in sorted(line, key=lambda b: b[0])]


def _header(boxes: list[OcrBox], height: float, rules: list[float]) -> tuple[list[tuple[str, float]], float] | None:
    """The table's columns (field, middle x) and the bottom of its header row: the row of
    a 揭榜单位 box that names the most columns (a wrapped name, 推荐 / 顺序, read joined)."""
    best: tuple[list[tuple[str, float]], float] | None = None
    for anchor in boxes:
        if match_label(anchor[4]) != "unit":
            continue
        middle = (anchor[1] + anchor[3]) / 2
        above = max((r for r in rules if r < middle), default=None)
        below = min((r for r in rules if r > middle), default=None)
        if above is not None and below is not None and below - above < 4 * height:
            top, bottom = above, below  # the header row between its ruled lines
        else:
            top, bottom = anchor[1] - 0.7 * height, anchor[3] + 0.7 * height
        row = [b for b in boxes if top <= (b[1] + b[3]) / 2 <= bottom]
        columns: list[tuple[str, float]] = []
        used: list[OcrBox] = []
        for box in sorted(row, key=lambda b: b[0]):
            name, piece = match_label(box[4]), [box]
            if name is None:  # half of a wrapped name: the piece above or below completes it
                for other in boxes:
                    if other is not box and _stacked(box, other, height):
                        pair = sorted([box, other], key=lambda b: b[1])
                        name = match_label(pair[0][4] + pair[1][4])
                        if name is not None:
                            piece = pair
                            break
            if name in _PICTURE_FIELDS and name not in (f for f, _ in columns):
                columns.append((name, (min(b[0] for b in piece) + max(b[2] for b in piece)) / 2))
                used += piece
        names = {f for f, _ in columns}
        if "unit" in names and names & {"direction", "rank", "seq"} and len(names) >= 3:
            edge = max(max(b[3] for b in used), bottom if below is not None and bottom == below else 0)
            if best is None or len(columns) > len(best[0]):
                best = (columns, edge)
    return best


def _stacked(box: OcrBox, other: OcrBox, height: float) -> bool:
    """*other* stands right above or below *box*, over the same columns (one cell's lines)."""
    shared = min(box[2], other[2]) - max(box[0], other[0])
    gap = max(other[1] - box[3], box[1] - other[3])
    return shared > 0.5 * min(box[2] - box[0], other[2] - other[0]) and gap < 0.6 * height


def _bands(boxes: list[OcrBox], rules: list[float], top: float, height: float,
           columns: list[tuple[str, float]]) -> list[list[OcrBox]]:  # fmt: skip
    """The data rows: the boxes between two ruled lines each, or, without rules, from one
    row number (序号) to the next."""
    lines = sorted(r for r in rules if r > top - 0.5 * height)
    if len(lines) >= 2:
        bands: list[list[OcrBox]] = [[] for _ in lines[:-1]]
        for box in boxes:
            middle = (box[1] + box[3]) / 2
            for i, (upper, lower) in enumerate(zip(lines, lines[1:], strict=False)):
                if upper < middle < lower:
                    bands[i].append(box)
                    break
        return [b for b in bands if b]
    # no rules: a row starts at each number in the 序号 column (else each line of text)
    seq = next((c for f, c in columns if f == "seq"), None)
    ordered = sorted(boxes, key=lambda b: b[1])
    starts = [b[1] for b in ordered if seq is not None and abs((b[0] + b[2]) / 2 - seq) < 2 * height
              and re.fullmatch(r"\d{1,3}", nfkc(b[4]).strip())]  # fmt: skip
    if not starts:
        starts = sorted({round(b[1] / height) * height for b in ordered})
    bands = [[] for _ in starts]
    for box in ordered:
        middle = (box[1] + box[3]) / 2
        index = max((i for i, s in enumerate(starts) if s - 0.5 * height <= middle), default=None)
        if index is not None:
            bands[index].append(box)
    return [b for b in bands if b]


def _doubt(texts: dict[str, str], cells: dict[str, list[OcrBox]]) -> str | None:
    """What in one row read from a picture cannot be taken on trust (None: nothing)."""
    unsure = []
    unit = cells.get("unit") or []
    if unit and min(b[5] for b in unit) < _SURE:
        unsure.append("揭榜单位名称")
    direction = texts.get("direction", "")
    if direction and _direction(direction) is None:
        unsure.append("榜单方向")
    rank = texts.get("rank", "")
    if rank and _rank(rank) is None:
        unsure.append("推荐顺序")
    return "、".join(unsure) or None


def settle_units(table: RecommendationTable, units: list[str | None]) -> None:
    """A unit name OCR read from a picture of the table, one or two characters off the
    name the mail's own form gives (the form is typed): the form's name, and no doubt
    left about it. Only when exactly one form is that close."""
    from intake.extract.merge import _near

    names = [u for u in units if u]
    for row in table.rows:
        rec = row.recommendation
        if not row.pictured or any(norm(rec.unit) == norm(u) for u in names):
            if row.pictured and row.doubt:
                row.doubt = _without(row.doubt, "揭榜单位名称")
            continue
        close = {u for u in names if _near(norm(rec.unit), norm(u), 6) is not None}
        if len(close) == 1:
            rec.unit = close.pop()
            row.doubt = _without(row.doubt, "揭榜单位名称")


def _without(doubt: str | None, what: str) -> str | None:
    left = [d for d in (doubt or "").split("、") if d and d != what]
    return "、".join(left) or None
