"""Signing in and out.

An address that failed five times in 15 minutes waits (429, whatever name it tries). A
name that failed from other addresses is slowed down, never locked: the delay is awaited
here, holding neither a thread nor a database connection, and then the password is checked.

An account enrolled in two-factor sign-in (``jiebang user 2fa``) is asked for its code
on a second page (/login/code): the password opens only a short-lived challenge (a cookie
of its own, path /login), never a session, so nothing of the workspace is reachable
between the two steps. With ``web.require_2fa_for_province`` a province account that is
not enrolled is refused.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from tracker.records import accounts, twofactor
from tracker.store.tables import StaffRole
from tracker.web import auth, csrf, pages
from tracker.web.auth import Access
from tracker.web.guard import ANONYMOUS, EXPERT, STAFF, router

ROUTES: list[BaseRoute] = []
route = router(ROUTES)

pause = asyncio.sleep  # the name's delay (tests look at it instead of waiting)
CHALLENGE_COOKIE = "jb_2fa"
NEEDS_2FA = "省级账号须启用两步验证后才能登录：请系统管理员运行 jiebang user 2fa 用户名 为您开通"
WRONG_CODE = "验证码错误或已使用过，请输入验证器上的新验证码或一个恢复码"
CHALLENGE_GONE = "验证已超时或错误次数过多，请重新输入用户名和密码"


def _form(request: Request, *, error: str = "", status_code: int = 200, name: str = "") -> Response:
    token, new = csrf.login_token(request)
    next_path = auth.safe_next(request.query_params.get("next", "/submissions"))
    response = pages.render(request, "login.html", status_code=status_code, user=None, csrf_token=token,
                            error=error, name=name, next_path=next_path)
    if new:
        csrf.set_login_cookie(response, token, secure=auth.is_secure(request))
    return response


@route("/login", allow=ANONYMOUS)
def login_page(request: Request, access: Access | None) -> Response:
    signed = auth.current(request)
    if signed is not None:
        return RedirectResponse(landing(signed.role, "/submissions"), status_code=303)
    return _form(request)


@route("/login", allow=ANONYMOUS, methods=["POST"])
async def login_post(request: Request, access: Access | None) -> Response:
    """Awaits only: the delay, and the database and argon2 in the thread pool."""
    form = await request.form(max_files=0, max_fields=20)
    name, password = str(form.get("username") or "")[:100], str(form.get("password") or "")[:1000]
    if not csrf.matches(request.cookies.get(csrf.LOGIN_COOKIE), form.get(csrf.FIELD)):
        return await run_in_threadpool(_form, request, error="表单已过期，请重新登录", status_code=403, name=name)
    delay = await run_in_threadpool(_delay, request, name)
    if delay:
        await pause(delay)
    return await run_in_threadpool(_attempt, request, name, password, auth.safe_next(form.get("next")))


def _delay(request: Request, name: str) -> float:
    with Session(auth.jb(request).engine) as session:
        return accounts.name_delay(session, name, auth.client_ip(request))


def _attempt(request: Request, name: str, password: str, target: str) -> Response:
    with Session(auth.jb(request).engine) as session:
        try:
            user = accounts.login(session, name, password, auth.client_ip(request))
        except accounts.TooManyAttempts as exc:
            session.commit()
            return _form(request, error=str(exc), status_code=429, name=name)
        except accounts.LoginFailed as exc:
            session.commit()  # the failure counts towards the limit
            return _form(request, error=str(exc), status_code=401, name=name)
        if twofactor.enrolled(session, user.id or 0):
            challenge = twofactor.open_challenge(session, user, auth.client_ip(request))
            session.commit()
            response = RedirectResponse(f"/login/code?next={quote(target, safe='/')}", status_code=303)
            response.set_cookie(CHALLENGE_COOKIE, challenge, httponly=True, samesite="lax",
                                secure=auth.is_secure(request), path="/login",
                                max_age=int(twofactor.CHALLENGE_LIFETIME.total_seconds()))
            return response
        if user.role == StaffRole.province and auth.jb(request).settings.web.require_2fa_for_province:
            session.commit()
            return _form(request, error=NEEDS_2FA, status_code=403, name=name)
        token = accounts.open_session(session, user, auth.client_ip(request), lifetime=auth.lifetime(request),
                                      idle=auth.idle(request))
        target = landing(user.role, target)
        session.commit()
    return _signed_in(request, token, target)


def landing(role: str, target: str) -> str:
    """Where a sign-in leads: an expert reaches only their own pages (/expert), so any
    other target (the form's default /submissions) would be a 403."""
    if role == StaffRole.expert and not target.startswith("/expert"):
        return "/expert"
    return target


def _signed_in(request: Request, token: str, target: str) -> Response:
    """The redirect into the workspace that carries the new session's cookie."""
    response = RedirectResponse(target, status_code=303)
    secure = auth.is_secure(request)
    response.set_cookie(auth.SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/",
                        max_age=int(auth.lifetime(request).total_seconds()))
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/login")
    response.delete_cookie(CHALLENGE_COOKIE, path="/login")
    return response


# --- the second step ---------------------------------------------------------------------------
def _code_form(request: Request, *, error: str = "", status_code: int = 200, target: str | None = None) -> Response:
    """The code's form; *target*: where to go once signed in (default: the query's ``next``)."""
    token, new = csrf.login_token(request)
    next_path = target or auth.safe_next(request.query_params.get("next", "/submissions"))
    response = pages.render(request, "login_code.html", status_code=status_code, user=None, csrf_token=token,
                            error=error, next_path=next_path)
    if new:
        csrf.set_login_cookie(response, token, secure=auth.is_secure(request))
    return response


def _challenge_gone(request: Request) -> Response:
    response = _form(request, error=CHALLENGE_GONE, status_code=401)
    response.delete_cookie(CHALLENGE_COOKIE, path="/login")
    return response


@route("/login/code", allow=ANONYMOUS)
def code_page(request: Request, access: Access | None) -> Response:
    with Session(auth.jb(request).engine) as session:
        if twofactor.challenged(session, request.cookies.get(CHALLENGE_COOKIE)) is None:
            return _challenge_gone(request)
    return _code_form(request)


@route("/login/code", allow=ANONYMOUS, methods=["POST"])
async def code_post(request: Request, access: Access | None) -> Response:
    form = await request.form(max_files=0, max_fields=20)
    if not csrf.matches(request.cookies.get(csrf.LOGIN_COOKIE), form.get(csrf.FIELD)):
        return await run_in_threadpool(_code_form, request, error="表单已过期，请重新输入", status_code=403,
                                       target=auth.safe_next(form.get("next")))
    code, target = str(form.get("code") or "")[:100], auth.safe_next(form.get("next"))
    return await run_in_threadpool(_answer, request, code, target)


def _answer(request: Request, code: str, target: str) -> Response:
    challenge = request.cookies.get(CHALLENGE_COOKIE) or ""
    ip = auth.client_ip(request)
    with Session(auth.jb(request).engine) as session:
        try:
            accounts.check_rate(session, "", ip)
        except accounts.TooManyAttempts as exc:
            return _code_form(request, error=str(exc), status_code=429, target=target)
        user = twofactor.challenged(session, challenge)
        if user is None:
            return _challenge_gone(request)
        if twofactor.answer(session, challenge, code) is None:
            accounts.count_failure(session, user.name, ip)  # wrong codes count against the address too
            session.commit()
            if twofactor.challenged(session, challenge) is None:
                return _challenge_gone(request)
            return _code_form(request, error=WRONG_CODE, status_code=401, target=target)
        token = accounts.open_session(session, user, ip, lifetime=auth.lifetime(request), idle=auth.idle(request))
        target = landing(user.role, target)
        session.commit()
    return _signed_in(request, token, target)


@route("/logout", allow=STAFF | EXPERT, methods=["POST"], writes=False)  # a viewer (an expert) may sign out too
def logout(request: Request, access: Access) -> Response:
    with Session(auth.jb(request).engine) as session:
        accounts.close_session(session, request.cookies.get(auth.SESSION_COOKIE), actor=access.user.name)
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
