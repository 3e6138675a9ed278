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

from sqlalchemy import Engine
from sqlmodel import Session, select

from intake.model import Understanding
from tracker.blobstore import BlobStore
from tracker.models import MessageState, StoredMessage, utcnow

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
    with Session(engine, expire_on_commit=False) as session:
        msg = session.get(StoredMessage, pk)
        if msg is None or msg.state != MessageState.stored:
            return None  # another worker got there first
        try:
            result = analyse(blobs.get(msg.raw_sha256 or ""), msg.received_at)
            apply(session, msg, result)
        except Exception as exc:  # any failure of understanding: keep the message, go on
            session.rollback()
            msg = session.get(StoredMessage, pk)
            assert msg is not None
            msg.state = MessageState.quarantined
            msg.error = f"{exc.__class__.__name__}: {exc}"[:2000]
            log.warning("message %s from %s: quarantined (%s)", msg.message_id, msg.from_addr, msg.error,
                        exc_info=log.isEnabledFor(logging.DEBUG))
        else:
            msg.state = MessageState.processed
            msg.intent = result.intent
            msg.references = [result.reference] if result.reference else []
            msg.error = None
            log.info("message %s from %s: %s%s", msg.message_id, msg.from_addr, result.intent,
                     _summary(result))
        msg.attempts += 1
        msg.processed_at = utcnow()
        session.add(msg)
        session.commit()
        return msg.state


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
