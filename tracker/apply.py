"""Decide, then act: apply one understood message to the records and the outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session

from intake.model import Understanding
from intake.policy import RoundPolicy
from notifier.outbox import mark_bounced
from tracker.events import record
from tracker.models import StoredMessage
from tracker.replies import Replier, ReplySettings
from tracker.rules import refresh_city_quota, refresh_duplicate_leads
from tracker.submissions import apply_submission

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
            refresh_duplicate_leads(session, self.policy.code, cause=msg)
            if touched.package is not None:
                refresh_city_quota(session, self.policy.code, touched.package.city, cause=msg)
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
