"""What an action says when it is done (or refused): a flash, never a URL parameter.

``?done=…`` in a link once put any text of a stranger's choosing into an official-looking
banner. Now the action's answer is a cookie set on its redirect and shown (and cleared)
by the next page: signed with a key derived from the browser's own session token (which
only that browser holds; the database keeps only its hash), so nobody else can write one,
and no link can carry one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tracker.web import auth

COOKIE = "jb_notice"
_LIMIT = 600  # characters of each text kept


def _key(token: str) -> bytes:
    return hashlib.sha256(b"jiebang notice\0" + token.encode()).digest()


def _sign(token: str, payload: str) -> str:
    return hmac.new(_key(token), payload.encode(), hashlib.sha256).hexdigest()


def redirect(request: Request, url: str, *, done: str = "", error: str = "") -> Response:
    """303 to *url*; the page there shows *done* (a notice) or *error*."""
    response = RedirectResponse(url, status_code=303)
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token and (done or error):
        body = json.dumps({"done": done[:_LIMIT], "error": error[:_LIMIT]}, ensure_ascii=False)
        payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        response.set_cookie(COOKIE, f"{payload}.{_sign(token, payload)}", httponly=True, samesite="lax",
                            secure=auth.is_secure(request), path="/")
    return response


def pending(request: Request) -> tuple[str, str] | None:
    """(notice, error) waiting for this browser; None when there is none (or it is not ours)."""
    raw, token = request.cookies.get(COOKIE), request.cookies.get(auth.SESSION_COOKIE)
    if not raw or not token or "." not in raw:
        return None
    payload, signature = raw.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(token, payload)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(data.get("done") or "")[:_LIMIT], str(data.get("error") or "")[:_LIMIT]
    except (ValueError, AttributeError):
        return None


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
