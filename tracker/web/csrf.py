"""CSRF: a token in every form, checked on every POST before anything is read or changed.

Signed in, the token is the session's own (stored with it, compared in constant time).
Before signing in — the login form — it is a random value in a cookie of its own that
the form must repeat (double submit): a page elsewhere can neither read that cookie nor
set it, so it cannot post a login of its choosing.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

LOGIN_COOKIE = "jb_login_csrf"
FIELD = "csrf_token"


def login_token(request: Request) -> tuple[str, bool]:
    """The login form's token, and whether it is new (then the cookie must be set)."""
    current = request.cookies.get(LOGIN_COOKIE, "")
    if 20 <= len(current) <= 100:
        return current, False
    return secrets.token_urlsafe(32), True


def set_login_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/login")


def matches(expected: str | None, given: object) -> bool:
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
