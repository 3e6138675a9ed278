"""Per-message rules: one small named rule per deficiency code (docs/rules.md), run in the order of ``RULES``.

Each rule reads the facts gathered about one message and returns the plain-Chinese
messages it has to say (none = no deficiency). Checks that need other messages
(DUPLICATE_LEAD, a city's quota across packages) live in tracker; within one mail they
are found here too, for `inspect` (the tracker's records take them from its cross rules).
When a more specific code explains a problem, the broader one stays quiet
(no attachment at all → no "missing application form" as well).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from campaign import DeficiencyCode, cn_number, code
from campaign.clock import cn_date
from campaign.codes import quota_exceeded_message
from campaign.labels import direction_label
from campaign.policy import RoundPolicy
from intake.extract import uscc as uscc_mod
from intake.extract.fields import FormReading
from intake.extract.labels import norm
from intake.extract.merge import WORD_FORMATS, stem
from intake.extract.table import RecommendationTable
from intake.extract.units import same_unit
from intake.model import Channel, Deficiency, Document, Intent

log = logging.getLogger("jiebang.intake.checks")


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
    # scanned copies that could not be tied to any typed form of the mail (staff look)
    unpaired_scans: list[FormReading] = field(default_factory=list)


Finding = str | tuple[int, str]


@dataclass(frozen=True)
class Rule:
    """One per-message rule: a declared code and the check that finds it."""

    code: DeficiencyCode
    # each finding is a message about the whole mail, or (application index, message)
    check: Callable[[Facts], list[Finding]]


RULES: list[Rule] = []  # in the order they run (and their findings are listed)


def rule(name: str) -> Callable[[Callable[[Facts], list[Finding]]], Callable[[Facts], list[Finding]]]:
    """Register the decorated check under the catalogue's code *name* (KeyError if undeclared)."""
    declared = code(name)

    def register(check: Callable[[Facts], list[Finding]]) -> Callable[[Facts], list[Finding]]:
        RULES.append(Rule(declared, check))
        return check

    return register


@dataclass
class CheckReport:
    """What checking found, and which rules hit and which raised."""

    deficiencies: list[Deficiency] = field(default_factory=list)
    hit: list[str] = field(default_factory=list)
    raised: list[str] = field(default_factory=list)  # codes whose rule raised: staff must look


def _who(form: FormReading) -> str:
    return form.application.unit or f"文件“{form.name}”"


def _files(facts: Facts) -> list[Document]:
    return [d for d in facts.documents if d.format not in ("zip", "rar", "7z", "eml")]


def _ocr_only(form: FormReading) -> bool:
    """Every field of this application came from OCR of a scan (or nothing could be read).

    OCR drops ticks, stamps blot characters: a field such a form did not yield was not
    read, which is not the same as left out. "Missing" findings step back for OCR_USED.
    """
    return form.scanned


def _has_unreadable(facts: Facts) -> bool:
    return any(not d.readable for d in facts.documents)


# -- the rules, one function per code ---------------------------------------------------


def _versions(f: Facts, form: FormReading) -> set[str]:
    names = set(form.application.documents)
    return {d.format for d in f.documents if d.name in names}


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b) and same_unit(a or "", b or "")


@rule("NO_ATTACHMENT")
def no_attachment(f: Facts) -> list[Finding]:
    if f.documents or f.cloud:
        return []
    return [
        "邮件未附带任何文件。"
    ]


@rule("CLOUD_ATTACHMENT")
def cloud_attachment(f: Facts) -> list[Finding]:
    if not f.cloud or any(d.role == "application_form" for d in f.documents):
        return []
    return [
        "邮件正文使用了云盘或“超大附件”链接，未直接附带申报书，系统无法下载存档。"
    ]


@rule("UNREADABLE_DOCUMENT")
def unreadable_document(f: Facts) -> list[Finding]:
    out: list[Finding] = []
    for d in f.documents:
        if not d.readable:
            why = f"（{d.error}）" if d.error else ""
            out.append(
                f"附件“{d.name}”无法打开{why}。"
            )
    return out


