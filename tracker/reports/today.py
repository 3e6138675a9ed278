"""Deadline day at a glance (#26): what arrived per hour today, what waits, who works on
it, when the backlog should clear — one snapshot read in a few indexed queries, shared by
the workspace's 今日 page and the operator's ``/metrics``.

The estimate divides what waits by what was finished in the last 30 minutes: honest while
the pace holds, None when nothing was finished (no pace to go by). The OCR backlog is an
estimate too, and says so: a waiting mail with pictures will be read by OCR; one with a
PDF will if the PDF is a scan, which is known only once read — so today's share of
scans among the understood mails with a PDF is applied to the waiting ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from campaign.catalogue import Catalogue
from campaign.clock import local, local_day, utcnow
from notifier.models import OutboxMail, OutboxState
from tracker.store.tables import MessageOcr, MessageState, StoredMessage

PACE_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True)
class OcrQueue:
    pictures: int  # waiting mails carrying photos or scanned pages as images: OCR certain
    pdfs: int  # waiting mails carrying a PDF (and no pictures): OCR if it is a scan
    scan_share: float | None  # of today's understood mails with a PDF, the share that were scans

    @property
    def estimate(self) -> int:
        """Waiting mails OCR will read; with no share learnt yet every PDF counts (at most)."""
        share = 1.0 if self.scan_share is None else self.scan_share
        return self.pictures + round(self.pdfs * share)


def ocr_queue(session: Session, since: datetime) -> OcrQueue:
    """The OCR backlog from the parts' headers (``message_ocr.hint``) and what the mail
    with a PDF understood since *since* turned out to be (``message_ocr.scanned``)."""
    m, o = StoredMessage, MessageOcr
    waiting = dict(session.exec(select(o.hint, func.count()).join(m, col(m.id) == o.message_pk).where(
        m.state == MessageState.stored).group_by(o.hint)).all())
    learnt = dict(session.exec(select(o.scanned, func.count()).join(m, col(m.id) == o.message_pk).where(
        o.hint == "pdf", m.state == MessageState.processed, col(o.scanned).is_not(None),
        col(m.processed_at) >= since).group_by(col(o.scanned))).all())
    read = sum(learnt.values())
    return OcrQueue(pictures=int(waiting.get("pictures", 0)), pdfs=int(waiting.get("pdf", 0)),
                    scan_share=(learnt.get(True, 0) / read) if read else None)


@dataclass(frozen=True)
class QueueSnapshot:
    at: datetime  # the round's local time
    arrivals: tuple[tuple[int, int], ...]  # (hour 0–23, mails arrived) today, every hour so far
    waiting: int  # stored, not yet understood
    ocr: OcrQueue  # of those, the ones OCR will read (an estimate)
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
        waiting=len(waiting_rows), ocr=ocr_queue(session, start),
        in_flight=len(claimed), workers=tuple(sorted(hosts.items())),
        quarantined_today=int(quarantined), finished_recently=int(finished),
        held_replies=int(outbox.get(OutboxState.held, 0)), outbox_pending=int(outbox.get(OutboxState.pending, 0)),
        oldest_waiting=local(oldest, catalogue) if oldest else None,
    )
