"""Staff decisions on a submission, and what follows from them."""

from __future__ import annotations

from sqlmodel import Session

from campaign.policy import RoundPolicy
from tracker.records.rules import refresh_all
from tracker.records.status import set_status
from tracker.store.tables import Submission


def decide(session: Session, policy: RoundPolicy, sub: Submission, status: str, *, actor: str,
           note: str = "") -> None:
    """Set a staff status (StatusError if not allowed), then re-run the rules across
    messages: a withdrawal can end a duplicate lead or a city's quota breach."""
    set_status(session, sub, status, actor=actor, note=note)
    session.flush()
    refresh_all(session, policy)
