"""Chinese labels for every staff view: directions, deadlines, intents, states, kinds.

Direction names come from the catalogue in force, never from a list here.
"""

from __future__ import annotations

from campaign import DEADLINE_KEYS, current
from notifier.wording import CHANNEL_LABELS, STATUS_LABELS, TASK_TYPE_LABELS, title_of

__all__ = [
    "CHANNEL_LABELS", "DEADLINE_LABELS", "EVENT_LABELS", "INTENT_LABELS", "MAIL_KIND_LABELS", "MAIL_STATE_LABELS",
    "NATURE_LABELS",
    "STATE_LABELS", "STATUS_LABELS", "TASK_TYPE_LABELS", "direction_label", "direction_name", "title_of",
]

DEADLINE_LABELS = dict(DEADLINE_KEYS)
INTENT_LABELS = {
    "submission": "申报材料", "status_query": "进度查询", "auto_reply": "自动回复",
    "bounce": "退信", "other": "其他来信（需人工答复）", None: "待处理",
}
STATE_LABELS = {"stored": "待处理", "processed": "已处理", "quarantined": "已隔离"}
MAIL_KIND_LABELS = {
    "ack": "受理回执", "deficiency": "补正通知", "redirect": "渠道提示", "status": "进度答复",
    "reminder": "截止提醒", "digest": "每日汇总", "receipt": "收件回执", "claim_notice": "告知原联系人",
    "package_receipt": "推荐材料回执",
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
}


def direction_label(direction: int | None) -> str:
    """``（二）数据治理`` as the notice numbers them; ``未识别`` for 0/None (the round in force)."""
    return current().direction_label(direction, "未识别")


def direction_name(direction: int | None, default: str = "未识别") -> str:
    """``数据治理``; *default* for 0/None."""
    return current().direction_name(direction, default)
