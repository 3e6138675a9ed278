"""Receipts on arrival (``notify.receipt_after_seconds``): a bounded first answer.

On a deadline day a mail may wait minutes behind scans before it is understood. A mail
still unanswered that long after it arrived gets a short receipt at once: when it
reached our server (what counts for the deadline) and that it is being checked. The full
answer follows in the same thread (both answer the mail's Message-ID).

Never two answers when the full one is ready in time: the receipt is written under
:func:`~tracker.store.locks.records_lock`, which recording also holds, and only while the
mail is still unprocessed; a mail recorded first has its full answer instead. The receipt
obeys every rule of an answer (the reply guard, a forged From, the daily cap, the
first-contact budget) and is written once per mail (its dedupe key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, literal
from sqlmodel import Session, col, select

from campaign.clock import as_utc, utcnow
from campaign.policy import RoundPolicy
from intake.glance import MAX_HEAD, glance
from notifier.models import OutboxMail
from tracker.outreach.replies import Replier, ReplySettings
from tracker.store.blobs import BlobMissing, BlobStore, BlobStoreUnavailable
from tracker.store.locks import records_lock
from tracker.store.tables import MessageState, StoredMessage

log = logging.getLogger("jiebang.receipts")

# a Received/INTERNALDATE this much before we stored the mail is its real arrival (a poll's
# lag); an older one is a re-fetch or replayed history: the clock starts when we stored it
POLL_LAG = timedelta(minutes=5)
BATCH = 200  # mails looked at per run (a backlog is worked through run after run)


def clock_start(msg: StoredMessage) -> datetime:
    """When the wait for an answer began: arrival at our server, within a poll's lag."""
    stored = as_utc(msg.stored_at)
    if msg.received_at is not None:
        received = as_utc(msg.received_at)
        if stored - POLL_LAG <= received <= stored:
            return received
    return stored


def _head(blobs: BlobStore, digest: str) -> bytes:
    """The message's first bytes (its headers end in them; the parser stops there)."""
    with blobs.open(digest) as fh:  # a stream: a remote store sends only what is read
        return fh.read(MAX_HEAD)


@dataclass
class ArrivalReceipts:
    """The job: run every few seconds by the service (each run is one short transaction)."""

    engine: Engine
    blobs: BlobStore
    policy: RoundPolicy
    settings: ReplySettings
    after: timedelta
    looked_at: set[int] = field(default_factory=set)  # mails no receipt may go to (this process)

    def run(self, now: datetime | None = None) -> int:
        """Write the receipts now due; how many were written."""
        if self.after <= timedelta(0):
            return 0
        moment = as_utc(now or utcnow())
        key = literal("reply:") + col(StoredMessage.content_key) + literal(":arrival")
        receipted = select(OutboxMail.id).where(col(OutboxMail.dedupe_key) == key)
        with Session(self.engine) as session:
            candidates = session.exec(
                select(StoredMessage).where(
                    StoredMessage.state == MessageState.stored, col(StoredMessage.raw_sha256).is_not(None),
                    col(StoredMessage.stored_at) <= moment - self.after + POLL_LAG, ~receipted.exists())
                .order_by(col(StoredMessage.stored_at), col(StoredMessage.id)).limit(BATCH)).all()
        due = [m for m in candidates if m.id not in self.looked_at and clock_start(m) + self.after <= moment]
        if len(self.looked_at) > 100_000:
            self.looked_at.clear()
        written = 0
        for msg in due:
            try:
                head = _head(self.blobs, msg.raw_sha256 or "")
            except (OSError, BlobMissing):  # its bytes are gone: processing quarantines it
                continue
            except BlobStoreUnavailable:  # the store is down: this receipt waits for the next run
                continue
            result = glance(head, self.policy, msg.received_at)
            with Session(self.engine, expire_on_commit=False) as session, records_lock(session):
                fresh = session.get(StoredMessage, msg.id)
                if fresh is None or fresh.state != MessageState.stored:
                    continue  # recorded meanwhile: its full answer is written instead
                received = fresh.received_at or fresh.stored_at
                sent = Replier(session, self.policy, self.settings, fresh, result).for_arrival(received)
                session.commit()
            if sent:
                written += 1
                log.info("message #%s from %s: receipt on arrival (not answered %d s after it arrived)",
                         msg.id, msg.from_addr, int(self.after.total_seconds()))
            else:
                self.looked_at.add(msg.id or 0)
        return written
