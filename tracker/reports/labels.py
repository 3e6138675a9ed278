"""Chinese labels for every staff view: directions, deadlines, intents, states, kinds.

Direction names come from the catalogue in force, never from a list here.
"""

from __future__ import annotations

from campaign import DEADLINE_KEYS, current
from notifier.wording import CHANNEL_LABELS, STATUS_LABELS, TASK_TYPE_LABELS, title_of

__all__ = [
    "CHANNEL_LABELS", "DEADLINE_LABELS", "INTENT_LABELS", "MAIL_KIND_LABELS", "MAIL_STATE_LABELS",
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
    "reminder": "截止提醒", "digest": "每日汇总",
}
MAIL_STATE_LABELS = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败",
                     "bounced": "被退回"}


def direction_label(direction: int | None) -> str:
    """``（二）数据治理`` as the notice numbers them; ``未识别`` for 0/None (the round in force)."""
    return current().direction_label(direction, "未识别")


def direction_name(direction: int | None, default: str = "未识别") -> str:
    """``数据治理``; *default* for 0/None."""
    return current().direction_name(direction, default)
