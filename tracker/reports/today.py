"""Deadline day at a glance (#26): what arrived per hour today, what waits, who works on
it, when the backlog should clear — one snapshot read in a few indexed queries, shared by
the workspace's 今日 page and the operator's ``/metrics``.

The estimate divides what waits by what was finished in the last 30 minutes: honest while
the pace holds, None when nothing was finished (no pace to go by).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from campaign.catalogue import Catalogue
from campaign.clock import local, local_day, utcnow
from notifier.models import OutboxMail, OutboxState
from tracker.store.tables import MessageState, StoredMessage

PACE_WINDOW = timedelta(minutes=30)
LARGE = 1024 * 1024  # a waiting mail this big most likely carries scans: the OCR backlog's proxy


@dataclass(frozen=True)
class QueueSnapshot:
    at: datetime  # the round's local time
    arrivals: tuple[tuple[int, int], ...]  # (hour 0–23, mails arrived) today, every hour so far
    waiting: int  # stored, not yet understood
    waiting_large: int  # of those, over 1 MB (scans and photos: OCR)
    in_flight: int  # claimed by a worker now
    workers: tuple[tuple[str, int], ...]  # host → messages it works on now
    quarantined_today: int
    finished_recently: int  # processed in the last PACE_WINDOW
    held_replies: int
    outbox_pending: int
    oldest_waiting: datetime | None

    @property
    def clears_in_minutes(self) -> int | None:
        if self.waiting == 0:
            return 0
        if self.finished_recently == 0:
            return None
        per_minute = self.finished_recently / (PACE_WINDOW.total_seconds() / 60)
        return max(1, round(self.waiting / per_minute))

    @property
    def arrivals_today(self) -> int:
        return sum(n for _, n in self.arrivals)


def snapshot(session: Session, catalogue: Catalogue, now: datetime | None = None) -> QueueSnapshot:
    now = now or utcnow()
    start, _end = local_day(now, catalogue)
    m = StoredMessage
    arrived = func.coalesce(m.received_at, m.stored_at)
    times = session.exec(select(arrived).where(arrived >= start)).all()
    hours = Counter(local(t, catalogue).hour for t in times if t is not None)
    current_hour = local(now, catalogue).hour
    waiting_rows = session.exec(select(m.size, m.claimed_by, arrived).where(m.state == MessageState.stored)).all()
    claimed = [by for _size, by, _at in waiting_rows if by]
    hosts = Counter(by.rpartition(":")[0] or by for by in claimed)
    oldest = min((at for _s, _b, at in waiting_rows if at is not None), default=None)
    quarantined = session.exec(select(func.count()).select_from(m).where(
        m.state == MessageState.quarantined, col(m.processed_at) >= start)).one()
    finished = session.exec(select(func.count()).select_from(m).where(
        m.state == MessageState.processed, col(m.processed_at) >= now - PACE_WINDOW)).one()
    outbox = dict(session.exec(select(OutboxMail.state, func.count()).where(
        col(OutboxMail.state).in_([OutboxState.held, OutboxState.pending])).group_by(OutboxMail.state)).all())
    return QueueSnapshot(
        at=local(now, catalogue),
        arrivals=tuple((h, hours.get(h, 0)) for h in range(current_hour + 1)),
        waiting=len(waiting_rows), waiting_large=sum(1 for size, _b, _a in waiting_rows if (size or 0) > LARGE),
        in_flight=len(claimed), workers=tuple(sorted(hosts.items())),
        quarantined_today=int(quarantined), finished_recently=int(finished),
        held_replies=int(outbox.get(OutboxState.held, 0)), outbox_pending=int(outbox.get(OutboxState.pending, 0)),
        oldest_waiting=local(oldest, catalogue) if oldest else None,
    )
