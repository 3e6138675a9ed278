"""Applicant-facing Chinese wording: deficiency codes (SPEC §3) and display labels.

Warnings are for staff only: ``applicant_items`` drops them, whatever severity the
caller claims, so a staff-only remark can never reach an applicant.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from notifier.templates import DeficiencyItem

log = logging.getLogger("jiebang.notifier")

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Wording:
    code: str
    severity: Severity
    title: str
    fix: str


_ENTRIES = (
    Wording("NO_ATTACHMENT", "error", "邮件未附申报材料",
            "请将申报书（Word版和加盖公章的PDF版）作为邮件附件重新发送。"),
    Wording("CLOUD_ATTACHMENT", "error", "申报材料以“超大附件”或网盘链接方式发送",
            "超大附件和网盘链接会过期失效，我局无法存档。请将申报书直接作为邮件附件发送；文件较大的，可压缩后发送或分多封邮件发送。"),
    Wording("MISSING_APPLICATION_FORM", "error", "未找到申报书",
            "请按通知附件1《2025年全省数据要素市场化配置改革揭榜挂帅申报书》模板填写，作为邮件附件发送。"),
    Wording("UNREADABLE_DOCUMENT", "error", "附件无法打开",
            "请检查文件是否损坏或设置了打开密码，去除密码后以 Word（.docx/.doc）或 PDF 格式重新发送。"),
    Wording("DIRECTION_MISSING", "error", "未能识别榜单方向",
            "请在申报书中写明所申报的榜单方向（通知列明的八个方向之一）。"),
    Wording("MULTIPLE_DIRECTIONS", "error", "一份申报书填写了多个榜单方向",
            "每个揭榜单位牵头申报1个榜单方向，请只保留一个方向后重新发送。"),
    Wording("TASK_TYPE_MISSING", "error", "未能识别任务类别",
            "请在申报书中注明任务类别：理论研究、技术创新、应用实践（可多选）。"),
    Wording("OUTCOME_MISSING", "error", "预期成果与任务类别不对应",
            "理论研究类应至少完成一个研究报告，技术创新类应至少形成一个创新成果，应用实践类应至少打造一个应用场景或实践案例，请在预期成果中补充。"),
    Wording("CONSORTIUM_TOO_LARGE", "error", "联合体单位超过3家",
            "联合申报的，揭榜单位与联合单位总数不超过3家，请调整后重新发送。"),
    Wording("NOT_IN_SHANDONG", "error", "揭榜单位注册地不在山东省",
            "揭榜单位的注册地和主要办公场所应设在山东省辖区内；省外单位可作为联合单位参与申报。"),
    Wording("USCC_INVALID", "error", "统一社会信用代码有误",
            "请核对揭榜单位的18位统一社会信用代码（见营业执照或法人证书），更正后重新发送。"),
    Wording("WRONG_CHANNEL", "error", "报送渠道不符合要求",
            "除中央驻鲁、省属企事业单位外，其他揭榜单位应将申报书报送至所在设区市大数据局，由市大数据局初审推荐。"),
    Wording("LATE", "error", "超过申报截止时间",
            "本次申报已截止，逾期报送的材料原则上不予受理。如有特殊情况，请与我局联系人联系。"),
    Wording("DUPLICATE_LEAD", "error", "同一揭榜单位牵头申报了多个方向",
            "每个揭榜单位牵头申报1个榜单方向。请确定保留的方向，并回复本邮件说明撤回其他方向的申报。"),
    Wording("CITY_QUOTA_EXCEEDED", "error", "推荐数量超过名额",
            "每个榜单方向每市推荐数量不超过2个，请按推荐顺序调整后重新报送推荐汇总表。"),
    Wording("MISSING_RECOMMENDATION_TABLE", "error", "缺少推荐汇总表",
            "请按通知附件2填写《推荐汇总表》，与申报书一并报送。"),
    Wording("MISSING_WORD_VERSION", "error", "缺少申报书Word版",
            "请补充报送申报书的 Word 版（.docx、.doc 或 .wps）。"),
    Wording("MISSING_PDF_VERSION", "error", "缺少申报书盖章PDF版",
            "请补充报送加盖公章的申报书 PDF 版。"),
    # staff only
    Wording("TABLE_MISMATCH", "warning", "推荐汇总表与申报书不一致", "请人工核对推荐汇总表与所附申报书。"),
    Wording("UNKNOWN_UNIT_NATURE", "warning", "无法判断揭榜单位性质", "请人工确认是否为中央驻鲁或省属单位。"),
    Wording("OCR_USED", "warning", "内容由扫描件识别", "请人工核对识别出的字段。"),
    Wording("UNVERIFIED_CITY_SENDER", "warning", "推荐材料发件邮箱未登记", "请核实发件单位是否为该市大数据局。"),
)
WORDING: dict[str, Wording] = {w.code: w for w in _ENTRIES}

_FALLBACK = Wording("OTHER", "error", "申报材料存在问题", "请按通知要求修改后重新发送。")

DIRECTION_NAMES: dict[int, str] = {
    1: "数据产权保护", 2: "数据治理", 3: "公共数据资源授权运营", 4: "数据流通交易",
    5: "数据收益分配", 6: "数据流通利用技术", 7: "数据产业发展", 8: "数据安全",
}
TASK_TYPE_LABELS = {"theory": "理论研究", "technology": "技术创新", "application": "应用实践"}
CHANNEL_LABELS = {"direct": "直报", "via_city": "设区市推荐"}
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
        wording = WORDING.get(code)
        if wording is None:
            log.warning("no wording for deficiency code %r; using a generic one", code)
            wording = _FALLBACK
        if wording.severity != "error" or _field(item, "severity") != "error":
            continue
        if (code, message) in seen:
            continue
        seen.add((code, message))
        out.append(DeficiencyItem(code=code, title=wording.title, message=message, fix=wording.fix))
    return out
