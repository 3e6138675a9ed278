"""Submission status: staff decisions stand; otherwise open errors decide."""

from __future__ import annotations

from sqlmodel import Session, select

from tracker.records.events import record
from tracker.store.tables import (
    STAFF_STATUSES,
    DeficiencyRecord,
    DeficiencyState,
    StoredMessage,
    Submission,
    SubmissionStatus,
)

DECISIONS = frozenset({SubmissionStatus.selected, SubmissionStatus.not_selected})


class StatusError(Exception):
    """A status change staff asked for is not allowed."""


def open_errors(session: Session, sub: Submission) -> list[DeficiencyRecord]:
    return list(
        session.exec(
            select(DeficiencyRecord).where(
                DeficiencyRecord.submission_id == sub.id,
                DeficiencyRecord.state == DeficiencyState.open,
                DeficiencyRecord.severity == "error",
            )
        ).all()
    )


def refresh_status(session: Session, sub: Submission, *, cause: StoredMessage | None = None) -> str:
    if sub.status in STAFF_STATUSES:
        return sub.status
    new = SubmissionStatus.incomplete if open_errors(session, sub) else SubmissionStatus.complete
    if new != sub.status:
        record(session, "status_changed", submission=sub, message=cause, detail=f"{sub.status} → {new}")
        sub.status = new
        session.add(sub)
    return sub.status


def set_status(session: Session, sub: Submission, status: str, *, actor: str, note: str = "") -> None:
    """A staff decision, recorded with who, when and why."""
    # formal_failed comes from formal review (``review formal``), with its reason, not from here
    allowed = {s.value for s in STAFF_STATUSES} - {SubmissionStatus.formal_failed}
    if status not in allowed:
        raise StatusError(f"status must be one of: {', '.join(sorted(allowed))}")
    if status in DECISIONS and not note.strip():
        raise StatusError("a decision (selected / not_selected) needs its reason: --note")
    if status == SubmissionStatus.selected and sub.formal == "fail":
        raise StatusError(f"{sub.reference} failed formal review ({sub.formal_reason}): pass it first")
    old = sub.status
    sub.status = status
    session.add(sub)
    record(session, "status_set", submission=sub, actor=actor, detail=f"{old} → {status}" + (f"：{note}" if note else ""))