@rule("MISSING_APPLICATION_FORM")
def missing_application_form(f: Facts) -> list[Finding]:
    # an unreadable file may well be the form; a cloud link explains the absence better
    if not f.documents or f.cloud or _has_unreadable(f):
        return []
    if any(d.role == "application_form" for d in f.documents):
        return []
    names = "、".join(d.name for d in _files(f)[:5])
    return [f"附件（{names}）中未找到揭榜挂帅申报书。"]


@rule("MISSING_RECOMMENDATION_TABLE")
def missing_recommendation_table(f: Facts) -> list[Finding]:
    if f.channel != "via_city" or any(d.role == "recommendation_table" for d in f.documents):
        return []
    if any(not x.has_content for x in f.unpaired_scans):
        return []  # a scan OCR could not read may be the table: staff look (OCR_USED)
    return [
        "市大数据局报送材料中未找到《推荐汇总表》（通知附件2）。"
    ]


@rule("MISSING_WORD_VERSION")
def missing_word_version(f: Facts) -> list[Finding]:
    if f.channel != "via_city":
        return []
    return [
        (i, f"申报书（{_who(x)}）缺少 Word 版（.doc/.docx/.wps）。")
        for i, x in enumerate(f.forms)
        if not (_versions(f, x) & WORD_FORMATS)
    ]


@rule("MISSING_PDF_VERSION")
def missing_pdf_version(f: Facts) -> list[Finding]:
    if f.channel != "via_city" or f.unpaired_scans:
        return []  # a scan nobody could tie to its form may be that PDF: staff look (OCR_USED)
    return [
        (i, f"申报书（{_who(x)}）缺少盖章 PDF 版。")
        for i, x in enumerate(f.forms)
        if "pdf" not in _versions(f, x)
    ]


@rule("DIRECTION_MISSING")
def direction_missing(f: Facts) -> list[Finding]:
    cat = f.policy.catalogue
    return [
        (i, f"申报书（{_who(x)}）未能识别榜单方向（“榜单方向”栏应为通知所列{cn_number(cat.direction_count)}个方向之一，"
         f"如“{cat.direction_label(min(2, cat.direction_count))}”）。")
        for i, x in enumerate(f.forms)
        if not x.directions and x.application.direction is None and not _ocr_only(x)
    ]


@rule("MULTIPLE_DIRECTIONS")
def multiple_directions(f: Facts) -> list[Finding]:
    return [
        (i, f"申报书（{_who(x)}）填写了多个榜单方向：{'、'.join(direction_label(n) for n in sorted(x.directions))}。")
        for i, x in enumerate(f.forms)
        if len(x.directions) > 1 and x.application.direction is None and not _ocr_only(x)
    ]


@rule("TASK_TYPE_MISSING")
def task_type_missing(f: Facts) -> list[Finding]:
    return [
        (i, f"申报书（{_who(x)}）未能识别任务类别。")
        for i, x in enumerate(f.forms)
        if not x.application.task_types and not _ocr_only(x)
    ]


@rule("OUTCOME_MISSING")
def outcome_missing(f: Facts) -> list[Finding]:
    out: list[Finding] = []
    for i, x in enumerate(f.forms):
        if _ocr_only(x):
            continue  # a tick OCR could not see is no missing outcome
        for key in x.application.task_types:
            t = f.policy.catalogue.task_type(key)
            if t is not None and not (t.outcomes & x.outcomes):
                out.append((i,
                    f"申报书（{_who(x)}）任务类别为“{t.label}”，但预期成果中未见{t.outcome}。"
                ))
    return out


@rule("CONSORTIUM_TOO_LARGE")
def consortium_too_large(f: Facts) -> list[Finding]:
    limit = f.policy.catalogue.consortium_max
    return [
        (i, f"申报书（{_who(x)}）联合体共 {len(x.application.partners) + 1} 家单位（揭榜单位 1 家、联合单位 "
        f"{len(x.application.partners)} 家），超过通知规定的 {limit} 家。")
        for i, x in enumerate(f.forms)
        if len(x.application.partners) + 1 > limit
    ]


