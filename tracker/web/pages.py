"""Rendering pages: one Jinja2 environment (autoescape always on) and the shared filters.

Applicant text reaches a page only through ``{{ … }}``, escaped and without bidirectional
controls (``text.plain``, applied to every expression); no template marks anything
``|safe``. Times are shown in the round's zone (campaign.clock), as staff read them. A
page's notice and error come from the action before it (``notices``), never from its URL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from campaign.clock import minutes
from campaign.labels import (
    CHANNEL_LABELS,
    EVENT_LABELS,
    INTENT_LABELS,
    MAIL_KIND_LABELS,
    MAIL_STATE_LABELS,
    NATURE_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    direction_label,
    task_type_label,
)
from tracker.web import auth, csrf, notices, readable
from tracker.web.text import plain

TEMPLATES = Path(__file__).with_name("templates")


def _finalize(value: Any) -> Any:
    """Every ``{{ … }}``: text loses its bidirectional controls before it is escaped."""
    if isinstance(value, Markup):
        return Markup(plain(str(value)))
    return plain(value) if isinstance(value, str) else value


def shown_fields(sub: Any) -> dict[str, str | None]:
    """A submission's fields as a clerk or an expert reads them (labels, not keys): the one
    rendering the submission page and the expert's page share."""
    return {"unit": sub.unit, "uscc": sub.uscc, "unit_nature": NATURE_LABELS.get(sub.unit_nature or "", "—"),
            "unit_city": sub.unit_city, "direction": direction_label(sub.direction), "task_name": sub.task_name,
            "task_types": "、".join(task_type_label(t) for t in sub.task_types), "partners": "、".join(sub.partners)}


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, finalize=_finalize)
    env.filters.update(
        bj=minutes, direction=direction_label,
        status=lambda v: STATUS_LABELS.get(v, v or ""), channel=lambda v: CHANNEL_LABELS.get(v or "", "—"),
        task_type=lambda v: task_type_label(v), nature=lambda v: NATURE_LABELS.get(v or "", "—"),
        intent=lambda v: INTENT_LABELS.get(v, v or ""), mail_state=lambda v: MAIL_STATE_LABELS.get(v, v),
        mail_kind=lambda v: MAIL_KIND_LABELS.get(v, v), msg_state=lambda v: STATE_LABELS.get(v, v),
        event=lambda v: EVENT_LABELS.get(v, v), plain=lambda v: plain(str(v)) if v is not None else "",
        shown_fields=shown_fields,
    )
    env.filters.update(readable.FILTERS)  # codes, event details, quarantine reasons in words
    return env


ENV = _env()


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page with the signed-in user, its CSRF token and the last action's notice in the context."""
    user = auth.current(request)
    flash = notices.pending(request) if not request.headers.get("hx-request") else None
    for key, text in zip(("notice", "error"), flash or ("", ""), strict=True):
        context[key] = context.get(key) or text  # what the handler says wins
    app = auth.jb(request)
    context.setdefault("user", user)
    context.setdefault("csrf_token", user.csrf_token if user else "")
    context.setdefault("csrf_field", csrf.FIELD)
    context.setdefault("policy", app.policy)
    context.setdefault("path", request.url.path)
    response = HTMLResponse(ENV.get_template(template).render(**context), status_code=status_code)
    if request.cookies.get(notices.COOKIE) and not request.headers.get("hx-request"):
        notices.clear(response)  # shown once
    return response
