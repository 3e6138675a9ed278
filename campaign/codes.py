"""Every deficiency code, declared once: severity, scope, title and fix (what each means:
docs/rules.md; the contract: docs/contracts.md, "Deficiency codes").

``scope`` says what a finding is about, and so where the tracker hangs it:

    mail         the mail itself, when it carries no usable application form
    application  one application (or every application of the mail)
    package      a city bureau's package as a whole
    cross        found only across messages (tracker's cross rules open and resolve it)
    acceptance   an acceptance request of a selected application (the acceptance phase); it never
                 changes the application's completeness

Titles and fixes are what an applicant reads; ``{placeholders}`` are filled from the
round (``Catalogue.words()``), so a new round's limits show in its notices. Warnings
are for staff only and never reach an applicant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from campaign.catalogue import SHANDONG_2025, Catalogue

Severity = Literal["error", "warning"]
Scope = Literal["mail", "application", "package", "cross", "acceptance"]


@dataclass(frozen=True)
class DeficiencyCode:
    code: str
    severity: Severity
    scope: Scope
    title: str
    fix: str

    def title_for(self, catalogue: Catalogue = SHANDONG_2025) -> str:
        return self.title.format(**catalogue.words())

    def fix_for(self, catalogue: Catalogue = SHANDONG_2025) -> str:
        return self.fix.format(**catalogue.words())

    @property
    def staff_only(self) -> bool:
        return self.severity == "warning"


_ALL = (
    DeficiencyCode("NO_ATTACHMENT", "error", "mail", "邮件未附申报材料",
                   "申报书须作为邮件附件发送（Word 版；加盖公章的 PDF 版一并发送更佳）。"),
    DeficiencyCode("CLOUD_ATTACHMENT", "error", "mail", "申报材料以“超大附件”或网盘链接方式发送",
                   "超大附件和网盘链接会过期失效，我局无法存档；申报书须直接作为邮件附件发送，"
                   "文件较大的可压缩后发送或分多封邮件发送。"),
    DeficiencyCode("MISSING_APPLICATION_FORM", "error", "mail", "未找到申报书",
                   "请按通知附件1《{round_title}申报书》模板填写申报书。"),
    DeficiencyCode("UNREADABLE_DOCUMENT", "error", "application", "附件无法打开",
                   "请检查文件是否损坏或设置了打开密码，去除密码后另存为 Word（.docx/.doc）或 PDF 格式。"),
    DeficiencyCode("DIRECTION_MISSING", "error", "application", "未能识别榜单方向",
                   "请在申报书中写明所申报的榜单方向（通知列明的{direction_count}个方向之一）。"),
    DeficiencyCode("MULTIPLE_DIRECTIONS", "error", "application", "一份申报书填写了多个榜单方向",
                   "每个揭榜单位牵头申报1个榜单方向，请在申报书中只保留一个方向。"),
    DeficiencyCode("TASK_TYPE_MISSING", "error", "application", "未能识别任务类别",
                   "请在申报书中注明任务类别：理论研究、技术创新、应用实践（可多选）。"),
    DeficiencyCode("OUTCOME_MISSING", "error", "application", "预期成果与任务类别不对应",
                   "理论研究类应至少完成一个研究报告，技术创新类应至少形成一个创新成果，"
                   "应用实践类应至少打造一个应用场景或实践案例，请在预期成果中补充。"),
    DeficiencyCode("CONSORTIUM_TOO_LARGE", "error", "application", "联合体单位超过{consortium_max}家",
                   "联合申报的，揭榜单位与联合单位总数不超过{consortium_max}家，请调整联合单位。"),
    DeficiencyCode("NOT_IN_SHANDONG", "error", "application", "揭榜单位注册地不在{province}",
                   "揭榜单位的注册地和主要办公场所应设在{province}辖区内，请由{province}的单位牵头申报；"
                   "省外单位可作为联合单位参与。"),
    DeficiencyCode("USCC_INVALID", "error", "application", "统一社会信用代码有误",
                   "请核对揭榜单位的18位统一社会信用代码（见营业执照或法人证书），在申报书中更正。"),
    DeficiencyCode("WRONG_CHANNEL", "error", "application", "报送渠道不符合要求",
                   "请将申报书报送至所在设区市大数据局，由市大数据局初审后统一推荐；无需再向省大数据局报送。"),
    DeficiencyCode("LATE", "error", "application", "超过申报截止时间",
                   "申报已截止，逾期送达的材料原则上不予受理，无需也不能再补正或重新报送。"
                   "如有特殊情况，请致电我局业务咨询电话。"),
    DeficiencyCode("DUPLICATE_LEAD", "error", "cross", "同一揭榜单位牵头申报了多个方向",
                   "请确定保留的方向，并在回复邮件中说明撤回其他方向的申报。"),
    DeficiencyCode("CITY_QUOTA_EXCEEDED", "error", "cross", "推荐数量超过名额",
                   "请按推荐顺序调整推荐汇总表，每个榜单方向每市推荐数量不超过{city_quota}个。"),
    DeficiencyCode("MISSING_RECOMMENDATION_TABLE", "error", "package", "缺少推荐汇总表",
                   "请按通知附件2填写《推荐汇总表》（按推荐顺序），盖章后与申报书一并报送。"),
    DeficiencyCode("MISSING_WORD_VERSION", "error", "application", "缺少申报书Word版",
                   "请补充申报书的 Word 版（.docx、.doc 或 .wps）。"),
    DeficiencyCode("MISSING_PDF_VERSION", "error", "application", "缺少申报书盖章PDF版",
                   "请补充加盖公章的申报书 PDF 版。"),
    # staff only
    DeficiencyCode("TABLE_MISMATCH", "warning", "package", "推荐汇总表与申报书不一致",
                   "请人工核对推荐汇总表与所附申报书。"),
    DeficiencyCode("UNKNOWN_UNIT_NATURE", "warning", "application", "无法判断揭榜单位性质",
                   "请人工确认是否为中央驻鲁或省属单位。"),
    DeficiencyCode("ACCEPTANCE_OUTCOME_MISSING", "error", "acceptance", "验收材料缺少申报书承诺的成果",
                   "请补充申报书中承诺的成果材料后，回复本邮件重新提交验收申请。"),
    DeficiencyCode("OCR_USED", "warning", "application", "内容由扫描件识别", "请人工核对识别出的字段。"),
    DeficiencyCode("UNVERIFIED_CITY_SENDER", "warning", "package", "推荐材料发件邮箱未登记",
                   "请核实发件单位是否为该市大数据局。"),
)

CODES: Mapping[str, DeficiencyCode] = MappingProxyType({c.code: c for c in _ALL})

# a code nobody declared (an old row, a typo): generic wording, and an error so it is seen
FALLBACK = DeficiencyCode("OTHER", "error", "application", "申报材料存在问题", "请按通知要求修改。")


def code(name: str) -> DeficiencyCode:
    """The declared code; KeyError for an unknown one (rules must use declared codes)."""
    return CODES[name]


def codes_in(scope: Scope) -> frozenset[str]:
    return frozenset(c.code for c in _ALL if c.scope == scope)


def quota_exceeded_message(city: str | None, direction_label: str, count: int, quota: int) -> str:
    """The one wording of CITY_QUOTA_EXCEEDED, for the per-mail check and the cross rule."""
    return (f"{city or '本市'}在榜单方向{direction_label}推荐了 {count} 项，"
            f"超过每个方向每市不超过 {quota} 项的限额。")
