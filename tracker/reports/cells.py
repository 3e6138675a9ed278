"""One rule for every spreadsheet cell staff open: text that a spreadsheet would run stays text.

Subjects, unit and task names, addresses, file names and error text come from mail anyone can
send. Excel, WPS and LibreOffice treat a cell (or a CSV field) that starts with ``=``, ``+``,
``-`` or ``@`` as a formula — ``=HYPERLINK(…)`` becomes a live link, ``=cmd|…`` asks to run a
program — and a leading tab or CR, leading blanks or the full-width ``＝＋－＠`` that some
spreadsheets and IMEs fold to ASCII get there too. A leading apostrophe is how every one of
them is told "this is text" (OWASP's advice for CSV), so such strings get one. Numbers and
dates the code itself computes are not strings and are left alone.

Control characters other than tab, LF and CR are dropped first: an .xlsx cannot hold them, and
openpyxl refuses the whole workbook (the digest, ``jiebang export``) over a single one.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# what makes a spreadsheet read a cell as a formula (tab and CR: CSV importers split or strip on them)
_TRIGGERS = frozenset("=+-@\t\r＝＋－＠")
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl's ILLEGAL_CHARACTERS_RE


def _blank(ch: str) -> bool:
    # blanks and invisible format characters (zero-width space, BOM …) hide a trigger behind them
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def safe_cell(value: Any) -> Any:
    """*value* as it may go into an .xlsx or .csv cell: a risky string gains a leading ``'``."""
    if not isinstance(value, str):
        return value
    value = _NOT_IN_XLSX.sub("", value)
    for ch in value:
        if ch in _TRIGGERS:
            return "'" + value
        if not _blank(ch):
            break
    return value
