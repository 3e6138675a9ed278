"""Two-factor sign-in: a TOTP code (RFC 6238, 30-second steps) or a recovery code after the password.

- ``enrol`` makes a new secret and ten single-use recovery codes (kept as sha256 only;
  shown once), replacing any earlier enrolment;
- ``verify`` accepts the code of the current step or one step either side (a phone's
  clock drifts); the step accepted is stored, so that code and any earlier one never work
  again (a code seen over a shoulder or in a proxy log is spent). A recovery code works once;
- between the password and the code the browser holds a :class:`LoginChallenge` (a token
  in a cookie, its hash here): it opens no page, lasts five minutes and ends after five
  wrong codes, so the password has to be given again.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import update
from sqlmodel import Session, col, select

from campaign.clock import utcnow
from tracker.records.events import record
from tracker.store.tables import LoginChallenge, RecoveryCode, StaffTwoFactor, StaffUser

ISSUER = "揭榜挂帅申报工作台"
RECOVERY_CODES = 10
CHALLENGE_LIFETIME = timedelta(minutes=5)
MAX_CODE_FAILURES = 5
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read aloud or copied by hand


@dataclass(frozen=True)
class Enrolment:
    """What the account holder is shown once: the secret, its otpauth URI, the recovery codes."""

    secret: str
    uri: str
    recovery_codes: tuple[str, ...]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _normal(code: str) -> str:
    """A typed code as compared: full-width digits, spaces and dashes forgiven, lower case."""
    return "".join(c for c in unicodedata.normalize("NFKC", code) if c.isalnum()).lower()[:40]


def _recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def enrolled(session: Session, user_id: int) -> bool:
    return session.get(StaffTwoFactor, user_id) is not None


def enrol(session: Session, user: StaffUser, *, actor: str = "system") -> Enrolment:
    """A new secret and new recovery codes for *user* (the old ones stop working)."""
    user_id = user.id or 0
    _forget(session, user_id)
    secret = pyotp.random_base32()
    session.add(StaffTwoFactor(user_id=user_id, secret=secret))
    codes = tuple(_recovery_code() for _ in range(RECOVERY_CODES))
    for code in codes:
        session.add(RecoveryCode(user_id=user_id, code_hash=_hash(_normal(code))))
    session.flush()
    record(session, "2fa_enrolled", actor=actor, detail=user.name)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.name, issuer_name=ISSUER)
    return Enrolment(secret, uri, codes)


def remove(session: Session, user: StaffUser, *, actor: str = "system") -> bool:
    """End *user*'s enrolment (a lost phone); False when there was none."""
    had = _forget(session, user.id or 0)
    if had:
        record(session, "2fa_removed", actor=actor, detail=user.name)
    return had


def _forget(session: Session, user_id: int) -> bool:
    row = session.get(StaffTwoFactor, user_id)
    for code in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user_id)).all():
        session.delete(code)
    if row is not None:
        session.delete(row)
    session.flush()
    return row is not None


def recovery_left(session: Session, user_id: int) -> int:
    return len(session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user_id,
                                                       col(RecoveryCode.used_at).is_(None))).all())


def verify(session: Session, user: StaffUser, code: str, *, now: datetime | None = None) -> bool:
    """True once for a right code: a TOTP code of a step later than the last one accepted,
    or an unused recovery code (then spent). Flushed; the caller commits."""
    typed, moment = _normal(code), now or utcnow()
    factor = session.get(StaffTwoFactor, user.id or 0)
    if factor is None or not typed:
        return False
    if typed.isdigit() and len(typed) == 6:
        totp = pyotp.TOTP(factor.secret)
        step = int(moment.timestamp()) // totp.interval
        for candidate in (step - 1, step, step + 1):
            if factor.last_step is not None and candidate <= factor.last_step:
                continue  # replay: this code (or an older one) was used already
            if secrets.compare_digest(totp.generate_otp(candidate), typed):
                return _spend(session, factor, candidate)
        return False
    wanted = _hash(typed)
    for row in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == factor.user_id,
                                                       col(RecoveryCode.used_at).is_(None))).all():
        if secrets.compare_digest(row.code_hash, wanted):
            row.used_at = moment
            session.add(row)
            record(session, "recovery_code_used", actor=user.name,
                   detail=f"剩余 {recovery_left(session, factor.user_id) - 1} 个恢复码")
            session.flush()
            return True
    return False


def _spend(session: Session, factor: StaffTwoFactor, step: int) -> bool:
    """Mark *step* used, in one conditional UPDATE: of two requests racing with one code,
    only one finds the step still unused."""
    stmt = (update(StaffTwoFactor).where(col(StaffTwoFactor.user_id) == factor.user_id)
            .where(col(StaffTwoFactor.last_step).is_(None) | (col(StaffTwoFactor.last_step) < step))
            .values(last_step=step))
    spent = bool(getattr(session.execute(stmt), "rowcount", 0) == 1)  # a CursorResult: rows it changed
    session.refresh(factor)
    return spent


# --- the step between the password and the code ------------------------------------------------
def open_challenge(session: Session, user: StaffUser, client_ip: str | None = None) -> str:
    """The cookie token of a new half-signed-in browser (stored as its hash only)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    for old in session.exec(select(LoginChallenge).where(LoginChallenge.expires_at < now)).all():
        session.delete(old)
    session.add(LoginChallenge(token_hash=_hash(token), user_id=user.id or 0, created_at=now,
                               expires_at=now + CHALLENGE_LIFETIME, client_ip=(client_ip or "")[:64] or None))
    session.flush()
    return token


def challenged(session: Session, token: str | None, *, now: datetime | None = None) -> StaffUser | None:
    """The account a live challenge *token* stands for; None when unknown, expired or disabled."""
    if not token:
        return None
    row = session.exec(select(LoginChallenge).where(LoginChallenge.token_hash == _hash(token))).first()
    if row is None or row.expires_at <= (now or utcnow()) or row.failures >= MAX_CODE_FAILURES:
        return None
    user = session.get(StaffUser, row.user_id)
    return user if user is not None and user.active else None


def answer(session: Session, token: str, code: str, *, now: datetime | None = None) -> StaffUser | None:
    """The account, its challenge closed, when *code* is right; None otherwise (counted)."""
    user = challenged(session, token, now=now)
    row = session.exec(select(LoginChallenge).where(LoginChallenge.token_hash == _hash(token))).first()
    if user is None or row is None:
        return None
    if verify(session, user, code, now=now):
        session.delete(row)
        session.flush()
        return user
    row.failures += 1
    session.add(row)
    record(session, "2fa_failed", actor=user.name, detail=f"第 {row.failures} 次")
    session.flush()
    return None


def close_challenge(session: Session, token: str | None) -> None:
    if token:
        for row in session.exec(select(LoginChallenge).where(LoginChallenge.token_hash == _hash(token))).all():
            session.delete(row)
