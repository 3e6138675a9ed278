"""Per-message rules: one small named rule per SPEC §3 code, run in the order of ``RULES``.

Each rule reads the facts gathered about one message and returns the plain-Chinese
messages it has to say (none = no deficiency). Checks that need other messages
(DUPLICATE_LEAD, a city's quota across packages) live in tracker, not here.
When a more specific code explains a problem, the broader one stays quiet
(no attachment at all → no "missing application form" as well).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from intake.extract import uscc as uscc_mod
from intake.extract.directions import NAMES
from intake.extract.fields import REQUIRED_OUTCOMES, FormReading
from intake.extract.merge import WORD_FORMATS, stem
from intake.extract.table import RecommendationTable
from intake.extract.units import same_unit
from intake.model import Channel, Deficiency, Document, Intent, Severity
from intake.policy import RoundPolicy

TASK_NAMES = {"theory": "理论研究", "technology": "技术创新", "application": "应用实践"}
OUTCOME_NAMES = {
    "theory": "研究报告",
    "technology": "创新成果",
    "application": "应用场景或实践案例",
}
_CN_NUM = "一二三四五六七八"


@dataclass
class Facts:
    """What intake learned about one message, as the rules see it."""

    policy: RoundPolicy
    intent: Intent
    channel: Channel | None = None
    city: str | None = None
    sender_city: str | None = None  # the city whose configured address sent this
    received_at: datetime | None = None
    documents: list[Document] = field(default_factory=list)
    forms: list[FormReading] = field(default_factory=list)  # one per application, merged
    table: RecommendationTable | None = None
    cloud: list[str] = field(default_factory=list)


Finding = str | tuple[int, str]


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    # each finding is a message about the whole mail, or (application index, message)
    check: Callable[[Facts], list[Finding]]


def direction_label(n: int | None) -> str:
    return f"（{_CN_NUM[n - 1]}）{NAMES[n]}" if n in NAMES else "未识别方向"


def _who(form: FormReading) -> str:
    return form.application.unit or f"文件“{form.name}”"


def _date_cn(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _files(facts: Facts) -> list[Document]:
    return [d for d in facts.documents if d.format not in ("zip", "rar", "7z", "eml")]


def _has_unreadable(facts: Facts) -> bool:
    return any(not d.readable for d in facts.documents)


# -- the rules, one function per code ---------------------------------------------------


def no_attachment(f: Facts) -> list[Finding]:
    if f.documents or f.cloud:
        return []
    return [
        "邮件未附带任何文件。请将揭榜挂帅申报书作为邮件附件重新发送（Word 版；盖章 PDF 版一并发送更佳）。"
    ]


def cloud_attachment(f: Facts) -> list[Finding]:
    if not f.cloud or any(d.role == "application_form" for d in f.documents):
        return []
    return [
        "邮件正文使用了云盘或“超大附件”链接，系统无法自动下载，链接也可能过期。"
        "请将申报书等材料直接作为邮件附件发送（文件较大时可压缩后分多封邮件发送）。"
    ]


def missing_application_form(f: Facts) -> list[Finding]:
    # an unreadable file may well be the form; a cloud link explains the absence better
    if not f.documents or f.cloud or _has_unreadable(f):
        return []
    if any(d.role == "application_form" for d in f.documents):
        return []
    names = "、".join(d.name for d in _files(f)[:5])
    return [f"附件（{names}）中未找到揭榜挂帅申报书。请按通知附件1的格式填写申报书后重新发送。"]


def unreadable_document(f: Facts) -> list[Finding]:
    out = []
    for d in f.documents:
        if not d.readable:
            why = f"（{d.error}）" if d.error else ""
            out.append(
                f"附件“{d.name}”无法打开{why}。请确认文件未损坏、未加密，重新发送可以直接打开的文件。"
            )
    return out


def direction_missing(f: Facts) -> list[Finding]:
    return [
        (i, f"申报书（{_who(x)}）未能识别榜单方向。请在“榜单方向”栏填写通知所列八个方向之一，如“（二）数据治理”。")
        for i, x in enumerate(f.forms)
        if not x.directions and x.application.direction is None
    ]


def multiple_directions(f: Facts) -> list[Finding]:
    return [
        (i, f"申报书（{_who(x)}）填写了多个榜单方向：{'、'.join(direction_label(n) for n in sorted(x.directions))}。"
        "每个揭榜单位限牵头申报 1 个榜单方向，请只保留一个。")
        for i, x in enumerate(f.forms)
        if len(x.directions) > 1 and x.application.direction is None
    ]


def task_type_missing(f: Facts) -> list[Finding]:
    return [
        (i, f"申报书（{_who(x)}）未能识别任务类别。请勾选或填写理论研究、技术创新、应用实践中的至少一项。")
        for i, x in enumerate(f.forms)
        if not x.application.task_types
    ]


def outcome_missing(f: Facts) -> list[Finding]:
    out = []
    for i, x in enumerate(f.forms):
        for t in x.application.task_types:
            if not (REQUIRED_OUTCOMES[t] & x.outcomes):
                out.append((i,
                    f"申报书（{_who(x)}）任务类别为“{TASK_NAMES[t]}”，但预期成果中未见{OUTCOME_NAMES[t]}。"
                    f"按通知要求，{TASK_NAMES[t]}类应至少形成一个{OUTCOME_NAMES[t]}，请在“预期成果”中写明。"
                ))
    return out


def consortium_too_large(f: Facts) -> list[Finding]:
    return [
        (i, f"申报书（{_who(x)}）联合体共 {len(x.application.partners) + 1} 家单位（揭榜单位 1 家、联合单位 "
        f"{len(x.application.partners)} 家），超过通知规定的总数不超过 3 家。请调整联合单位。")
        for i, x in enumerate(f.forms)
        if len(x.application.partners) + 1 > 3
    ]


def not_in_shandong(f: Facts) -> list[Finding]:
    return [
        (i, f"揭榜单位（{_who(x)}）的注册地不在山东省（统一社会信用代码 {x.application.uscc or '未填写'}）。"
        "按通知要求，揭榜单位注册地和主要办公场所应设在山东省辖区内；省外单位可作为联合单位参与。")
        for i, x in enumerate(f.forms)
        if x.in_shandong is False
    ]


def uscc_invalid(f: Facts) -> list[Finding]:
    out = []
    for i, x in enumerate(f.forms):
        code = x.application.uscc or uscc_mod.normalize(x.uscc_raw)
        if (x.uscc_raw or code) and not uscc_mod.is_valid(code):
            out.append((i,
                f"揭榜单位（{_who(x)}）的统一社会信用代码“{x.uscc_raw or code}”格式不正确或校验位不符。"
                "请核对营业执照或登记证书，填写 18 位统一社会信用代码。"
            ))
    return out


def wrong_channel(f: Facts) -> list[Finding]:
    if f.channel != "direct" or f.policy.role != "province":
        return []
    out = []
    for i, x in enumerate(f.forms):
        if x.application.unit_nature != "other":
            continue
        city = uscc_mod.city_of(x.application.uscc) or x.application.city
        bureau = f.policy.cities.get(city or "")
        if bureau:
            where = f"{bureau.name}大数据局（联系人：{bureau.contact}，电话：{bureau.phone}）"
        else:
            where = "所在设区市大数据局"
        deadline = f.policy.deadlines.get("city_applicant")
        by = f"于{_date_cn(deadline)}前" if deadline else ""
        out.append((i,
            f"{_who(x)}不属于中央驻鲁或省属企事业单位，不能直接向省大数据局报送。"
            f"请{by}将申报书报送至{where}，由市大数据局初审后统一推荐。"
        ))
    return out


def late(f: Facts) -> list[Finding]:
    if f.received_at is None or f.channel is None:
        return []
    end = f.policy.deadline_end(f.policy.deadline_key(f.channel))
    received = f.received_at if f.received_at.tzinfo else f.received_at.replace(tzinfo=UTC)
    if end is None or received <= end:
        return []
    local = received.astimezone(f.policy.tz)
    return [
        f"邮件到达时间为 {local:%Y-%m-%d %H:%M}，已超过截止时间 {_date_cn(end)} 24 时。"
        "逾期材料是否受理由省大数据局决定。"
    ]


def city_quota_exceeded(f: Facts) -> list[Finding]:
    if f.channel != "via_city":
        return []
    if f.table and f.table.rows:
        counts = Counter(
            r.recommendation.direction for r in f.table.rows if r.recommendation.direction
        )
    else:
        counts = Counter(x.application.direction for x in f.forms if x.application.direction)
    return [
        f"{f.city or '本市'}在榜单方向{direction_label(d)}推荐了 {n} 项，超过每个方向每市不超过 2 项的限额。"
        "请按推荐顺序保留 2 项后重新报送。"
        for d, n in sorted(counts.items())
        if n > 2
    ]


def missing_recommendation_table(f: Facts) -> list[Finding]:
    if f.channel != "via_city" or any(d.role == "recommendation_table" for d in f.documents):
        return []
    return [
        "市大数据局报送材料中未找到《推荐汇总表》（通知附件2）。请按推荐顺序填写推荐汇总表，盖章后随申报书一并报送。"
    ]


def _versions(f: Facts, form: FormReading) -> set[str]:
    names = set(form.application.documents)
    return {d.format for d in f.documents if d.name in names}


def missing_word_version(f: Facts) -> list[Finding]:
    if f.channel != "via_city":
        return []
    return [
        (i, f"申报书（{_who(x)}）缺少 Word 版（.doc/.docx/.wps），请补发。")
        for i, x in enumerate(f.forms)
        if not (_versions(f, x) & WORD_FORMATS)
    ]


def missing_pdf_version(f: Facts) -> list[Finding]:
    if f.channel != "via_city":
        return []
    return [
        (i, f"申报书（{_who(x)}）缺少盖章 PDF 版，请补发。")
        for i, x in enumerate(f.forms)
        if "pdf" not in _versions(f, x)
    ]


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b) and same_unit(a or "", b or "")


def table_mismatch(f: Facts) -> list[Finding]:
    if f.channel != "via_city" or not f.table:
        return []
    out = []
    for row in f.table.rows:
        unit = row.recommendation.unit
        if not any(
            _same(unit, x.application.unit) or stem(unit) in stem(" ".join(x.application.documents))
            for x in f.forms
        ):
            out.append(f"推荐汇总表中的“{unit}”在报送材料中没有对应的申报书。")
    for x in f.forms:
        if not any(_same(r.recommendation.unit, x.application.unit) for r in f.table.rows):
            out.append(f"申报书（{_who(x)}）未列入推荐汇总表。")
    return out


def unknown_unit_nature(f: Facts) -> list[Finding]:
    if f.channel != "direct":
        return []
    return [
        (i, f"无法判断揭榜单位（{_who(x)}）是否为中央驻鲁或省属单位（申报书未填写单位性质）。")
        for i, x in enumerate(f.forms)
        if x.application.unit_nature is None
    ]


def ocr_used(f: Facts) -> list[Finding]:
    return [
        (i, f"申报书（{_who(x)}）的内容由扫描件文字识别（OCR）读取，请人工核对。")
        for i, x in enumerate(f.forms)
        if x.scanned and x.has_content
    ]


def unverified_city_sender(f: Facts) -> list[Finding]:
    if not any(d.role == "recommendation_table" for d in f.documents):
        return []
    if f.sender_city is None:
        return [
            f"推荐汇总表来自未登记为{f.city or '任何设区市'}大数据局的邮箱地址，请核实发件单位。"
        ]
    if f.city and f.sender_city != f.city:
        return [f"发件邮箱登记为{f.sender_city}大数据局，但推荐汇总表显示为{f.city}，请核实。"]
    return []


RULES: tuple[Rule, ...] = (
    Rule("NO_ATTACHMENT", "error", no_attachment),
    Rule("CLOUD_ATTACHMENT", "error", cloud_attachment),
    Rule("UNREADABLE_DOCUMENT", "error", unreadable_document),
    Rule("MISSING_APPLICATION_FORM", "error", missing_application_form),
    Rule("MISSING_RECOMMENDATION_TABLE", "error", missing_recommendation_table),
    Rule("MISSING_WORD_VERSION", "error", missing_word_version),
    Rule("MISSING_PDF_VERSION", "error", missing_pdf_version),
    Rule("DIRECTION_MISSING", "error", direction_missing),
    Rule("MULTIPLE_DIRECTIONS", "error", multiple_directions),
    Rule("TASK_TYPE_MISSING", "error", task_type_missing),
    Rule("OUTCOME_MISSING", "error", outcome_missing),
    Rule("CONSORTIUM_TOO_LARGE", "error", consortium_too_large),
    Rule("NOT_IN_SHANDONG", "error", not_in_shandong),
    Rule("USCC_INVALID", "error", uscc_invalid),
    Rule("WRONG_CHANNEL", "error", wrong_channel),
    Rule("LATE", "error", late),
    Rule("CITY_QUOTA_EXCEEDED", "error", city_quota_exceeded),
    Rule("TABLE_MISMATCH", "warning", table_mismatch),
    Rule("UNKNOWN_UNIT_NATURE", "warning", unknown_unit_nature),
    Rule("OCR_USED", "warning", ocr_used),
    Rule("UNVERIFIED_CITY_SENDER", "warning", unverified_city_sender),
)


def run_checks(facts: Facts, rules: tuple[Rule, ...] = RULES) -> list[Deficiency]:
    """Every deficiency of a submission; other intents have none."""
    if facts.intent != "submission":
        return []
    out: list[Deficiency] = []
    for rule in rules:
        try:
            messages = rule.check(facts)
        except Exception:  # a rule that trips over odd data must not hide the others
            continue
        for m in messages:
            index, text = m if isinstance(m, tuple) else (None, m)
            out.append(Deficiency(rule.code, rule.severity, text, application=index))
    return out
