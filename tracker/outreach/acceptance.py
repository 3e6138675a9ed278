"""Acceptance reminders (SPEC section 7), counted in Chinese working days, each sent once:

- a selected unit that has not asked for acceptance, ``acceptance.remind_working_days``
  working days before the round's end (``acceptance.due``);
- a unit in rework, the same number of working days before its date.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from campaign.policy import RoundPolicy
from campaign.workdays import working_days_before
from notifier.outbox import enqueue
from tracker.outreach.replies import ReplySettings
from tracker.records.acceptance import latest_decision, mark_reminded, promised
from tracker.records.events import record
from tracker.store.tables import Submission, SubmissionStatus


def _outcomes(sub: Submission, policy: RoundPolicy) -> str:
    return "、".join(t.outcome for t in promised(sub, policy.catalogue)) or "申报书承诺的成果"


def queue_acceptance_reminders(session: Session, policy: RoundPolicy, settings: ReplySettings, *,
                               today: date) -> list[str]:
    """Write the reminders due today (the caller commits); returns the references."""
    rules = policy.catalogue.acceptance
    sent: list[str] = []
    selected = session.exec(select(Submission).where(Submission.status == SubmissionStatus.selected)).all()
    due = date.fromisoformat(rules.due) if rules.due else None
    for sub in selected:
        if not sub.contacts:
            continue
        context = {"reference": sub.reference, "unit": sub.unit or "", "due": due, "until": None,
                   "outcomes": _outcomes(sub, policy)}
        if sub.acceptance is None and due is not None and today >= working_days_before(due, rules.remind_working_days).end:
            key = f"acceptance-due:{policy.code}:{sub.reference}"
        elif sub.acceptance == "rework":
            decision = latest_decision(session, sub)
            if decision is None or decision.until is None or decision.reminded_at is not None:
                continue
            if today < working_days_before(decision.until, rules.remind_working_days).end:
                continue
            context["until"] = decision.until
            key = f"acceptance-rework:{decision.id}"
            mark_reminded(session, decision)
        else:
            continue
        row = enqueue(session, kind="acceptance_reminder", to=list(sub.contacts), template="acceptance_reminder",
                      context=context, reference=sub.reference, sender=settings.sender, dedupe_key=key,
                      daily_cap=settings.daily_cap, cause="acceptance reminder",
                      own_addresses=settings.own_addresses)
        if row is not None:
            sent.append(sub.reference)
            record(session, "acceptance_reminded", submission=sub,
                   detail="整改期限提醒" if context["until"] else "验收提醒")
    return sent
