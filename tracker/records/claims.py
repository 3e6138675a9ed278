"""Claims: mail that would change a record its sender does not own, held for staff.

References are sequential and credit codes are public, so neither proves who wrote.
A mail may change a submission only when its sender is already a contact of it (an
address on file from an accepted version, or one staff set) — or is the verified city
bureau recommending it. Anything else becomes a claim: stored, shown to staff
(`jiebang claims`), and applied only when they confirm it. Until then the submission
is untouched: no version, no fields, no contacts, no deficiencies.

The claim keeps what intake understood (``payload``), so confirming applies exactly
what staff looked at, without opening the documents again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from campaign.clock import utcnow
from campaign.labels import CLAIM_KIND_LABELS
from intake.authres import SenderAuth
from intake.model import Application, Deficiency, Document, Recommendation, Understanding
from tracker.records.events import record
from tracker.store.tables import Claim, ClaimState, StoredMessage, Submission


class ClaimError(Exception):
    """A claim cannot be decided as asked (unknown, already decided); one line."""


# --- the understanding, kept as data -----------------------------------------------------------
def dump(result: Understanding) -> dict[str, Any]:
    """What confirming needs (documents without their text: the names, roles and formats)."""
    data = asdict(result)
    for doc in data["documents"]:
        doc["text"], doc["tables"] = "", []
    jsonable: dict[str, Any] = _jsonable(data)  # a dict stays a dict
    return jsonable


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(_jsonable(v) for v in value)
    return value


def _only(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def load(data: dict[str, Any]) -> Understanding:
    def when(value: Any) -> datetime | None:
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None

    plain = _only(Understanding, data)
    plain["received_at"] = when(plain.get("received_at"))
    plain["applications"] = [Application(**_only(Application, a)) for a in data.get("applications", [])]
    plain["recommendations"] = [Recommendation(**_only(Recommendation, r)) for r in data.get("recommendations", [])]
    plain["documents"] = [Document(**_only(Document, d)) for d in data.get("documents", [])]
    plain["deficiencies"] = [Deficiency(**_only(Deficiency, d)) for d in data.get("deficiencies", [])]
    plain["sender_auth"] = SenderAuth(**_only(SenderAuth, data.get("sender_auth") or {}))
    return Understanding(**plain)


# --- writing and deciding --------------------------------------------------------------------
def hold(session: Session, msg: StoredMessage, result: Understanding, *, kind: str, reason: str,
         round_code: str, submission: Submission | None = None, application: int | None = None,
         city: str | None = None) -> Claim:
    claim = Claim(round_code=round_code, kind=kind, submission_id=submission.id if submission else None,
                  message_pk=msg.id or 0, application=application, sender=(msg.from_addr or "")[:320] or None,
                  city=city, reason=reason, payload=dump(result))
    session.add(claim)
    session.flush()
    # logged on the message, not the submission: the victim's history shows no stranger's act
    record(session, "claim_held", message=msg, detail=f"#{claim.id} {kind}: {reason}")
    return claim


def pending(session: Session, round_code: str | None = None) -> list[Claim]:
    stmt = select(Claim).where(Claim.state == ClaimState.pending).order_by(col(Claim.id))
    if round_code:
        stmt = stmt.where(Claim.round_code == round_code)
    return list(session.exec(stmt).all())


@dataclass(frozen=True)
class HeldClaim:
    """A pending claim as staff review it (`jiebang claims`, the web workspace's /confirm)."""

    claim: Claim
    submission: str | None  # the reference it concerns
    applications: list[dict[str, Any]]  # what the mail brought: the one application, or all
    recommendations: list[dict[str, Any]]
    count: int  # applications in the whole mail

    @property
    def kind_label(self) -> str:
        return CLAIM_KIND_LABELS.get(self.claim.kind, self.claim.kind)


def review(session: Session, round_code: str | None = None) -> list[HeldClaim]:
    """Every pending claim with the reference it concerns and what its mail brought."""
    out = []
    for c in pending(session, round_code):
        sub = session.get(Submission, c.submission_id) if c.submission_id else None
        apps = list(c.payload.get("applications") or [])
        mine = [apps[c.application]] if c.application is not None and c.application < len(apps) else apps
        out.append(HeldClaim(c, sub.reference if sub else None, mine,
                             list(c.payload.get("recommendations") or []), len(apps)))
    return out


def get(session: Session, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise ClaimError(f"no claim #{claim_id}")
    if claim.state != ClaimState.pending:
        raise ClaimError(f"claim #{claim_id} is already {claim.state}")
    return claim


def decide(session: Session, claim: Claim, state: ClaimState, *, actor: str, note: str = "") -> None:
    claim.state, claim.decided_at, claim.decided_by, claim.note = state, utcnow(), actor[:100], note
    session.add(claim)
    sub = session.get(Submission, claim.submission_id) if claim.submission_id else None
    msg = session.get(StoredMessage, claim.message_pk)
    record(session, f"claim_{state}", submission=sub if state == ClaimState.confirmed else None,
           message=msg, actor=actor, detail=f"#{claim.id} {claim.kind}" + (f"：{note}" if note else ""))
