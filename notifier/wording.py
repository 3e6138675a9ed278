"""Applicant-facing Chinese wording: deficiency codes and display labels.

Codes, severities, titles and fixes are declared once in ``campaign.codes``; this module
fills them in for the round in force and filters what an applicant may read.

Warnings are for staff only: ``applicant_items`` drops them, whatever severity the
caller claims, so a staff-only remark can never reach an applicant.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from campaign import CHANNELS, CODES, SHANDONG_2025, Catalogue, current
from campaign.codes import FALLBACK, Severity
from notifier.templates import DeficiencyItem

log = logging.getLogger("jiebang.notifier")


@dataclass(frozen=True)
class Wording:
    """A code as an applicant reads it, for the round in force."""

    code: str
    severity: Severity
    title: str
    fix: str


def wording(code: str, catalogue: Catalogue | None = None) -> Wording:
    """The title and fix of *code* (campaign.codes), filled in for the round in force."""
    declared = CODES.get(code)
    if declared is None:
        log.warning("no wording for deficiency code %r; using a generic one", code)
        declared = FALLBACK
    cat = catalogue or current()
    return Wording(code, declared.severity, declared.title_for(cat), declared.fix_for(cat))


def title_of(code: str) -> str:
    """The code's title for staff views (the code itself when nobody declared it)."""
    return wording(code).title if code in CODES else code


TASK_TYPE_LABELS = SHANDONG_2025.task_labels
CHANNEL_LABELS = dict(CHANNELS)
STATUS_LABELS = {
    "incomplete": "材料待补正", "complete": "材料齐全，待评审", "under_review": "评审中",
    "selected": "已入选", "not_selected": "未入选", "withdrawn": "已撤回",
}


def _field(item: Any, name: str) -> str:
    value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
    return "" if value is None else str(value)


def applicant_items(deficiencies: Iterable[Any]) -> list[DeficiencyItem]:
    """The applicant-facing list: errors only, each with its title and fix, no repeats.

    Accepts anything with ``code``, ``severity`` and ``message`` (attributes or keys),
    e.g. intake's Deficiency or the tracker's stored rows.
    """
    out: list[DeficiencyItem] = []
    seen: set[tuple[str, str]] = set()
    for item in deficiencies:
        code, message = _field(item, "code"), _field(item, "message")
        said = wording(code)
        if said.severity != "error" or _field(item, "severity") != "error":
            continue
        if (code, message) in seen:
            continue
        seen.add((code, message))
        out.append(DeficiencyItem(code=code, title=said.title, message=message, fix=said.fix))
    return out
