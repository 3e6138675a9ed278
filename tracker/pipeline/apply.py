"""Decide, then act: apply one understood message to the records and the outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session

from campaign.policy import RoundPolicy
from intake.model import Understanding
from notifier.outbox import mark_bounced
from tracker.outreach.replies import Replier, ReplySettings
from tracker.records.events import record
from tracker.records.rules import CROSS_RULES
from tracker.records.submissions import apply_submission
from tracker.store.tables import StoredMessage

log = logging.getLogger("jiebang.apply")


@dataclass(frozen=True)
class Applier:
    """The processing step's ``apply``: records, rules, replies — one transaction."""

    policy: RoundPolicy
    replies: ReplySettings

    def __call__(self, session: Session, msg: StoredMessage, result: Understanding) -> None:
        replier = Replier(session, self.policy, self.replies, msg, result)
        may_reply = result.no_reply_reason is None
        if not may_reply:
            record(session, "no_auto_reply", message=msg, detail=result.no_reply_reason or "")
        if result.intent == "submission":
            touched = apply_submission(session, msg, result, self.policy)
            assigned = [sub.reference for sub, _, _ in touched.versions]
            msg.references = list(dict.fromkeys([*msg.references, *assigned]))
            session.flush()
            # every cross rule; a per-city rule only for the city whose package this was
            city = touched.package.city if touched.package is not None else None
            for rule in CROSS_RULES:
                if not (rule.per_city and city is None):
                    rule.refresh(session, self.policy, msg, city)
            if may_reply:
                replier.for_submission(touched)
        elif result.intent == "status_query":
            if may_reply:
                replier.for_status_query()
        elif result.intent == "bounce":
            for message_id in result.bounced_message_ids:
                row = mark_bounced(session, message_id, reason=result.subject)
                if row is not None:
                    record(session, "notification_bounced", message=msg, detail=f"{row.kind} → {', '.join(row.to_addrs)}")
        # auto_reply and other: kept for staff (the digest lists unanswered "other")
