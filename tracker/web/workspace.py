"""The workspace as an ASGI application (Starlette) for one ``App`` (its database, blobs, round).

Every route is a ``guard.Guarded`` route (it declares who may use it); only the static
files are served without a session.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.app import App
from tracker.reports import metrics
from tracker.web import auth, pages
from tracker.web.auth import Access
from tracker.web.guard import ANONYMOUS, STAFF, Guarded
from tracker.web.previews import Previews
from tracker.web.routes import (
    acceptance,
    account,
    city,
    confirm,
    digest,
    documents,
    expert,
    login,
    mail,
    mailfiles,
    review,
    review_results,
    submissions,
    team,
    today,
)

STATIC = Path(__file__).with_name("static")
HEADERS = {
    # the htmx file is same-origin; no inline script or style anywhere
    "content-security-policy": "default-src 'self'; object-src 'self'; "
                               "frame-ancestors 'self'; base-uri 'none'; form-action 'self'",
    "x-frame-options": "SAMEORIGIN",  # the PDF previews are same-origin iframes
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


class SecurityHeaders:
    """Adds HEADERS to every answer that does not set its own (the digest view does)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in HEADERS.items() if k.encode() not in have]
                if scope["path"] != "/static/htmx.min.js":
                    extra.append((b"cache-control", b"no-store"))  # records are not for shared caches
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class InRound:
    """Every request runs with its workspace's round in force (labels, the clock's zone): the
    round is the app's, never the process's. Handlers run in threads copy the context."""

    def __init__(self, app: ASGIApp, *, jb: App) -> None:
        self.app, self.jb = app, jb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self.jb.round():
            await self.app(scope, receive, send)


async def _not_signed_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, auth.NotSignedIn)
    return RedirectResponse(auth.login_redirect(exc.next_path), status_code=303)


TITLES = {400: "请求有误", 403: "无权操作", 404: "未找到", 405: "不支持的请求", 429: "请求过多", 503: "服务繁忙"}
DETAILS = {400: "请求格式不正确", 403: "您无权进行此操作", 404: "没有这个页面", 405: "不支持此请求方式",
           429: "请求过多，请稍后再试", 503: "服务繁忙，请稍后再试"}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = exc.status_code
    # Starlette's own details are English ("Not Found"): staff read Chinese
    detail = exc.detail if exc.detail and not exc.detail.isascii() else DETAILS.get(code, "出错了")
    response = await run_in_threadpool(pages.render, request, "error.html", status_code=code,
                                       title=TITLES.get(code, "出错了"), detail=detail)
    if code in (429, 503):
        response.headers["retry-after"] = "5"
    return response


def _home(request: Request, access: Access) -> Response:
    return RedirectResponse("/submissions", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Guarded("/", _home, allow=STAFF),
        *login.ROUTES, *team.ROUTES, *mailfiles.ROUTES, *submissions.ROUTES, *documents.ROUTES, *confirm.ROUTES, *mail.ROUTES,
        *digest.ROUTES, *city.ROUTES, *account.ROUTES, *today.ROUTES,
        *review.ROUTES, *review_results.ROUTES, *acceptance.ROUTES,  # after intake (SPEC 6, 7)
        *expert.ROUTES,  # the review experts' own pages
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]


def create_workspace(app: App) -> Starlette:
    """The workspace over *app*'s database (migrated by the caller)."""
    # /metrics and /healthz: no session, for the operator's monitoring only (web.metrics)
    ops = [Guarded("/metrics", metrics.metrics_page, allow=ANONYMOUS),
           Guarded("/healthz", metrics.health_page, allow=ANONYMOUS)] if app.settings.web.metrics else []
    web = Starlette(routes=ops + routes(), exception_handlers={auth.NotSignedIn: _not_signed_in,
                                                          HTTPException: _http_error})
    web.state.jb = app
    web.state.previews = Previews()  # this workspace's preview slots and conversion queue
    web.add_middleware(SecurityHeaders)
    web.add_middleware(InRound, jb=app)
    return web
