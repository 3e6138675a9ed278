"""The digest of any day, as mailed (the same builder and template as `jiebang digest`)."""

from __future__ import annotations

import base64
from datetime import date, datetime, time

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from notifier.render import render
from tracker.reports.digest import build_bundle
from tracker.web import auth, pages


def _day(request: Request) -> date:
    tz = auth.jb(request).policy.tz
    raw = request.query_params.get("day", "")
    try:
        return date.fromisoformat(raw) if raw else datetime.now(tz).date()
    except ValueError:
        raise HTTPException(404, "日期格式应为 YYYY-MM-DD") from None


def page(request: Request) -> Response:
    auth.require_province(request)
    return pages.render(request, "digest.html", day=_day(request).isoformat())


async def view(request: Request) -> Response:
    """The digest's own HTML (inline styles, the chart as a data: image) in the page's iframe."""
    auth.require_province(request)
    app = auth.jb(request)
    day = _day(request)
    now = min(datetime.now(app.policy.tz), datetime.combine(day, time(23, 59, 59), app.policy.tz))

    def build() -> str:
        with Session(app.engine) as session:
            bundle = build_bundle(session, app.policy, now=now, today=day)
        chart = "data:image/png;base64," + base64.b64encode(bundle.chart_png).decode()
        return render("digest", bundle.context(chart)).html

    html = await run_in_threadpool(build)
    return HTMLResponse(html, headers={
        # the mail's HTML: its inline styles and data: chart, nothing else, and no scripts
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                   "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"})


ROUTES = [
    Route("/digest", page, methods=["GET"]),
    Route("/digest/view", view, methods=["GET"]),
]
