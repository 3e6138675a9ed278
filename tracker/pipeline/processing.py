"""Understand stored messages; a message that raises is quarantined, never lost.

Each message is handled in its own transaction: the outcome (and, in later
stages, every record and outgoing mail it causes) commits together or not at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from intake.model import Understanding
from tracker.store.blobs import BlobStore
from tracker.store.tables import MessageState, StoredMessage, utcnow

log = logging.getLogger("jiebang.intake")

Analyser = Callable[[bytes, datetime | None], Understanding]
Applier = Callable[[Session, StoredMessage, Understanding], None]


@dataclass
class ProcessReport:
    processed: int = 0
    quarantined: int = 0
    outcomes: list[tuple[str | None, str | None, str]] = field(default_factory=list)


def _no_records(session: Session, message: StoredMessage, result: Understanding) -> None:
    """Placeholder applier: records and replies are tracker's later stages."""


def pending_ids(engine: Engine, limit: int) -> list[int]:
    with Session(engine) as session:
        stmt = (
            select(StoredMessage.id)
            .where(StoredMessage.state == MessageState.stored)
            .order_by(StoredMessage.id)
            .limit(limit)
        )
        return list(session.exec(stmt))


def process_pending(
    engine: Engine,
    blobs: BlobStore,
    analyse: Analyser,
    *,
    apply: Applier = _no_records,
    stop: threading.Event | None = None,
    limit: int = 1000,
) -> ProcessReport:
    report = ProcessReport()
    for pk in pending_ids(engine, limit):
        if stop is not None and stop.is_set():
            break
        outcome = process_one(engine, blobs, pk, analyse, apply)
        if outcome == MessageState.quarantined:
            report.quarantined += 1
        elif outcome == MessageState.processed:
            report.processed += 1
    return report


def process_one(engine: Engine, blobs: BlobStore, pk: int, analyse: Analyser, apply: Applier) -> str | None:
    """Understand (no locks held), then claim, apply and commit in one short transaction."""
    with Session(engine) as session:
        msg = session.get(StoredMessage, pk)
        if msg is None or msg.state != MessageState.stored:
            return None  # another worker got there first
        seen_attempts, received_at, digest = msg.attempts, msg.received_at, msg.raw_sha256
    try:
        result: Understanding | None = analyse(blobs.get(digest or ""), received_at)
        problem = None
    except Exception as exc:  # understanding must never stop the poller: keep the message
        result, problem = None, exc
    if result is not None:
        with Session(engine, expire_on_commit=False) as session:
            if not _claim(session, pk, seen_attempts):
                return None
            msg = session.get(StoredMessage, pk)
            assert msg is not None
            msg.references = [result.reference] if result.reference else []
            try:
                apply(session, msg, result)  # may add the references it assigned
            except Exception as exc:  # records or replies failed: nothing of it is kept
                session.rollback()
                problem = exc
            else:
                msg.state, msg.intent, msg.error = MessageState.processed, result.intent, None
                msg.processed_at = utcnow()
                session.add(msg)
                session.commit()
                log.info("message %s from %s: %s%s", msg.message_id, msg.from_addr, result.intent,
                         _summary(result))
                return MessageState.processed
    return _quarantine(engine, pk, seen_attempts, problem)


def _claim(session: Session, pk: int, seen_attempts: int) -> bool:
    """Take the message for this transaction; False if another worker processed it meanwhile.

    The conditional UPDATE row-locks on PostgreSQL and takes SQLite's write lock, so a
    second worker waits here and then finds nothing left to do.
    """
    claimed = session.execute(
        update(StoredMessage)
        .where(StoredMessage.id == pk, StoredMessage.state == MessageState.stored,
               StoredMessage.attempts == seen_attempts)
        .values(attempts=seen_attempts + 1)
    )
    if claimed.rowcount != 1:
        session.rollback()
        return False
    return True


def _quarantine(engine: Engine, pk: int, seen_attempts: int, problem: Exception | None) -> str | None:
    with Session(engine, expire_on_commit=False) as session:
        if not _claim(session, pk, seen_attempts):
            return None
        msg = session.get(StoredMessage, pk)
        assert msg is not None
        msg.state = MessageState.quarantined
        msg.error = f"{problem.__class__.__name__}: {problem}"[:2000] if problem else "unknown error"
        msg.processed_at = utcnow()
        session.add(msg)
        session.commit()
        log.warning("message %s from %s: quarantined (%s)", msg.message_id, msg.from_addr, msg.error,
                    exc_info=problem if log.isEnabledFor(logging.DEBUG) else None)
        return MessageState.quarantined


def _summary(result: Understanding) -> str:
    parts = []
    if result.reference:
        parts.append(result.reference)
    if result.applications:
        parts.append(f"{len(result.applications)} application(s)")
    codes = [d.code for d in result.deficiencies]
    if codes:
        parts.append(",".join(codes))
    return f" ({'; '.join(parts)})" if parts else ""


def requeue(engine: Engine, pks: list[int] | None = None) -> int:
    """Put quarantined messages (that have bytes) back in the queue."""
    with Session(engine) as session:
        stmt = select(StoredMessage).where(
            StoredMessage.state == MessageState.quarantined, StoredMessage.raw_sha256.is_not(None)
        )
        if pks:
            stmt = stmt.where(StoredMessage.id.in_(pks))
        rows = list(session.exec(stmt))
        for row in rows:
            row.state, row.error = MessageState.stored, None
            session.add(row)
        session.commit()
        return len(rows)
