"""The notice that follows a staff correction, when staff choose to send one.

It is the normal answer to the applicant's material — the deficiency notice while errors
stay open, else the acknowledgement — written to the outbox for the addresses on file,
with a key per correction so that a double click sends it once.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from campaign.clock import utcnow
from campaign.policy import RoundPolicy
from notifier.models import OutboxMail
from notifier.outbox import enqueue
from tracker.outreach.replies import ReplySettings, ack_context, open_items
from tracker.records.events import record
from tracker.store.tables import Submission, SubmissionVersion


def queue_corrected_notice(session: Session, policy: RoundPolicy, settings: ReplySettings, sub: Submission,
                           *, key: str, actor: str) -> OutboxMail | None:
    """Queue the deficiency notice or the acknowledgement for *sub* as it stands now."""
    to = list(sub.contacts)
    if not to:
        return None
    latest = session.exec(select(SubmissionVersion).where(SubmissionVersion.submission_id == sub.id)
                          .order_by(col(SubmissionVersion.number).desc())).first()
    received = (latest.received_at if latest else None) or sub.created_at
    items = open_items(session, sub)
    context: dict[str, Any]
    if items:
        kind, context = "deficiency", {"reference": sub.reference, "unit": sub.unit, "items": items,
                                       "received_at": received, "deadline": policy.deadline_for(sub.channel)}
        if policy.is_late(utcnow(), sub.channel):  # corrected after the deadline: nothing left to resend
            context["situation"] = "closed"
    else:
        kind, context = "ack", ack_context(session, sub, list(latest.documents) if latest else [], received)
    row = enqueue(session, kind=kind, to=to, template=kind, context=context, reference=sub.reference,
                  sender=settings.sender, dedupe_key=f"correction:{sub.reference}:{key}",
                  daily_cap=settings.daily_cap, cause=f"correction by {actor}",
                  own_addresses=settings.own_addresses, auto_submitted="auto-generated")
    if row is not None:
        record(session, "corrected_notice_queued", submission=sub, actor=actor, detail=f"{kind} → {', '.join(to)}")
    return row
