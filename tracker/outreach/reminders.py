"""Deadline reminders: N days before each deadline, to whoever still owes something.

At most one reminder per recipient per reminder day, across restarts (the outbox's
dedupe key); none after the deadline; none to a submission that is complete.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from campaign.policy import RoundPolicy
from notifier.outbox import enqueue
from tracker.outreach.replies import ReplySettings, open_items
from tracker.store.tables import CityPackage, Submission, SubmissionStatus

log = logging.getLogger("jiebang.reminders")


@dataclass
class ReminderReport:
    queued: list[str] = field(default_factory=list)  # "kind → address"


def _days_left(deadline: date | None, today: date) -> int | None:
    return None if deadline is None else (deadline - today).days


def queue_reminders(session: Session, policy: RoundPolicy, *, today: date, days_before: list[int],
                    settings: ReplySettings) -> ReminderReport:
    """Write today's reminders to the outbox (the caller commits)."""
    report = ReminderReport()
    plan: list[tuple[str, str | None]]
    if policy.role == "city":
        plan = [("city_applicant", None)]
    else:
        plan = [("direct", "direct"), ("city_bureau", "via_city")]
    for key, channel in plan:
        deadline = policy.deadlines.get(key)
        left = _days_left(deadline, today)
        if deadline is None or left is None or left < 0 or left not in days_before:
            continue
        _applicants(session, policy, deadline, left, channel, today, settings, report)
        if key == "city_bureau":
            _cities(session, policy, deadline, left, today, settings, report)
    return report


def _applicants(session: Session, policy: RoundPolicy, deadline: date, left: int, channel: str | None,
                today: date, settings: ReplySettings, report: ReminderReport) -> None:
    stmt = select(Submission).where(Submission.round_code == policy.code,
                                    Submission.status == SubmissionStatus.incomplete).order_by(col(Submission.id))
    if channel:
        stmt = stmt.where(Submission.channel == channel)
    for sub in session.exec(stmt).all():
        items = open_items(session, sub)
        # late: nothing to remind of; redirected to its city bureau (WRONG_CHANNEL): the
        # province's deadline is not its deadline, and the redirect said where and by when
        if not items or any(i["code"] in ("LATE", "WRONG_CHANNEL") for i in items):
            continue
        for addr in sub.contacts:
            row = enqueue(
                session, kind="reminder", to=[addr], template="reminder_applicant",
                context={"reference": sub.reference, "unit": sub.unit or "", "deadline": deadline,
                         "days_left": left, "items": items},
                reference=sub.reference, sender=settings.sender, daily_cap=settings.daily_cap,
                auto_submitted="auto-generated", own_addresses=settings.own_addresses,
                dedupe_key=f"reminder:{today.isoformat()}:{addr}", cause=f"deadline {deadline}",
            )
            if row is not None:
                report.queued.append(f"reminder_applicant → {addr}")


def _cities(session: Session, policy: RoundPolicy, deadline: date, left: int, today: date,
            settings: ReplySettings, report: ReminderReport) -> None:
    arrived = set(session.exec(
        select(CityPackage.city).where(CityPackage.round_code == policy.code, col(CityPackage.current).is_(True))
    ).all())
    for name, bureau in policy.cities.items():
        if name in arrived:
            continue
        for addr in bureau.bureau_emails:
            row = enqueue(
                session, kind="reminder", to=[addr], template="reminder_city",
                context={"city": name, "deadline": deadline, "days_left": left},
                reference=None, sender=settings.sender, daily_cap=settings.daily_cap,
                auto_submitted="auto-generated", own_addresses=settings.own_addresses,
                dedupe_key=f"reminder:{today.isoformat()}:{addr}", cause=f"deadline {deadline}",
            )
            if row is not None:
                report.queued.append(f"reminder_city → {addr}")
