"""Who is signed in, and the access rules every route applies.

- anonymous: every page but /login redirects there (303), with no data in the body;
- viewer: reads what its scope allows, changes nothing (403 on every POST);
- city: only its own city's submissions (another city's is 404, as if it did not exist);
- province: everything.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from tracker.app import App
from tracker.records.accounts import SignedIn, signed_in
from tracker.store.tables import StaffRole, Submission
from tracker.web import csrf

SESSION_COOKIE = "jb_session"


class NotSignedIn(Exception):
    """No valid session: the app answers with a redirect to the login page."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(next_path)
        self.next_path = next_path


def jb(request: Request) -> App:
    app: App = request.app.state.jb
    return app


def client_ip(request: Request) -> str:
    # uvicorn replaces it with X-Forwarded-For only from forwarded_allow_ips (the proxy)
    return request.client.host if request.client else "unknown"


def is_secure(request: Request) -> bool:
    configured = jb(request).settings.web.secure_cookies
    return request.url.scheme == "https" if configured is None else configured


def current(request: Request) -> SignedIn | None:
    try:
        known: SignedIn | None = request.state.user  # looked up once per request
        return known
    except AttributeError:
        pass
    with Session(jb(request).engine) as session:
        user = signed_in(session, request.cookies.get(SESSION_COOKIE))
    request.state.user = user
    return user


def require(request: Request) -> SignedIn:
    user = current(request)
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise NotSignedIn(path if request.method == "GET" else "/")
    return user


def require_province(request: Request) -> SignedIn:
    """Claims, mail and the digest concern every city: staff who see every city only."""
    user = require(request)
    if scope_city(user) and jb(request).policy.role != "city":  # a city instance is all one city's
        raise HTTPException(403, "此页面涉及所有城市，仅限省级工作人员")
    return user


async def posted(request: Request) -> tuple[SignedIn, FormData]:
    """A POST that changes something: signed in, allowed to change, with this session's token."""
    user = require(request)
    if not user.may_change:
        raise HTTPException(403, "只读账号不能修改")
    form = await request.form()
    if not csrf.matches(user.csrf_token, form.get(csrf.FIELD)):
        raise HTTPException(403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")
    return user, form


def scope_city(user: SignedIn) -> str | None:
    """The one city a user sees (None: every city)."""
    return user.city if user.role in (StaffRole.city, StaffRole.viewer) and user.city else None


def can_see(user: SignedIn, sub: Submission) -> bool:
    city = scope_city(user)
    return city is None or city in (sub.city, sub.unit_city)


def login_redirect(next_path: str) -> str:
    return "/login" + (f"?next={quote(next_path, safe='/')}" if next_path not in ("", "/") else "")


def safe_next(value: Any) -> str:
    """Only a path on this site: never ``//host``, ``/\\host`` or a scheme (no open redirect)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/submissions"
    if any(c in value for c in "\r\n\\") or ":" in value.split("?", 1)[0]:
        return "/submissions"
    return value


def actor(user: SignedIn) -> str:
    """How the event log names a web action's author."""
    return f"{user.name}（网页）"
