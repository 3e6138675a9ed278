"""Organisation names and places: the lead unit, partner lists, and which city a text names."""

from __future__ import annotations

import re
from collections.abc import Sequence

from intake.extract import uscc as uscc_mod
from intake.extract.labels import (
    clean_value,
    match_label,
    nfkc,
    norm,
    simplified,
    strip_numbering,
)
from intake.extract.pairs import ColumnTable, FormView

_SPLIT_UNITS = re.compile(r"[、,，;；/\n]|\s{2,}|(?<=[司院校学所心局会行部])\s+(?=\S)")
_UNIT_ROLE_WORDS = ("牵头", "揭榜单位", "主体")
_NO_PARTNER = {"无", "暂无", "没有", "无联合单位", "不涉及", "/", "-", "—", "否", "单独申报", "独立申报"}  # fmt: skip

# What people append to a unit's name in its cell: the stamp note, or its role in the
# consortium ("山东某某公司（牵头单位）", "山东大学（联合单位）"); never a part of the name.
_ROLE_TAIL = re.compile(
    r"\((?:盖章|公章|全称|签章|牵头单位|牵头方|牵头|揭榜单位|揭榜方|联合单位|合作单位|参与单位|"
    r"成员单位|联合|参与|合作)\)$"
)
_CODE_ONLY = re.compile(r"[0-9A-Za-z\-]{15,20}")

ORG_NAME = re.compile(
    r"^[\u4e00-\u9fffA-Za-z0-9()·]{2,40}(?:公司|大学|学院|学校|研究院|研究所|研究中心|中心|集团|医院|协会|学会|"
    r"联盟|银行|事务所|实验室|基地|局|厅|委员会|院|所|站|社)$"
)


# bare suffixes a wrapped PDF line leaves behind: never a partner on their own
_GENERIC = {"有限公司", "股份有限公司", "有限责任公司", "分公司", "公司", "集团", "大学", "学院", "研究院", "中心"}  # fmt: skip


# what a blank form prints where a name goes: signature lines, stamp notes, instructions,
# the date line, tick boxes ("法定代表人（签字）" is no unit, and every blank form has it)
_FORM_WORDS = re.compile(
    r"签字|签名|签章|盖章|公章|手写|请[在填选勾写按][^\s,，。;；]{0,10}|填写|填报|年\s*月\s*日|法定代表人|负责人|"
    r"联系人|[□☐■☑✓√]"
)
# what such text says around those words, and the marks a seal leaves in OCR
_FORM_FILLER = re.compile(r"[\s()（）\[\]【】<>《》:：_＿.。…·\-—,，、/☆★*○◎]+|单位|牵头|联合|名称|全称|日期|姓名|职务|是|否")


def form_text(name: str) -> bool:
    """Is *name* a blank form's printed text rather than an organisation's name?

    Only when its printed words, and the generic words around them, leave (almost)
    nothing: a sealed scan's "山东某某有限公☆公章" still names an organisation."""
    text = nfkc(name)
    if not _FORM_WORDS.search(text):
        return False
    return len(_FORM_FILLER.sub("", _FORM_WORDS.sub("", text))) < 3


def lead_unit(view: FormView) -> str | None:
    """The first value that looks like an organisation's name, else the first plausible one
    (never a blank form's printed text)."""
    candidates = []
    for value in view.values("unit"):
        first = clean_value(value.splitlines()[0]) if value.strip() else ""
        first = _ROLE_TAIL.sub("", nfkc(first)).strip()
        if first and not match_label(first) and len(first) <= 60 and not form_text(first):
            candidates.append(first)
    return next(
        (c for c in candidates if ORG_NAME.match(norm(c))), candidates[0] if candidates else None
    )


# The registered form of a short name: a place in front, a company form behind
# ("云图集团" → "山东云图集团股份有限公司"); never a different unit ("山东大学" is not
# "山东大学齐鲁医院", "XX集团" not "XX集团有限公司济南分公司").
_REGISTERED_TAIL = ("集团股份有限公司", "集团有限公司", "股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司")
_PLACE = "|".join(["山东省", "山东", *(c for city in uscc_mod.CITIES for c in (city, city[:-1]))])
_AFTER_NAME = r"(?=$|[^\u4e00-\u9fff]|盖章|公章|签章|印章)"


def _registered_of(short: str, name: str) -> bool:
    """Is *name* the registered form of *short* (same unit, place and company form added)?"""
    short, name = norm(short), norm(name)
    if len(short) < 2 or short == name or short.endswith(_REGISTERED_TAIL):
        return False
    at = name.find(short)
    if at < 0 or (at and not re.fullmatch(_PLACE, name[:at])):
        return False
    return name[at + len(short) :] in _REGISTERED_TAIL


