"""What an acceptance request's documents are (SPEC section 7): each file is one kind of
outcome the form promised, or evidence, or nothing we can tell.

- ``report``: 研究报告 / 调研报告 / 白皮书 / 政策建议 (theory's outcome);
- ``innovation``: 软件著作权 / 专利 / 标准 / 系统 / 平台 (technology's outcome);
- ``scenario`` / ``case``: 应用场景 / 实践案例 (application's outcome);
- ``evidence``: 用户使用证明, 财务说明, 验收申请表 … (supports, satisfies no promise).

The file's name decides first (people name outcome files by what they are); the first
lines of its text only when the name says nothing. Words are the catalogue's own
(``campaign.catalogue.OUTCOME_WORDS``) plus the kinds of innovation outcome the notice
lists; an ambiguous file (two kinds in its name) counts as each.
"""

from __future__ import annotations

import re
import unicodedata
from types import MappingProxyType

from campaign.catalogue import OUTCOME_WORDS
from intake.model import Document

_EXTRA = MappingProxyType({
    "report": ("研究报告", "报告", "蓝皮书"),
    "innovation": ("软著", "著作权", "登记证书", "发明专利", "实用新型", "专利证书", "团体标准", "地方标准",
                   "行业标准", "系统", "平台", "软件"),
    "scenario": ("场景",),
    "case": ("案例",),
})
EVIDENCE_WORDS = ("使用证明", "应用证明", "用户证明", "财务说明", "经费", "决算", "审计报告", "验收申请",
                  "申请表", "自评", "佐证", "证明材料", "合同", "发票")
ORDER = ("report", "innovation", "scenario", "case")
_LEAD_LINES = 6


def _words(kind: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*OUTCOME_WORDS.get(kind, ()), *_EXTRA.get(kind, ()))))


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def kinds_in(text: str) -> list[str]:
    """The outcome kinds *text* names; evidence words outrank 报告 (审计报告 is no research)."""
    text = _norm(text)
    if not text:
        return []
    if any(w in text for w in EVIDENCE_WORDS):
        return ["evidence"]
    return [k for k in ORDER if any(w in text for w in _words(k))]


def outcome_kinds(doc: Document) -> list[str]:
    stem = doc.name.rsplit(".", 1)[0] if "." in doc.name else doc.name
    named = kinds_in(stem)
    if named:
        return named
    head = "\n".join(line for line in (doc.text or "").splitlines() if line.strip())
    return kinds_in("\n".join(head.splitlines()[:_LEAD_LINES]))
