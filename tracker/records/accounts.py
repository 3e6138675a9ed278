"""Staff accounts of the web workspace: users, passwords, sessions, the login rate limit.

Passwords are kept as argon2id hashes only. A session is a random token in the browser's
cookie and its sha256 here, so a copy of the database opens no session. Failed logins
are counted in the database (not in memory), so several `jiebang run` / `jiebang web`
processes behind one proxy agree on the limit.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, func, select

from campaign.clock import utcnow
from tracker.records.events import record
from tracker.store.tables import LoginAttempt, StaffRole, StaffUser, WebSession

SESSION_LIFETIME = timedelta(hours=12)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5  # per username and per client address within FAILURE_WINDOW
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the name is unknown, so a wrong name costs as long as a wrong password.

    Made on first use: hashing costs ~0.1 s, which every CLI command and the service
    would otherwise pay at import.
    """
    return _HASHER.hash("jiebang: no such user")


class AccountError(Exception):
    """An account cannot be created or changed as asked; one line."""


class LoginFailed(Exception):
    """Wrong name or password, or a disabled account (the same answer for each)."""


class TooManyAttempts(Exception):
    """Too many failed logins for this name or from this address: wait."""


@dataclass(frozen=True)
class SignedIn:
    """Who a valid session belongs to, as the web layer needs it (no ORM row leaks out)."""

    user_id: int
    name: str
    role: str
    city: str | None
    csrf_token: str

    @property
    def may_change(self) -> bool:
        return self.role != StaffRole.viewer


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- accounts --------------------------------------------------------------------------------
def add_user(session: Session, name: str, role: str, password: str, *, city: str | None = None,
             cities: frozenset[str] | None = None, actor: str = "system") -> StaffUser:
    """Create an account; a city user needs its city, the others may have one (read scope)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("user name must be 1-100 characters")
    if role not in {r.value for r in StaffRole}:
        raise AccountError("role must be province, city or viewer")
    if role == StaffRole.city and not city:
        raise AccountError("a city user needs --city (e.g. 济南市)")
    if city and cities is not None and city not in cities:
        raise AccountError(f"{city!r} is not one of Shandong's 16 cities")
    if role == StaffRole.province and city:
        raise AccountError("a province user sees every city: leave out --city")
    if not password:
        raise AccountError("the password is empty")
    if session.exec(select(StaffUser).where(StaffUser.name == name)).first() is not None:
        raise AccountError(f"user {name!r} exists")
    user = StaffUser(name=name, role=role, city=city or None, password_hash=_HASHER.hash(password))
    session.add(user)
    session.flush()
    record(session, "user_added", actor=actor, detail=f"{name} ({role}{' ' + city if city else ''})")
    return user


def users(session: Session) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).order_by(col(StaffUser.name))).all())


def disable_user(session: Session, name: str, *, actor: str = "system") -> StaffUser:
    """Disable an account and end every session it has."""
    user = session.exec(select(StaffUser).where(StaffUser.name == name)).first()
    if user is None:
        raise AccountError(f"no user {name!r}")
    user.active, user.disabled_at = False, utcnow()
    session.add(user)
    for row in session.exec(select(WebSession).where(WebSession.user_id == user.id)).all():
        session.delete(row)
    record(session, "user_disabled", actor=actor, detail=name)
    return user


# --- logging in ------------------------------------------------------------------------------
def _failures(session: Session, since: datetime, **where: str) -> int:
    stmt = select(func.count()).select_from(LoginAttempt).where(
        col(LoginAttempt.success).is_(False), LoginAttempt.at >= since)
    for name, value in where.items():
        stmt = stmt.where(getattr(LoginAttempt, name) == value)
    return int(session.exec(stmt).one())


def check_rate(session: Session, name: str, client_ip: str, *, now: datetime | None = None) -> None:
    """TooManyAttempts when this name or this address failed MAX_FAILURES times lately."""
    since = (now or utcnow()) - FAILURE_WINDOW
    if (_failures(session, since, username=name[:100]) >= MAX_FAILURES
            or _failures(session, since, client_ip=client_ip[:64]) >= MAX_FAILURES):
        raise TooManyAttempts(f"登录失败次数过多，请 {FAILURE_WINDOW.seconds // 60} 分钟后再试")


def prune(session: Session, *, now: datetime | None = None) -> None:
    """Forget expired sessions and login tries older than a day (they decide nothing now)."""
    moment = now or utcnow()
    for row in session.exec(select(WebSession).where(WebSession.expires_at < moment)).all():
        session.delete(row)
    for attempt in session.exec(select(LoginAttempt).where(LoginAttempt.at < moment - timedelta(days=1))).all():
        session.delete(attempt)


def login(session: Session, name: str, password: str, client_ip: str) -> StaffUser:
    """The active user with this name and password; the try is counted either way."""
    check_rate(session, name, client_ip)
    prune(session)
    user = session.exec(select(StaffUser).where(StaffUser.name == name.strip())).first()
    ok = False
    try:
        ok = _HASHER.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and user.active
    session.add(LoginAttempt(username=name[:100], client_ip=client_ip[:64], success=ok))
    if not ok or user is None:
        record(session, "login_failed", actor=name[:100], detail=f"from {client_ip}")
        session.flush()
        raise LoginFailed("用户名或密码错误")
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
        session.add(user)
    record(session, "login", actor=user.name, detail=f"from {client_ip}")
    session.flush()
    return user


def open_session(session: Session, user: StaffUser, client_ip: str | None = None, *,
                 lifetime: timedelta = SESSION_LIFETIME) -> str:
    """A new session for *user*; returns the cookie's token (stored only as a hash)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(token), user_id=user.id or 0, csrf_token=secrets.token_urlsafe(32),
                           expires_at=utcnow() + lifetime, client_ip=(client_ip or "")[:64] or None))
    session.flush()
    return token


def signed_in(session: Session, token: str | None) -> SignedIn | None:
    """Who holds *token*: None when unknown, expired, or the account is disabled."""
    if not token:
        return None
    row = session.exec(select(WebSession).where(WebSession.token_hash == _digest(token))).first()
    if row is None:
        return None
    user = session.get(StaffUser, row.user_id)
    if user is None or not user.active or row.expires_at <= utcnow():
        return None
    return SignedIn(user.id or 0, user.name, user.role, user.city, row.csrf_token)


def close_session(session: Session, token: str | None, *, actor: str = "system") -> None:
    if token:
        for row in session.exec(select(WebSession).where(WebSession.token_hash == _digest(token))).all():
            session.delete(row)
            record(session, "logout", actor=actor)
