"""Every Chinese label a person reads for one of our codes, in one table.

Staff pages, the command line, workbooks, the digest and the applicant's mail all look a
code up here, so a state is called the same everywhere. What the round decides (direction
and task-type names) comes from the catalogue in force or the one passed, never from a list
here; what a deficiency code says lives with the code (``campaign.codes``).
"""

from __future__ import annotations

from collections.abc import Iterable

from campaign.active import current
from campaign.catalogue import CHANNELS, DEADLINE_KEYS, Catalogue

UNKNOWN = "未识别"

STATUS_LABELS = {
    "incomplete": "材料待补正", "complete": "材料齐全，待评审", "under_review": "评审中",
    "selected": "已入选", "not_selected": "未入选", "withdrawn": "已撤回", "formal_failed": "形式审查未通过",
}
# after intake (SPEC sections 6 and 7)
FORMAL_LABELS = {"pass": "形式审查通过", "fail": "形式审查未通过"}
CREDIT_LABELS = {"clean": "信用良好", "dishonest": "严重失信", "abnormal": "经营异常"}
CREDIT_SOURCES = ("信用中国", "信用山东")
CONFLICT_LABELS = {"lead_unit": "专家所在单位为揭榜单位", "partner_unit": "专家所在单位为联合单位",
                   "declared": "专家本人申明回避", "staff": "工作人员指定回避"}
ACCEPTANCE_LABELS = {"requested": "已申请验收", "passed": "验收通过", "rework": "限期整改"}
OUTCOME_LABELS = {"report": "研究报告", "innovation": "创新成果", "scenario": "应用场景", "case": "实践案例",
                  "evidence": "佐证材料"}
CHANNEL_LABELS = dict(CHANNELS)
DEADLINE_LABELS = dict(DEADLINE_KEYS)
INTENT_LABELS = {
    "submission": "申报材料", "status_query": "进度查询", "acceptance_request": "验收申请", "auto_reply": "自动回复",
    "bounce": "退信", "other": "其他来信（需人工答复）", None: "待处理",
}
STATE_LABELS = {"stored": "待处理", "processed": "已处理", "quarantined": "已隔离"}
MAIL_KIND_LABELS = {
    "ack": "受理回执", "deficiency": "补正通知", "redirect": "渠道提示", "status": "进度答复",
    "reminder": "截止提醒", "digest": "每日汇总", "receipt": "收件回执", "claim_notice": "告知原联系人",
    "package_receipt": "推荐材料回执", "result": "评审结果通知", "expert_invite": "专家评审邀请",
    "acceptance": "验收申请答复", "acceptance_reminder": "验收提醒", "answer": "人工答复",
}
MAIL_STATE_LABELS = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败",
                     "bounced": "被退回", "held": "暂扣待核"}
NATURE_LABELS = {"central": "中央驻鲁", "provincial": "省属", "other": "其他"}
EVENT_LABELS = {
    "submission_created": "创建申报", "version_added": "收到新版本", "late_version_ignored": "逾期版本未采用",
    "received_on_both_channels": "两个渠道均收到", "deficiency_opened": "发现问题", "deficiency_resolved": "问题已解决",
    "status_changed": "状态变化", "status_set": "人工决定状态", "field_corrected": "人工更正字段",
    "corrected_notice_queued": "更正后通知已排队", "recommended": "列入推荐", "recommendation_removed": "移出推荐",
    "claim_held": "来信待确认", "claim_confirmed": "确认来信", "claim_rejected": "驳回来信",
    "mail_without_form": "来信未附申报书", "no_auto_reply": "未自动答复", "package_received": "收到推荐材料",
    "package_superseded": "推荐表被新版取代", "notification_bounced": "邮件被退回", "reprocessed": "重新理解",
    "requeued": "重新处理", "mail_resent": "重新发送", "login": "登录", "login_failed": "登录失败",
    "user_added": "新增账号", "user_disabled": "停用账号", "logout": "退出", "exported": "导出",
    "raw_downloaded": "下载原始邮件", "held_released": "释放暂扣的答复", "reply_held": "答复暂扣待核",
    "reply_suppressed": "答复未发出", "contact_removed": "移除联系邮箱", "ownership_transferred": "转移申报归属",
    # the team's workspace (#23)
    "2fa_enrolled": "启用两步验证", "2fa_removed": "停用两步验证", "2fa_failed": "两步验证码错误",
    "recovery_code_used": "使用恢复码登录", "assigned": "分派经办人", "unassigned": "取消分派",
    "note_added": "添加内部备注", "mail_answered": "回复来信", "mail_handled": "来信已处理",
    "filter_saved": "保存筛选",
    # review and publication (#24), acceptance (#25)
    "formal_review": "形式审查", "credit_recorded": "记录信用查询", "expert_added": "新增评审专家",
    "panel_set": "设置评审组", "conflict_added": "登记回避", "conflict_removed": "撤销回避",
    "score_entered": "专家评分", "scores_imported": "导入评分表", "published": "发布公示名单",
    "results_released": "发出评审结果通知", "objection_received": "收到异议", "objection_handled": "异议已处理",
    "experts_invited": "邀请专家评审", "acceptance_requested": "申请验收", "acceptance_decided": "验收结论",
    "excellent_marked": "评为优秀成果", "excellent_unmarked": "取消优秀成果", "acceptance_reminded": "提醒申请验收",
}
CLAIM_KIND_LABELS = {"reference": "引用他人受理编号", "credit_code": "重复使用已申报单位的信用代码或名称",
                     "package": "未经验证的设区市推荐材料", "sender": "发件人未通过验证或不明确",
                     "acceptance": "验收申请（发件人无权代表该申报）"}
FIELD_LABELS = {"unit": "揭榜单位", "uscc": "统一社会信用代码", "unit_nature": "单位性质", "unit_city": "注册地",
                "direction": "榜单方向", "task_name": "揭榜任务名称", "task_types": "任务类别", "partners": "联合单位"}


def label(table: dict[str, str], key: str | None, default: str = "—") -> str:
    """*key*'s label in *table*; *default* for no key, and the key itself for one nobody named
    (a new state shows up as itself rather than vanishing)."""
    if key is None or key == "":
        return default
    return table.get(key, key)


def direction_label(number: int | None, catalogue: Catalogue | None = None, *, default: str = UNKNOWN) -> str:
    """``（二）数据治理`` as the notice numbers them; *default* when not identified."""
    return (catalogue or current()).direction_label(number, default)


def direction_name(number: int | None, default: str = UNKNOWN, catalogue: Catalogue | None = None) -> str:
    """``数据治理``; *default* when not identified."""
    return (catalogue or current()).direction_name(number, default)


def listing_title(catalogue: Catalogue | None = None) -> str:
    """The published list's title: ``2025年…揭榜单位公示名单`` (the document, the notices)."""
    c = catalogue or current()
    return f"{c.year}年{c.title}揭榜单位公示名单"


def task_type_label(key: str, catalogue: Catalogue | None = None) -> str:
    """A task type's name in this round (``理论研究``); the key when the round has none."""
    found = (catalogue or current()).task_type(key)
    return found.label if found else key


def task_type_labels(keys: Iterable[str], catalogue: Catalogue | None = None, sep: str = "、") -> str:
    return sep.join(task_type_label(k, catalogue) for k in keys)
