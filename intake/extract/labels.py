"""Label synonyms → field names, and the text normalisation every matcher shares.

Applicants rename, reorder and re-punctuate the form's labels freely, so fields are
found by what a label *says*, never by where it sits. Extend ``LABELS`` when a new
wording shows up; nothing else needs to change.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# field → synonyms, written as they appear after ``norm`` (NFKC, no whitespace).
LABELS: dict[str, tuple[str, ...]] = {
    "unit": (
        "揭榜单位",
        "揭榜单位名称",
        "揭榜单位全称",
        "申报单位",
        "申报单位名称",
        "牵头单位",
        "牵头单位名称",
        "牵头揭榜单位",
        "牵头申报单位",
        "单位名称",
        "单位全称",
        "揭榜主体",
        "承担单位",
        "申请单位",
        "申请单位名称",
        "企业名称",
        "机构名称",
        "揭榜方",
        "申报主体",
        "牵头揭榜单位名称",
    ),
    "uscc": (
        "统一社会信用代码",
        "社会信用代码",
        "信用代码",
        "统一信用代码",
        "统一代码",
        "组织机构代码",
        "机构代码",
        "USCC",
        "统一社会信用代码证号",
    ),
    "nature": (
        "单位性质",
        "单位类型",
        "单位类别",
        "机构性质",
        "机构类型",
        "企业性质",
        "企业类型",
        "单位属性",
        "隶属关系",
        "单位隶属关系",
        "性质",
        "主体性质",
        "单位性质(类型)",
    ),
    "city": (
        "所在市",
        "所在地市",
        "所在城市",
        "所属地市",
        "所属市",
        "所在设区市",
        "所属设区市",
        "地市",
    ),
    "region": ("所在地区", "所在地", "所属地区", "地区"),
    "address": (
        "注册地址",
        "注册地",
        "单位地址",
        "通讯地址",
        "通信地址",
        "办公地址",
        "地址",
        "注册所在地",
    ),
    "direction": (
        "榜单方向",
        "揭榜方向",
        "申报方向",
        "所属方向",
        "所属榜单方向",
        "申报榜单方向",
        "揭榜榜单",
        "申报榜单",
        "榜单",
        "方向",
        "选择方向",
        "揭榜挂帅方向",
        "所选方向",
        "榜单方向名称",
        "方向序号",
        "方向编号",
        "申报领域",
        "所属领域",
    ),
    "task_name": (
        "揭榜任务名称",
        "任务名称",
        "项目名称",
        "揭榜项目名称",
        "课题名称",
        "申报任务名称",
        "揭榜任务",
        "申报项目名称",
        "揭榜题目",
        "任务题目",
    ),
    "task_types": (
        "任务类别",
        "任务类型",
        "揭榜类别",
        "揭榜任务类别",
        "申报类别",
        "任务分类",
        "项目类别",
        "类别",
        "揭榜类型",
        "任务性质",
    ),
    "outcomes": (
        "预期成果",
        "预期成果形式",
        "成果形式",
        "预期目标成果",
        "主要成果",
        "预期产出",
        "成果类型",
        "预期成果及形式",
        "成果",
        "拟形成成果",
        "预期成果类型",
    ),
    "partners": (
        "联合单位",
        "联合单位名称",
        "联合申报单位",
        "合作单位",
        "合作单位名称",
        "参与单位",
        "参与单位名称",
        "联合体成员",
        "联合体成员单位",
        "联合体单位",
        "协作单位",
        "共同申报单位",
        "联合体",
        "联合揭榜单位",
    ),
    "email": (
        "电子邮箱",
        "电子邮件",
        "邮箱",
        "E-MAIL",
        "EMAIL",
        "MAIL",
        "电邮",
        "联系邮箱",
        "电子信箱",
        "邮件地址",
        "邮箱地址",
    ),
    "recommender": ("推荐单位", "推荐部门", "推荐单位名称"),
    "goal": ("总体目标", "总目标", "任务目标"),
    "stage_goals": ("阶段性目标", "阶段目标", "进度安排", "实施进度", "实施计划"),
    "rank": ("推荐顺序", "推荐排序", "排序", "推荐次序", "顺序", "推荐序号", "排名", "推荐名次"),
    "seq": ("序号", "编号"),
    "contact": ("联系人", "项目负责人", "负责人"),
    "phone": ("联系电话", "手机", "电话", "手机号码", "联系方式"),
    "date": ("申报日期", "填报日期", "日期"),
}

# Column headers of tables that are not fields of ours but tell a header row from data.
HEADER_WORDS = frozenset(
    {
        "承担任务",
        "任务分工",
        "备注",
        "角色",
        "姓名",
        "职务",
        "职称",
        "职务/职称",
        "专业",
        "工作单位",
        "时间节点",
        "阶段",
        "分工",
        "单位角色",
        "成员类型",
        "类型",
        "是否牵头",
        "法定代表人",
        "所在地区",
        "联系人",
        "联系电话",
        "所在省市",
        "注册地",
        "成立时间",
        "成立日期",
        "注册资本",
        "员工人数",
        "职工人数",
        "职工总数",
        "邮编",
        "邮政编码",
        "传真",
        "单位简介",
        "主营业务",
        "身份证号",
        "开户银行",
        "账号",
        "网址",
        "单位网址",
        "营业收入",
        "研发投入",
        "办公电话",
        "座机",
    }
)

# Tails people add to a label: "揭榜单位（盖章）", "单位名称(全称)", "任务类别（可多选）".
# (any short trailing parenthesis is an instruction or a stamp note, never part of a label)
_LABEL_TAIL = re.compile(r"\([^()]{0,24}\)$")
_LABEL_INDEX = re.compile(r"(?<=[\u4e00-\u9fff])(?:[0-9]{1,2}|[①-⑩])$")  # "联合单位1", "合作单位②"
_NUMBERING = re.compile(
    r"^(?:第[一二三四五六七八九十]+[部分章节项]|[一二三四五六七八九十]+[、.．]|"
    r"\([一二三四五六七八九十0-9]+\)|[0-9]{1,2}[、.．](?![0-9])|[①-⑳]|[★*●·•\-—]+)\s*"
)
_SPACE = re.compile(r"\s+")
# Only the characters of labels, options and city names: a full converter is not needed
# to read a form, and the unit's own name is kept exactly as written.
_T2S = str.maketrans(
    "單統會碼稱類別務聯發術據權護資營運產業屬質經濟東島臨煙濰寧濱澤莊萊蕪實踐應創論報場標郵"
    "電話繫負責體協參與織機構註冊區數倉擇選項號碼證總階預達標範題",
    "单统会码称类别务联发术据权护资营运产业属质经济东岛临烟潍宁滨泽庄莱芜实践应创论报场标邮"
    "电话系负责体协参与织机构注册区数仓择选项号码证总阶预达标范题",
)
_TRADITIONAL = re.compile("[" + "".join(map(chr, _T2S)) + "]")
_CJK = "\u3400-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}()])\s+(?=[{_CJK}()])")


def nfkc(text: str) -> str:
    """NFKC: full-width letters, digits, colons and brackets become their ASCII forms."""
    return unicodedata.normalize("NFKC", text or "")


def simplified(text: str) -> str:
    """Traditional characters of the form's own words → simplified (HK/TW-typed forms)."""
    # translate looks up every character; most text has none to change, which a search
    # (C speed, no copy) tells first
    if not text or not _TRADITIONAL.search(text):
        return text or ""
    return text.translate(_T2S)


