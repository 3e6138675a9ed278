"""What reading a form's text and tables yields: label/value pairs, sections, column tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from intake.extract.labels import is_header_word, match_label, norm


@dataclass
class Pair:
    field: str
    value: str
    source: str  # "table" | "line" | "section"


@dataclass
class ColumnTable:
    header: list[str]  # raw header cells
    fields: list[str | None]  # field of each column (None: a column we don't read)
    rows: list[list[str]]
    context: str = ""  # the heading above the table, when it can be found

    def column(self, name: str) -> int | None:
        return self.fields.index(name) if name in self.fields else None


@dataclass
class FormView:
    pairs: list[Pair] = field(default_factory=list)
    sections: list[Pair] = field(default_factory=list)  # heading field → body text
    column_tables: list[ColumnTable] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # text lines, instructions removed

    def values(self, name: str) -> list[str]:
        """Every non-empty value for a field: table pairs first, then lines, then sections."""
        found = [p.value for p in self.pairs if p.field == name and p.value]
        found += [s.value for s in self.sections if s.field == name and s.value]
        return found


# -- column tables: which rows are headers ---------------------------------------------------


def dedupe(cells: list[str]) -> list[str]:
    """Merged cells come back once per grid column: keep each run once."""
    out: list[str] = []
    for c in cells:
        if c and (not out or norm(out[-1]) != norm(c)):
            out.append(c)
    return out


def is_header_row(cells: list[str]) -> bool:
    filled = dedupe(cells)
    if len(filled) < 3:
        return False
    known = sum(1 for c in filled if is_header_word(c))
    return known >= 2 and known >= 0.7 * len(filled)


def is_sub_header(row: list[str]) -> bool:
    """The second row of a two-row header: only column names, under merged parents."""
    filled = dedupe(row)
    return bool(filled) and not row[0] and all(is_header_word(c) for c in filled)


def merge_sub_header(table: ColumnTable, row: list[str]) -> None:
    for i, cell in enumerate(row[: len(table.header)]):
        if cell and table.fields[i] is None:
            table.header[i], table.fields[i] = cell, match_label(cell)
