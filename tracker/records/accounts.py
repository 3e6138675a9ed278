"""Staff accounts of the web workspace: users, passwords, sessions, the login rate limit.

Passwords are kept as argon2id hashes only, and must pass ``passwords.problem`` (12
characters or more, not a common one, not the name). Names are compared normalised
(NFKC, case folded, stripped): ``Alice``, `` alice`` and ``ａｌｉｃｅ`` are one account and
one counter. A session is a random token in the browser's cookie and its sha256 here, so
a copy of the database opens no session; it ends after ``idle`` without a request, and
at the latest ``lifetime`` after it began.

Failed logins are counted in the database (not in memory), so several `jiebang run` /
`jiebang web` processes behind one proxy agree: an address that failed MAX_FAILURES times
is refused for FAILURE_WINDOW (whatever name it tries); a name that failed from *other*
addresses is only slowed down (``name_delay``), never locked, so nobody can lock staff
out by failing their name on purpose.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, func, select

from campaign.clock import utcnow
from tracker.records.events import record
from tracker.records.passwords import normal, problem
from tracker.store.tables import LoginAttempt, StaffRole, StaffUser, WebSession

SESSION_LIFETIME = timedelta(hours=12)
_SLIDE_EVERY = timedelta(minutes=1)  # a session's idle deadline is written at most this often
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5  # per client address within FAILURE_WINDOW: then that address waits
NAME_FREE_FAILURES = 3  # a name's failures from other addresses before its tries are slowed
MAX_NAME_DELAY = 30.0  # seconds; the delay doubles with each failure beyond NAME_FREE_FAILURES
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
    """Too many failed logins from this address: wait."""


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
def normalise_name(name: str) -> str:
    """The one spelling of a login name (NFKC, case folded, stripped), as stored and counted."""
    return normal(name)[:100]


def find_user(session: Session, name: str) -> StaffUser | None:
    """The account *name* means, however it is spelt (case, width, spaces around it)."""
    wanted = normalise_name(name)
    if not wanted:
        return None
    exact = session.exec(select(StaffUser).where(StaffUser.name == wanted)).first()
    if exact is not None:
        return exact
    # an account added before names were normalised: few rows, compared one by one
    return next((u for u in users(session) if normalise_name(u.name) == wanted), None)


def check_password(name: str, password: str) -> None:
    """AccountError (one line) when *password* may not be used for *name*."""
    why = problem(name, password)
    if why:
        raise AccountError(why)


def add_user(session: Session, name: str, role: str, password: str, *, city: str | None = None,
             cities: frozenset[str] | None = None, actor: str = "system") -> StaffUser:
    """Create an account; a city user needs its city, the others may have one (read scope)."""
    raw = name
    name = normalise_name(name)
    if not name or len(normal(raw)) > 100:
        raise AccountError("user name must be 1-100 characters")
    if any(unicodedata.category(c)[0] in "CZ" and c != " " for c in name):
        raise AccountError("user name must not contain control characters or odd spaces")
    if role not in {r.value for r in StaffRole}:
        raise AccountError("role must be province, city, viewer or expert")
    if role == StaffRole.city and not city:
        raise AccountError("a city user needs --city (e.g. 济南市)")
    if city and cities is not None and city not in cities:
        raise AccountError(f"{city!r} is not one of Shandong's 16 cities")
    if role == StaffRole.province and city:
        raise AccountError("a province user sees every city: leave out --city")
    if not password:
        raise AccountError("the password is empty")
    check_password(name, password)
    if find_user(session, name) is not None:
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
    user = find_user(session, name)
    if user is None:
        raise AccountError(f"no user {name!r}")
    user.active, user.disabled_at = False, utcnow()
    session.add(user)
    for row in session.exec(select(WebSession).where(WebSession.user_id == user.id)).all():
        session.delete(row)
    record(session, "user_disabled", actor=actor, detail=user.name)
    return user


# --- logging in ------------------------------------------------------------------------------
def _failures(session: Session, since: datetime, *, username: str | None = None, client_ip: str | None = None,
              other_than_ip: str | None = None) -> int:
    stmt = select(func.count()).select_from(LoginAttempt).where(
        col(LoginAttempt.success).is_(False), LoginAttempt.at >= since)
    if username is not None:
        stmt = stmt.where(LoginAttempt.username == username)
    if client_ip is not None:
        stmt = stmt.where(LoginAttempt.client_ip == client_ip)
    if other_than_ip is not None:
        stmt = stmt.where(LoginAttempt.client_ip != other_than_ip)
    return int(session.exec(stmt).one())


def check_rate(session: Session, name: str, client_ip: str, *, now: datetime | None = None) -> None:
    """TooManyAttempts when this address failed MAX_FAILURES times lately (whatever the names)."""
    since = (now or utcnow()) - FAILURE_WINDOW
    if _failures(session, since, client_ip=client_ip[:64]) >= MAX_FAILURES:
        raise TooManyAttempts(f"此地址登录失败次数过多，请 {FAILURE_WINDOW.seconds // 60} 分钟后再试")


def name_delay(session: Session, name: str, client_ip: str, *, now: datetime | None = None) -> float:
    """Seconds to wait before trying *name* from *client_ip*: grows with the name's recent
    failures from other addresses (doubling, at most MAX_NAME_DELAY), never a lockout."""
    since = (now or utcnow()) - FAILURE_WINDOW
    failed = _failures(session, since, username=normalise_name(name), other_than_ip=client_ip[:64])
    if failed < NAME_FREE_FAILURES:
        return 0.0
    return float(min(MAX_NAME_DELAY, 2.0 ** (failed - NAME_FREE_FAILURES)))


def count_failure(session: Session, name: str, client_ip: str) -> None:
    """A failed step of signing in other than the password (a wrong one-time code)."""
    session.add(LoginAttempt(username=normalise_name(name), client_ip=client_ip[:64], success=False))
    session.flush()


def prune(session: Session, *, now: datetime | None = None) -> None:
    """Forget expired sessions and login tries older than a day (they decide nothing now)."""
    moment = now or utcnow()
    for row in session.exec(select(WebSession).where(WebSession.expires_at < moment)).all():
        session.delete(row)
    for attempt in session.exec(select(LoginAttempt).where(LoginAttempt.at < moment - timedelta(days=1))).all():
        session.delete(attempt)


def login(session: Session, name: str, password: str, client_ip: str) -> StaffUser:
    """The active user with this name and password; the try is counted either way.

    The caller waits ``name_delay`` first (without holding a thread or a connection)."""
    check_rate(session, name, client_ip)
    prune(session)
    name = normalise_name(name)
    user = find_user(session, name)
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
                 lifetime: timedelta = SESSION_LIFETIME, idle: timedelta | None = None) -> str:
    """A new session for *user*; returns the cookie's token (stored only as a hash).

    Its ``expires_at`` is the idle deadline (with *idle*): ``signed_in`` moves it on with
    each request, never beyond ``created_at + lifetime``."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebSession(token_hash=_digest(token), user_id=user.id or 0, csrf_token=secrets.token_urlsafe(32),
                           created_at=now, expires_at=now + (min(idle, lifetime) if idle else lifetime),
                           client_ip=(client_ip or "")[:64] or None))
    session.flush()
    return token


def signed_in(session: Session, token: str | None, *, idle: timedelta | None = None,
              lifetime: timedelta = SESSION_LIFETIME, now: datetime | None = None) -> SignedIn | None:
    """Who holds *token*: None when unknown, expired (idle too long, or past its lifetime),
    or the account is disabled. With *idle*, a valid session's idle deadline moves on
    (flushed; the caller commits)."""
    if not token:
        return None
    row = session.exec(select(WebSession).where(WebSession.token_hash == _digest(token))).first()
    if row is None:
        return None
    user = session.get(StaffUser, row.user_id)
    moment = now or utcnow()
    if user is None or not user.active or row.expires_at <= moment:
        return None
    if idle is not None:
        deadline = min(moment + idle, row.created_at + lifetime)
        if deadline - row.expires_at >= _SLIDE_EVERY:
            row.expires_at = deadline
            session.add(row)
            session.flush()
    return SignedIn(user.id or 0, user.name, user.role, user.city, row.csrf_token)



def close_session(session: Session, token: str | None, *, actor: str = "system") -> None:
    if token:
        for row in session.exec(select(WebSession).where(WebSession.token_hash == _digest(token))).all():
            session.delete(row)
            record(session, "logout", actor=actor)
