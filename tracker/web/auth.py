"""Who is signed in, and what each account may see.

- anonymous: every page but /login redirects there (303), with no data in the body;
- viewer: reads what its scope allows, changes nothing (403 on every POST);
- city: only what its own city recommended — submissions with channel ``via_city`` whose
  recommending city is its city. Never a province-direct application, not even one whose
  unit is registered in that city; any other submission answers 404, as if it did not
  exist. On a city instance (``role: city``) everything is that city's intake;
- province: everything;
- expert (review): none of the staff's pages (``guard.EXPERT`` names the routes it may use).

Routes never ask for any of this themselves: ``guard.route`` declares who may use a route
and hands the handler an :class:`Access` (the user and its :class:`Scope`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from campaign.policy import RoundPolicy
from tracker.app import App
from tracker.records.accounts import SignedIn, signed_in
from tracker.records.queries import find_submission
from tracker.store.tables import StaffRole, Submission

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


def lifetime(request: Request) -> timedelta:
    return timedelta(hours=jb(request).settings.web.session_hours)


def idle(request: Request) -> timedelta:
    return timedelta(minutes=jb(request).settings.web.idle_minutes)


def current(request: Request) -> SignedIn | None:
    """The signed-in user (looked up once per request; blocking: call it from a thread).

    A session unused for ``web.idle_minutes`` has ended; using it moves that deadline on."""
    try:
        known: SignedIn | None = request.state.user
        return known
    except AttributeError:
        pass
    token = request.cookies.get(SESSION_COOKIE)
    user = None
    if token:
        with Session(jb(request).engine) as session:
            user = signed_in(session, token, idle=idle(request), lifetime=lifetime(request))
            session.commit()  # the idle deadline, when it moved
    request.state.user = user
    return user


@dataclass(frozen=True)
class Scope:
    """What an account may see: every submission (``city`` None), or only those the city
    ``city`` recommended (channel ``via_city``, recommending city ``city``)."""

    city: str | None = None

    @property
    def everything(self) -> bool:
        return self.city is None

    def sees(self, sub: Submission) -> bool:
        if self.city is None:
            return True
        return bool(self.city) and sub.channel == "via_city" and sub.city == self.city

    @property
    def recommended_by(self) -> str | None:
        """For ``submission_rows(recommended_by=…)``: None lists everything."""
        return self.city


def scope_of(user: SignedIn, policy: RoundPolicy) -> Scope:
    if user.role == StaffRole.expert:
        return Scope("")  # no submission through the staff's scope: an expert's pages choose their own
    if user.role == StaffRole.province:
        return Scope()
    if policy.role == "city" and user.city in (None, policy.city):
        return Scope()  # a city instance holds only its own city's intake
    if user.city:
        return Scope(user.city)
    if user.role == StaffRole.city:
        return Scope("")  # a city account without a city sees nothing
    return Scope()  # a viewer without a city reads everything


@dataclass(frozen=True)
class Access:
    """What ``guard.route`` hands a handler: who is asking, what they may see, and (a POST)
    the form, its CSRF token already checked."""

    user: SignedIn
    scope: Scope
    form: FormData | None = None

    @property
    def actor(self) -> str:
        return actor(self.user)

    @property
    def city(self) -> str | None:
        """The one city this account is confined to (None: it sees every city)."""
        return self.scope.city

    def field(self, name: str, limit: int = 500) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value[:limit] if isinstance(value, str) else ""

    def submission(self, session: Session, reference: str) -> Submission:
        """The submission *reference* if this account may see it; 404 otherwise (whether it
        exists or not is nobody else's business)."""
        sub = find_submission(session, reference)
        if sub is None or not self.scope.sees(sub):
            raise HTTPException(404, f"没有受理编号为 {reference[:40]} 的申报")
        return sub


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