def norm(text: str) -> str:
    """The comparison form of any label or name: NFKC, no whitespace, upper-case Latin."""
    # asked of the same short cells and line heads tens of thousands of times per form,
    # and of each whole line several times (splitting, locating tables, headings)
    size = len(text or "")
    if size <= _KEYED_CHARS:
        return _short_norm(text)
    return _line_norm(text) if size <= _LINE_CHARS else _norm(text)


def _norm(text: str) -> str:
    return _SPACE.sub("", nfkc(text)).upper()


def clean_value(text: str) -> str:
    """A value as shown to people: trimmed, stray spaces between Chinese characters dropped."""
    # a form typed as prose ends each value with "。" ("单位名称：甲公司。信用代码：…")
    value = nfkc(text).replace("\u3000", " ").strip(" \t\r\n:;,，；：、|。")
    value = _CJK_GAP.sub("", value)
    return _SPACE.sub(" ", value).strip()


def strip_numbering(text: str) -> str:
    """Drop a leading outline number such as "三、", "（二）", "1." or a bullet."""
    previous = None
    while previous != text:
        previous, text = text, _NUMBERING.sub("", text, count=1)
    return text


def label_key(text: str) -> str:
    """What a cell or line head looks like once numbering, colon and tails are gone."""
    # Reading one form asks this of the same cells and line heads again and again (each
    # row by several readers, each line as label, heading and section): short ones, all
    # that a label can be, are remembered, in a bounded cache shared by all forms.
    return _short_label_key(text) if len(text) <= _KEYED_CHARS else _label_key(text)


def _label_key(text: str) -> str:
    key = strip_numbering(norm(simplified(text))).rstrip(":").strip()
    key = _LABEL_TAIL.sub("", key).rstrip(":")
    return _LABEL_INDEX.sub("", key)


_KEYED_CHARS = 64
_short_label_key = functools.lru_cache(maxsize=16_384)(_label_key)
_short_norm = functools.lru_cache(maxsize=16_384)(_norm)
# longer lines: NFKC of a line with full-width punctuation is the slow path (~30 µs for
# 1,000 characters), and fewer of them are worth keeping
_LINE_CHARS = 1_000
_line_norm = functools.lru_cache(maxsize=1_024)(_norm)


_BY_SYNONYM: dict[str, str] = {syn.upper(): field for field, syns in LABELS.items() for syn in syns}
# Longest first, so "揭榜任务名称" wins over "揭榜任务" at the head of a line.
_SYNONYMS_LONGEST = sorted(_BY_SYNONYM, key=len, reverse=True)


def match_label(text: str) -> str | None:
    """The field a whole cell / line names, or None (``"揭榜单位（盖章）："`` → ``"unit"``)."""
    if not text or len(text) > 40:
        return None
    return _BY_SYNONYM.get(label_key(text))


def is_label(text: str) -> bool:
    return match_label(text) is not None


def is_header_word(text: str) -> bool:
    return label_key(text) in HEADER_WORDS or is_label(text)


def synonyms_longest_first() -> list[str]:
    return list(_SYNONYMS_LONGEST)


def field_of(synonym: str) -> str:
    return _BY_SYNONYM[synonym.upper()]
