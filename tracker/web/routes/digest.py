"""The digest of any day: as it was mailed that day when it was (the outbox keeps it),
else built now with the same builder and template as `jiebang digest`."""

from __future__ import annotations

import base64
from datetime import date, datetime, time

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute

from campaign.clock import local, local_today, utcnow
from notifier.models import OutboxMail
from notifier.render import render
from tracker.app import App
from tracker.reports.digest import build_bundle, digest_key
from tracker.store.blobs import BlobMissing
from tracker.web import auth, pages
from tracker.web.auth import Access
from tracker.web.guard import PROVINCE, router

ROUTES: list[BaseRoute] = []
route = router(ROUTES)


def _day(request: Request) -> date:
    raw = request.query_params.get("day", "")
    try:
        return date.fromisoformat(raw) if raw else local_today(auth.jb(request).policy.catalogue)
    except ValueError:
        raise HTTPException(404, "日期格式应为 YYYY-MM-DD") from None


@route("/digest", allow=PROVINCE)  # every city's figures
def page(request: Request, access: Access) -> Response:
    return pages.render(request, "digest.html", day=_day(request).isoformat())


@route("/digest/view", allow=PROVINCE)
def view(request: Request, access: Access) -> Response:
    """The digest's own HTML (inline styles, the chart as a data: image) in the page's iframe."""
    app = auth.jb(request)
    day = _day(request)
    now = min(local(utcnow(), app.policy.catalogue), datetime.combine(day, time(23, 59, 59), app.policy.tz))
    html = _built(app, day, now)
    return HTMLResponse(html, headers={
        # the mail's HTML: its inline styles and data: chart, nothing else, and no scripts
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                   "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"})


def _built(app: App, day: date, now: datetime) -> str:
    with Session(app.engine) as session:
        # a past day as it was mailed; today's is built now (records change all day)
        mailed = _as_mailed(session, app, day) if day < local_today(app.policy.catalogue) else None
        if mailed is not None:
            return mailed
        bundle = build_bundle(session, app.policy, now=now, today=day)
    chart = "data:image/png;base64," + base64.b64encode(bundle.chart_png).decode()
    return render("digest", bundle.context(chart)).html


def _as_mailed(session: Session, app: App, day: date) -> str | None:
    """The digest written for *day*, its inline chart as a data: image (None: none was)."""
    row = session.exec(select(OutboxMail).where(col(OutboxMail.dedupe_key) == digest_key(day))).first()
    if row is None:
        return None
    html = row.html_body
    for part in row.attachments:
        cid, sha = part.get("cid"), part.get("sha256")
        if not cid or not sha:
            continue
        try:
            data = app.blobs.get(sha)
        except BlobMissing:  # the chart's blob is gone: the page shows the rest
            continue
        uri = f"data:{part.get('content_type') or 'image/png'};base64," + base64.b64encode(data).decode()
        html = html.replace(f"cid:{cid}", uri)
    return html
