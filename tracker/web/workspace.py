"""The workspace as an ASGI application (Starlette) for one ``App`` (its database, blobs, round)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.app import App
from tracker.web import auth, pages
from tracker.web.routes import city, confirm, digest, documents, login, mail, submissions

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


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    titles = {403: "无权操作", 404: "未找到", 405: "不支持的请求", 429: "请求过多"}
    return pages.render(request, "error.html", status_code=exc.status_code,
                        title=titles.get(exc.status_code, "出错了"), detail=exc.detail)


def routes() -> list[BaseRoute]:
    return [
        Route("/", lambda request: RedirectResponse("/submissions", status_code=303)),
        *login.ROUTES, *submissions.ROUTES, *documents.ROUTES, *confirm.ROUTES, *mail.ROUTES,
        *digest.ROUTES, *city.ROUTES,
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]


def create_workspace(app: App) -> Starlette:
    """The workspace over *app*'s database (migrated by the caller)."""
    web = Starlette(routes=routes(), exception_handlers={auth.NotSignedIn: _not_signed_in,
                                                          HTTPException: _http_error})
    web.state.jb = app
    web.add_middleware(SecurityHeaders)
    web.add_middleware(InRound, jb=app)
    return web
