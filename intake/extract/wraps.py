"""Fragments of cell values that a PDF or a scan wrapped onto the next line.

A 4-column row ``单位名称 山东某某数据 统一社会信用代码 91370102MA3C`` is followed by
``有限公司 4D5E6M``: each fragment belongs to the cell above it whose value it can
still continue, matched by kind (Chinese text vs. a code), never by position alone.
"""

from __future__ import annotations

import re

from intake.extract.labels import nfkc

_CODE = re.compile(r"[0-9A-Za-z-]+")
# a value ending like this is a whole name already: the next line is a new row
_COMPLETE_NAME = re.compile(
    r"(公司|大学|学院|学校|研究院|研究所|中心|医院|集团|协会|局|厅|委|社|行|厂|店|所|市|省|县|区)$"
)


def can_grow(value: str, token: str) -> bool:
    """Whether ``token`` can be the wrapped tail of the cell value ``value``."""
    value = nfkc(value).strip()
    if not value:
        return False
    if _CODE.fullmatch(token):
        return bool(_CODE.fullmatch(value)) and len(value) + len(token) <= 18  # a USCC
    return not _CODE.fullmatch(value) and not _COMPLETE_NAME.search(value)


def wrapped_fragments(values: list[str], tokens: list[str]) -> list[tuple[int, str]]:
    """(index of the value, fragment) for every token, or [] when any has no open cell."""
    homes: list[int] = []
    for token in tokens:
        home = next(
            (i for i, v in enumerate(values) if i not in homes and can_grow(v, token)), None
        )
        if home is None:
            return []  # a fragment with no open cell above it: the next row, not a wrap
        homes.append(home)
    return list(zip(homes, tokens, strict=True))