@rule("NOT_IN_SHANDONG")
def not_in_shandong(f: Facts) -> list[Finding]:
    return [
        (i, f"揭榜单位（{_who(x)}）的注册地不在{f.policy.catalogue.province}（统一社会信用代码 {x.application.uscc or '未填写'}）。")
        for i, x in enumerate(f.forms)
        if x.in_shandong is False
        and (not _ocr_only(x) or uscc_mod.is_valid(x.application.uscc))
    ]


@rule("USCC_INVALID")
def uscc_invalid(f: Facts) -> list[Finding]:
    out: list[Finding] = []
    for i, x in enumerate(f.forms):
        if _ocr_only(x):
            continue  # OCR misreads a character of a code more often than applicants do
        code = x.application.uscc or uscc_mod.normalize(x.uscc_raw)
        if (x.uscc_raw or code) and not uscc_mod.is_valid(code):
            out.append((i,
                f"揭榜单位（{_who(x)}）的统一社会信用代码“{x.uscc_raw or code}”格式不正确或校验位不符。"
            ))
    return out


@rule("WRONG_CHANNEL")
def wrong_channel(f: Facts) -> list[Finding]:
    if f.channel != "direct" or f.policy.role != "province":
        return []
    out: list[Finding] = []
    for i, x in enumerate(f.forms):
        if x.application.unit_nature != "other":
            continue
        if _ocr_only(x) and x.nature_source != "words":
            continue  # only a nature written out in words is read reliably from a scan
        city = uscc_mod.city_of(x.application.uscc) or x.application.city
        bureau = f.policy.cities.get(city or "")
        # where it belongs, never by when: the finding is kept and shown again later, when
        # the city's deadline may have passed (the notice says by when)
        if bureau:
            how = "，".join(f"{label}：{value}" for label, value in (
                ("联系人", bureau.contact), ("电话", bureau.phone), ("邮箱", "、".join(bureau.bureau_emails)))
                if value)
            where = f"{bureau.name}大数据局" + (f"（{how}）" if how else "")
        else:
            where = "所在设区市大数据局"
        out.append((i,
            f"{_who(x)}不属于中央驻鲁或省属企事业单位，不能直接向省大数据局报送，应通过{where}报送。"
        ))
    return out


@rule("LATE")
def late(f: Facts) -> list[Finding]:
    if f.received_at is None or not f.policy.is_late(f.received_at, f.channel):
        return []
    end = f.policy.deadline_end(f.policy.deadline_key(f.channel))
    assert end is not None  # is_late() is False when no deadline applies
    local = f.received_at.astimezone(f.policy.tz)
    return [f"邮件于{cn_date(local)} {local:%H:%M}到达，已超过截止时间（{cn_date(end)}24时）。"]


def _one_lead(a: FormReading, b: FormReading) -> bool:
    """One lead unit (the tracker's lead key: the credit code, else the name)."""
    ua, ub = a.application.uscc, b.application.uscc
    if uscc_mod.is_valid(ua) and uscc_mod.is_valid(ub):
        return ua == ub
    na, nb = norm(a.application.unit or ""), norm(b.application.unit or "")
    return bool(na) and na == nb


@rule("DUPLICATE_LEAD")
def duplicate_lead(f: Facts) -> list[Finding]:
    """One lead unit, several directions in this mail (across mails: the tracker's cross rule,
    which is what opens it on the records). Directions read by OCR alone are not trusted."""
    typed = [(i, x) for i, x in enumerate(f.forms) if x.application.direction and not _ocr_only(x)]
    out: list[Finding] = []
    for i, x in typed:
        directions = {y.application.direction for _, y in typed if _one_lead(x, y)}
        if len(directions) > 1:
            labels = "、".join(direction_label(n) for n in sorted(d for d in directions if d))
            out.append((i, f"{_who(x)}作为揭榜单位在本邮件中牵头申报了{len(directions)}个方向（{labels}）；"
                           "每个揭榜单位限牵头申报1个方向。"))
    return out


