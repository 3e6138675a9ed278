"""今日 (#26): deadline day as it happens — arrivals per hour, the queue, its workers, when
the backlog should clear, held replies. The live part reloads itself every 30 seconds
(htmx), so staff watching the deadline need not wait for tomorrow's digest."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from tracker.reports.today import snapshot
from tracker.web import auth, pages
from tracker.web.auth import Access
from tracker.web.guard import PROVINCE, router

ROUTES: list[BaseRoute] = []
route = router(ROUTES)
REFRESH_SECONDS = 30


def _context(request: Request) -> dict[str, Any]:
    app = auth.jb(request)
    with Session(app.engine) as session:
        snap = snapshot(session, app.policy.catalogue)
    peak = max((n for _, n in snap.arrivals), default=0)
    return {"snap": snap, "peak": max(peak, 1), "refresh": REFRESH_SECONDS}


@route("/today", allow=PROVINCE)  # the whole instance's queue
def page(request: Request, access: Access) -> Response:
    return pages.render(request, "today.html", **_context(request))


@route("/today/live", allow=PROVINCE)
def live(request: Request, access: Access) -> Response:
    return pages.render(request, "today_live.html", **_context(request))
