"""Read-only views over the records, for the CLI and the digest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from campaign.policy import RoundPolicy
from tracker.store.tables import (
    DeficiencyRecord,
    DeficiencyState,
    Event,
    MessageState,
    StoredMessage,
    Submission,
    SubmissionVersion,
)


def message_rows(engine: Engine, policy: RoundPolicy, *, state: str | None = None) -> list[dict[str, Any]]:
    """`jiebang messages --json` (docs/contracts.md, "Listings"); a not-yet-understood message counts as processed=False."""
    with Session(engine) as session:
        stmt = select(StoredMessage).order_by(col(StoredMessage.id))
        if state:
            stmt = stmt.where(StoredMessage.state == state)
        rows = session.exec(stmt).all()
    return [
        {
            "message_id": m.message_id,
            "from": m.from_addr,
            "subject": m.subject,
            "received_at": m.received_at.astimezone(policy.tz).isoformat() if m.received_at else None,
            "intent": m.intent,
            "state": m.state if m.state != MessageState.stored else "stored",
            "error": m.error,
            "references": list(m.references or []),
        }
        for m in rows
    ]


def open_codes(session: Session, submission_id: int) -> list[str]:
    rows = session.exec(
        select(DeficiencyRecord.code).where(DeficiencyRecord.submission_id == submission_id,
                                           DeficiencyRecord.state == DeficiencyState.open)
        .order_by(col(DeficiencyRecord.id))
    ).all()
    return list(dict.fromkeys(rows))


def submission_rows(engine: Engine, *, direction: int | None = None, city: str | None = None,
                    channel: str | None = None, status: str | None = None,
                    has_deficiency: str | None = None, late: bool | None = None) -> list[dict[str, Any]]:
    """`jiebang list --json` (docs/contracts.md, "Listings"), with the staff filters."""
    with Session(engine) as session:
        stmt = select(Submission).order_by(Submission.reference)
        if direction:
            stmt = stmt.where(Submission.direction == direction)
        if city:
            stmt = stmt.where((Submission.city == city) | (Submission.unit_city == city))
        if channel:
            stmt = stmt.where(Submission.channel == channel)
        if status:
            stmt = stmt.where(Submission.status == status)
        if late is not None:
            stmt = stmt.where(Submission.late == late)
        out = []
        for sub in session.exec(stmt).all():
            assert sub.id is not None  # a stored row
            codes = open_codes(session, sub.id)
            if has_deficiency and has_deficiency not in codes and not (has_deficiency == "any" and codes):
                continue
            out.append({
                "reference": sub.reference, "unit": sub.unit, "uscc": sub.uscc,
                "direction": sub.direction or None, "channel": sub.channel, "city": sub.city or sub.unit_city,
                "status": sub.status, "versions": sub.versions, "late": sub.late,
                "deficiencies": codes, "contacts": list(sub.contacts),
            })
        return out


def find_submission(session: Session, reference: str) -> Submission | None:
    return session.exec(select(Submission).where(Submission.reference == reference.strip().upper())).first()


def submission_detail(engine: Engine, reference: str) -> dict[str, Any] | None:
    """Everything staff need about one submission: versions, documents, deficiencies, events."""
    with Session(engine) as session:
        sub = find_submission(session, reference)
        if sub is None:
            return None
        versions = session.exec(select(SubmissionVersion).where(SubmissionVersion.submission_id == sub.id)
                                .order_by(col(SubmissionVersion.number))).all()
        defs = session.exec(select(DeficiencyRecord).where(DeficiencyRecord.submission_id == sub.id)
                            .order_by(col(DeficiencyRecord.id))).all()
        events = session.exec(select(Event).where(Event.submission_id == sub.id).order_by(col(Event.id))).all()
        return {
            "submission": sub.model_dump(),
            "versions": [v.model_dump() for v in versions],
            "deficiencies": [d.model_dump() for d in defs],
            "events": [e.model_dump() for e in events],
        }
