"""Signing in and out."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tracker.records import accounts
from tracker.web import auth, csrf, pages


def _form(request: Request, *, error: str = "", status_code: int = 200, name: str = "") -> Response:
    token, new = csrf.login_token(request)
    next_path = auth.safe_next(request.query_params.get("next", "/submissions"))
    response = pages.render(request, "login.html", status_code=status_code, user=None, csrf_token=token,
                            error=error, name=name, next_path=next_path)
    if new:
        csrf.set_login_cookie(response, token, secure=auth.is_secure(request))
    return response


def login_page(request: Request) -> Response:
    if auth.current(request) is not None:
        return RedirectResponse("/submissions", status_code=303)
    return _form(request)


async def login_post(request: Request) -> Response:
    form = await request.form()
    name, password = str(form.get("username") or "")[:100], str(form.get("password") or "")
    if not csrf.matches(request.cookies.get(csrf.LOGIN_COOKIE), form.get(csrf.FIELD)):
        return _form(request, error="表单已过期，请重新登录", status_code=403, name=name)
    app = auth.jb(request)
    with Session(app.engine) as session:
        try:
            user = accounts.login(session, name, password, auth.client_ip(request))
            token = accounts.open_session(session, user, auth.client_ip(request),
                                          lifetime=_lifetime(request))
        except accounts.TooManyAttempts as exc:
            session.commit()
            return _form(request, error=str(exc), status_code=429, name=name)
        except accounts.LoginFailed as exc:
            session.commit()  # the failure counts towards the limit
            return _form(request, error=str(exc), status_code=401, name=name)
        session.commit()
    target = auth.safe_next(form.get("next"))
    response = RedirectResponse(target, status_code=303)
    secure = auth.is_secure(request)
    response.set_cookie(auth.SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/",
                        max_age=int(_lifetime(request).total_seconds()))
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/login")
    return response


def _lifetime(request: Request) -> timedelta:
    return timedelta(hours=auth.jb(request).settings.web.session_hours)


async def logout(request: Request) -> Response:
    user = auth.require(request)
    form = await request.form()
    if not csrf.matches(user.csrf_token, form.get(csrf.FIELD)):
        return pages.render(request, "error.html", status_code=403, title="无权操作", detail="CSRF 校验失败")
    with Session(auth.jb(request).engine) as session:
        accounts.close_session(session, request.cookies.get(auth.SESSION_COOKIE), actor=user.name)
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


ROUTES = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_post, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
