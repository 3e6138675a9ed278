"""Decide, then act: apply one understood message to the records and the outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sqlmodel import Session

from campaign.policy import RoundPolicy
from intake.model import Understanding
from notifier.outbox import mark_bounced
from tracker.outreach.replies import Replier, ReplySettings
from tracker.records import acceptance, claims, contacts
from tracker.records.acceptance import acceptance_target
from tracker.records.events import record
from tracker.records.review import objections
from tracker.records.rules import CROSS_RULES
from tracker.records.submissions import Touched, apply_submission
from tracker.store.tables import Claim, ClaimState, StoredMessage, Submission

log = logging.getLogger("jiebang.apply")


@dataclass(frozen=True)
class Applier:
    """The processing step's ``apply``: records, rules, replies — one transaction."""

    policy: RoundPolicy
    replies: ReplySettings

    def __call__(self, session: Session, msg: StoredMessage, result: Understanding) -> None:
        replier = Replier(session, self.policy, self.replies, msg, result)
        why_not = result.no_reply_reason
        if why_not is None and result.sender_auth.forged:
            # our own server says the From is forged: an answer would go to a bystander
            why_not = f"sender authentication failed at our server ({result.sender_auth.summary()})"
        may_reply = why_not is None
        if not may_reply:
            record(session, "no_auto_reply", message=msg, detail=why_not or "")
        if result.objection and objections.receive(session, self.policy.catalogue, msg, result) is not None:
            if may_reply:  # the sender learns only that it reached staff
                replier.for_objection()
            return
        if result.intent == "submission":
            touched = self._record(session, msg, result)
            if may_reply:
                replier.for_submission(touched)
                replier.for_claims(touched)
        elif result.intent == "acceptance_request":
            self._acceptance(session, msg, result, replier if may_reply else None)
        elif result.intent == "status_query":
            if may_reply:
                replier.for_status_query()
        elif result.intent == "bounce":
            for message_id in result.bounced_message_ids:
                row = mark_bounced(session, message_id, reason=result.subject)
                if row is not None:
                    record(session, "notification_bounced", message=msg, detail=f"{row.kind} → {', '.join(row.to_addrs)}")
        # auto_reply and other: kept for staff (the digest lists unanswered "other")

    def _acceptance(self, session: Session, msg: StoredMessage, result: Understanding,
                    replier: Replier | None) -> None:
        """A request for acceptance (SPEC 7): from a selected application's contact it is
        recorded on it and answered (received, missing); from anyone else, a claim."""
        sub, why = acceptance_target(session, msg, result)
        if why is not None:
            claim = claims.hold(session, msg, result, kind="acceptance", reason=why, round_code=self.policy.code,
                                submission=sub)
            if replier is not None:
                replier.for_claims(Touched(claims=[claim]))
            return
        assert sub is not None
        self._attach_acceptance(session, msg, result, sub, replier)

    def _attach_acceptance(self, session: Session, msg: StoredMessage, result: Understanding, sub: Submission,
                           replier: Replier | None) -> None:
        checked = acceptance.check(sub, result.documents, self.policy.catalogue)
        request = acceptance.record_request(session, sub, msg, checked)
        msg.references = list(dict.fromkeys([*msg.references, sub.reference]))
        session.add(msg)
        if replier is not None:
            replier.for_acceptance(sub, request.received, request.missing)

    def _record(self, session: Session, msg: StoredMessage, result: Understanding, *,
                confirmed: bool = False) -> Touched:
        touched = apply_submission(session, msg, result, self.policy, confirmed=confirmed)
        assigned = [sub.reference for sub, _, _ in touched.versions]
        msg.references = list(dict.fromkeys([*msg.references, *assigned]))
        session.add(msg)
        session.flush()
        # every cross rule; a per-city rule only for the city whose package this was
        city = touched.package.city if touched.package is not None else None
        # the rules look up the lead units this mail touched, not the whole round: the
        # cost per mail stays flat as the round grows (benchmarks/recording_cost.py)
        leads = {sub.lead_key for sub, _, _ in touched.versions}
        for rule in CROSS_RULES:
            if not (rule.per_city and city is None):
                rule.refresh(session, self.policy, msg, city, leads=leads)
        return touched

    def confirm(self, session: Session, claim: Claim, *, actor: str, note: str = "", transfer: bool = False
                ) -> Touched:
        """Staff confirm a claim: apply what the mail brought, as if its sender were on file,
        and answer it as any accepted submission is answered. *transfer*: the claim's sender
        is the real applicant; it becomes the only address on file of what the mail touched."""
        msg = session.get(StoredMessage, claim.message_pk)
        if msg is None:
            raise claims.ClaimError(f"claim #{claim.id}: its message is gone")
        result = claims.load(claim.payload)
        if claim.kind == "acceptance":  # staff say the sender may speak for the application
            sub = session.get(Submission, claim.submission_id) if claim.submission_id else None
            if sub is None:
                raise claims.ClaimError(f"claim #{claim.id}: no application to attach the acceptance request to")
            claims.decide(session, claim, ClaimState.confirmed, actor=actor, note=note)
            may = result.no_reply_reason is None and not result.sender_auth.forged
            self._attach_acceptance(session, msg, result, sub,
                                    Replier(session, self.policy, self.replies, msg, result) if may else None)
            return Touched()
        if claim.application is not None and 0 <= claim.application < len(result.applications):
            keep = claim.application
            result.applications = [result.applications[keep]]
            result.deficiencies = [replace(d, application=0) for d in result.deficiencies
                                   if d.application in (None, keep)]
        claims.decide(session, claim, ClaimState.confirmed, actor=actor, note=note)
        touched = self._record(session, msg, result, confirmed=True)
        if transfer:
            if not msg.from_addr:
                raise claims.ClaimError(f"claim #{claim.id}: its mail names no one sender to transfer to")
            for sub, _version, _codes in touched.versions:
                contacts.transfer(session, sub, msg.from_addr, actor=actor, note=note)
        if result.no_reply_reason is None and not result.sender_auth.forged:
            Replier(session, self.policy, self.replies, msg, result).for_submission(touched)
        return touched

    def reject(self, session: Session, claim: Claim, *, actor: str, note: str = "") -> None:
        claims.decide(session, claim, ClaimState.rejected, actor=actor, note=note)
