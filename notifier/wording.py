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
from datetime import date, datetime
from typing import Any

from campaign import CODES, Catalogue, current
from campaign.clock import cn_date, cn_datetime
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




def _field(item: Any, name: str) -> str:
    value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
    return "" if value is None else str(value)


# LATE when an earlier version arrived in time: that version stands, the late one is kept
# for the record only (tracker.records.submissions: "第2版逾期送达，以第1版为准")
LATE_VERSION_IGNORED_FIX = "逾期送达的材料不予采用；申报已截止，无需也不能再补正或重新报送。"


def late_version_item(late: Iterable[int], standing: int, received_at: datetime | None,
                      deadline: date | None) -> DeficiencyItem:
    """The LATE item of versions *late* (received after *deadline*) while version *standing*,
    sent in time, stands: which version arrived when, which one counts, and that nothing
    more can be done."""
    numbers = "、".join(str(n) for n in late)
    when = f"于{cn_datetime(received_at)}" if received_at is not None else ""
    end = f"（{cn_date(deadline)}24时）" if deadline is not None else ""
    said = wording("LATE")
    return DeficiencyItem(code="LATE", title=said.title,
                          message=f"第{numbers}版{when}送达，已超过截止时间{end}，以按时送达的第{standing}版为准。",
                          fix=LATE_VERSION_IGNORED_FIX)


def only_what_applies(items: list[DeficiencyItem]) -> list[DeficiencyItem]:
    """The items a notice shows: late material is not corrected, so a LATE item stands alone;
    material that belongs to the city bureau is corrected there, so WRONG_CHANNEL does."""
    for code in ("LATE", "WRONG_CHANNEL"):
        alone = [i for i in items if i["code"] == code]
        if alone:
            return alone
    return items


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
