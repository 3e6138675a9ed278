"""Rendering pages: one Jinja2 environment (autoescape always on) and the shared filters.

Applicant text reaches a page only through ``{{ … }}``, escaped; no template marks
anything ``|safe``. Times are shown in Beijing time (the round's zone), as staff read them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from notifier.clock import as_utc, local_zone
from tracker.reports.labels import (
    CHANNEL_LABELS,
    INTENT_LABELS,
    MAIL_KIND_LABELS,
    MAIL_STATE_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    TASK_TYPE_LABELS,
    direction_label,
)
from tracker.web import auth, csrf

TEMPLATES = Path(__file__).with_name("templates")
NATURE_LABELS = {"central": "中央驻鲁", "provincial": "省属", "other": "其他"}
EXTRA_MAIL_KINDS = {"receipt": "收件回执（待核实）", "claim_notice": "告知原联系人", "package_receipt": "推荐材料回执"}
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
    "raw_downloaded": "下载原始邮件",
}


def beijing(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value in (None, ""):
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return as_utc(moment).astimezone(local_zone()).strftime(fmt)


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(
        bj=beijing, direction=direction_label,
        status=lambda v: STATUS_LABELS.get(v, v or ""), channel=lambda v: CHANNEL_LABELS.get(v or "", "—"),
        task_type=lambda v: TASK_TYPE_LABELS.get(v, v), nature=lambda v: NATURE_LABELS.get(v or "", "—"),
        intent=lambda v: INTENT_LABELS.get(v, v or ""), mail_state=lambda v: {**MAIL_STATE_LABELS, "held": "暂扣待核"}.get(v, v),
        mail_kind=lambda v: {**MAIL_KIND_LABELS, **EXTRA_MAIL_KINDS}.get(v, v), msg_state=lambda v: STATE_LABELS.get(v, v),
        event=lambda v: EVENT_LABELS.get(v, v),
    )
    return env


ENV = _env()


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page with the signed-in user and its CSRF token in the context."""
    user = auth.current(request)
    app = auth.jb(request)
    context.setdefault("user", user)
    context.setdefault("csrf_token", user.csrf_token if user else "")
    context.setdefault("csrf_field", csrf.FIELD)
    context.setdefault("policy", app.policy)
    context.setdefault("path", request.url.path)
    return HTMLResponse(ENV.get_template(template).render(**context), status_code=status_code)