@rule("CITY_QUOTA_EXCEEDED")
def city_quota_exceeded(f: Facts) -> list[Finding]:
    if f.channel != "via_city":
        return []
    if f.table and f.table.rows and not f.table.unsure:  # (a table OCR doubted: by the forms)
        counts = Counter(
            r.recommendation.direction for r in f.table.rows if r.recommendation.direction
        )
    else:
        counts = Counter(x.application.direction for x in f.forms if x.application.direction)
    quota = f.policy.catalogue.city_quota
    return [quota_exceeded_message(f.city, direction_label(d), n, quota)
            for d, n in sorted(counts.items()) if n > quota]


@rule("TABLE_MISMATCH")
def table_mismatch(f: Facts) -> list[Finding]:
    if f.channel != "via_city" or not f.table:
        return []
    out: list[Finding] = []
    for row in f.table.rows:
        unit = row.recommendation.unit
        if f.unpaired_scans:
            break  # its form may be the scan nobody could read: staff look (OCR_USED)
        if row.doubt:
            continue  # OCR was unsure of this row of a picture: staff check it (OCR_USED)
        if not any(
            _same(unit, x.application.unit) or stem(unit) in stem(" ".join(x.application.documents))
            for x in f.forms
        ):
            out.append(f"推荐汇总表中的“{unit}”在报送材料中没有对应的申报书。")
    for x in f.forms:
        if f.table.unsure:
            break  # its row may be one OCR could not read in a picture of the table (OCR_USED)
        if not any(_same(r.recommendation.unit, x.application.unit) for r in f.table.rows):
            out.append(f"申报书（{_who(x)}）未列入推荐汇总表。")
    out += f.table.disagreements
    return out


@rule("UNKNOWN_UNIT_NATURE")
def unknown_unit_nature(f: Facts) -> list[Finding]:
    if f.channel != "direct":
        return []
    return [
        (i, f"无法判断揭榜单位（{_who(x)}）是否为中央驻鲁或省属单位（申报书未填写单位性质）。")
        for i, x in enumerate(f.forms)
        if x.application.unit_nature is None and not _ocr_only(x)
    ]


_UNREAD = (("unit", "揭榜单位"), ("uscc", "统一社会信用代码"), ("direction", "榜单方向"),
           ("task_types", "任务类别"), ("unit_nature", "单位性质"))


@rule("OCR_USED")
def ocr_used(f: Facts) -> list[Finding]:
    out: list[Finding] = []
    for i, x in enumerate(f.forms):
        if not _ocr_only(x):
            continue
        if not x.has_content:
            out.append((i, f"申报书“{x.name}”为扫描件，文字识别（OCR）未能读出内容，请人工核对。"))
            continue
        unread = [label for name, label in _UNREAD if not getattr(x.application, name)]
        if x.uscc_raw and not uscc_mod.is_valid(x.application.uscc):
            unread = [u for u in unread if u != "统一社会信用代码"]
            unread.append("统一社会信用代码（识别结果未通过校验）")
        tail = f"未能识别：{'、'.join(dict.fromkeys(unread))}；" if unread else ""
        out.append((i, f"申报书（{_who(x)}）的内容由扫描件文字识别（OCR）读取，{tail}请人工核对。"))
    for x in f.unpaired_scans:
        out.append(f"扫描件“{x.name}”未能与邮件中的任何 Word 版申报书对应，请人工核对。")
    out += f.table.unsure if f.table else []  # a 推荐汇总表 only as a picture
    return out


@rule("UNVERIFIED_CITY_SENDER")
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


def run_checks(facts: Facts, rules: Sequence[Rule] | None = None) -> CheckReport:
    """Every deficiency of a submission; other intents have none.

    A rule that raises is logged with its traceback and named in ``raised``: the mail
    then goes to staff, since a silent rule would let an incomplete application through.
    """
    report = CheckReport()
    if facts.intent != "submission":
        return report
    for r in RULES if rules is None else rules:
        try:
            messages = r.check(facts)
        except Exception:
            log.exception("rule %s raised; the message goes to staff", r.code.code)
            report.raised.append(r.code.code)
            continue
        if messages:
            report.hit.append(r.code.code)
        for m in messages:
            index, text = m if isinstance(m, tuple) else (None, m)
            report.deficiencies.append(Deficiency(r.code.code, r.code.severity, text, application=index))
    return report