def registered_name(lead: str | None, view: FormView, partners: Sequence[str] = ()) -> str | None:
    """The full registered name for a short one (a cover's "XX集团"), when the form gives
    exactly one: first among the unit values (the basic-info table), else anywhere in its
    text (the seal, a licence). Several different full names, or none: the name as read."""
    if not lead:
        return lead
    taken = {norm(p) for p in partners}
    values = [_ROLE_TAIL.sub("", nfkc(clean_value(v.splitlines()[0]))).strip() for v in view.values("unit") if v.strip()]
    fuller = {norm(v): v for v in values if _registered_of(lead, v) and norm(v) not in taken}
    if not fuller and len(norm(lead)) >= 4:  # "浪潮" alone is too short to look for in prose
        short = re.escape(nfkc(lead))
        pattern = re.compile(rf"(?:{_PLACE})?{short}(?:{'|'.join(_REGISTERED_TAIL)}){_AFTER_NAME}")
        for line in view.lines:
            for m in pattern.finditer(nfkc(line)):
                if _registered_of(lead, m.group(0)) and norm(m.group(0)) not in taken:
                    fuller[norm(m.group(0))] = m.group(0)
    return next(iter(fuller.values())) if len(fuller) == 1 else lead


_GLUED_CODE = re.compile(r"(?<=[\u4e00-\u9fff)）])[0-9A-HJ-NP-RTUWXY]{18}$")


def partner_names(text: str) -> list[str]:
    out = []
    for part in _SPLIT_UNITS.split(nfkc(text or "")):
        name = clean_value(strip_numbering(part.strip()))
        name = re.sub(r"^(?:联合单位|合作单位|参与单位)\d*[:：]?", "", name)
        name = _ROLE_TAIL.sub("", name).strip()
        name = _GLUED_CODE.sub("", name)  # "北京数安科技有限公司91110108MA0B1C2D37" (a PDF lost the space)
        if (
            name
            and name not in _NO_PARTNER
            and len(name) >= 4
            and not match_label(name)
            and not form_text(name)
            and not re.match(r"^(?:无|暂无|没有|不涉及|独立|单独)", name)
            and not _CODE_ONLY.fullmatch(name)  # "山东大学 12100000…": the code is no partner
        ):
            out.append(name)
    return out


def unit_names_in(text: str) -> list[str]:
    """Organisation-looking tokens of a free text or a table row read as text.

    A PDF cell wraps long names ("北京星河智能科技" / "有限公司"): a line that starts
    with a name's tail is joined to the token before it.
    """
    tokens: list[str] = []
    for line in nfkc(text or "").splitlines():
        parts = [strip_numbering(t.strip()) for t in re.split(r"[\s、,，;；|]+", line) if t.strip()]
        if (
            parts
            and tokens
            and not ORG_NAME.match(tokens[-1])
            and ORG_NAME.match(tokens[-1] + parts[0])
        ):
            tokens[-1] += parts.pop(0)
        tokens += parts
    out: list[str] = []
    for token in tokens:
        if (
            ORG_NAME.match(token)
            and token not in _GENERIC
            and not match_label(token)
            and token not in out
        ):
            out.append(token)
    return out


def table_units(table: ColumnTable) -> tuple[list[str], list[str], bool]:
    """(leads, partners, is_partner_table) from a column table of units."""
    col = table.column("unit") if table.column("unit") is not None else table.column("partners")
    if col is None:
        return [], [], False
    header = norm("".join(table.header)) + norm(table.context)
    partner_table = table.column("partners") is not None or any(
        w in header for w in ("联合", "合作", "参与", "成员", "协作")
    )
    role_col = next(
        (i for i, h in enumerate(table.header) if any(w in h for w in ("角色", "类型", "牵头"))),
        None,
    )
    leads: list[str] = []
    partners: list[str] = []
    for row in table.rows:
        name = clean_value(row[col]) if col < len(row) else ""
        if not name or name in _NO_PARTNER or match_label(name):
            continue
        role = norm(row[role_col]) if role_col is not None and role_col < len(row) else ""
        (leads if any(w in role for w in _UNIT_ROLE_WORDS) else partners).append(name)
    return leads, partners, partner_table or bool(leads)


def same_unit(a: str, b: str) -> bool:
    a, b = norm(a), norm(b)
    return bool(a and b) and (a == b or (min(len(a), len(b)) >= 6 and (a in b or b in a)))


def partners_of(view: FormView, lead: str | None) -> tuple[list[str], str | None]:
    from_tables: list[str] = []
    for table in view.column_tables:
        leads, partners, is_partner_table = table_units(table)
        if lead is None and leads:
            lead = leads[0]
        if is_partner_table:
            from_tables += partners
    written = [n for p in view.pairs if p.field == "partners" for n in partner_names(p.value)]
    # under a "联合单位" heading: only things that look like organisation names
    written += [n for s in view.sections if s.field == "partners" for n in unit_names_in(s.value)]
    names = from_tables + [n for n in written if not any(same_unit(n, t) for t in from_tables)]
    unique: list[str] = []
    for n in names:
        if not (lead and same_unit(n, lead)) and not any(same_unit(n, u) for u in unique):
            unique.append(n)
    return unique, lead


def city_in(text: str) -> str | None:
    """The first of the 16 cities named in a text ("济南", "济南市", "莱芜" → 济南市)."""
    text = nfkc(simplified(text or "")).replace("莱芜", "济南")
    hits = [(text.find(c[:-1]), c) for c in uscc_mod.CITIES if c[:-1] in text]
    return min(hits)[1] if hits else None


OTHER_PROVINCES = (
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "内蒙古",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
    "台湾",
)
