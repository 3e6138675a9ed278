"""Signing in and out.

An address that failed five times in 15 minutes waits (429, whatever name it tries). A
name that failed from other addresses is slowed down, never locked: the delay is awaited
here, holding neither a thread nor a database connection, and then the password is checked.
"""

from __future__ import annotations

import asyncio

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from tracker.records import accounts
from tracker.web import auth, csrf, pages
from tracker.web.auth import Access
from tracker.web.guard import ANONYMOUS, STAFF, router

ROUTES: list[BaseRoute] = []
route = router(ROUTES)

pause = asyncio.sleep  # the name's delay (tests look at it instead of waiting)


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
    if auth.current(request) is not None:
        return RedirectResponse("/submissions", status_code=303)
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
            token = accounts.open_session(session, user, auth.client_ip(request), lifetime=auth.lifetime(request),
                                          idle=auth.idle(request))
        except accounts.TooManyAttempts as exc:
            session.commit()
            return _form(request, error=str(exc), status_code=429, name=name)
        except accounts.LoginFailed as exc:
            session.commit()  # the failure counts towards the limit
            return _form(request, error=str(exc), status_code=401, name=name)
        session.commit()
    response = RedirectResponse(target, status_code=303)
    secure = auth.is_secure(request)
    response.set_cookie(auth.SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/",
                        max_age=int(auth.lifetime(request).total_seconds()))
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/login")
    return response


@route("/logout", allow=STAFF, methods=["POST"], writes=False)  # a viewer may sign out too
def logout(request: Request, access: Access) -> Response:
    with Session(auth.jb(request).engine) as session:
        accounts.close_session(session, request.cookies.get(auth.SESSION_COOKIE), actor=access.user.name)
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
