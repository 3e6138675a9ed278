"""Store a fetched message exactly once: blob first, then one committed row.

Nothing else happens to a message until this commit succeeds; everything after it
(flagging on the server, understanding, replies) may crash and is simply redone.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, select

from campaign.clock import utcnow
from intake.envelope import content_key, read_envelope
from intake.glance import ocr_hint
from intake.model import Envelope
from intake.sources import FetchedMessage
from tracker.store.blobs import BlobStore
from tracker.store.tables import (
    MailboxCheckpoint,
    MessageLocation,
    MessageOcr,
    MessageState,
    StoredMessage,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreResult:
    message_pk: int
    created: bool
    state: str


def _key_for(fetched: FetchedMessage) -> str:
    if fetched.raw is not None:
        return content_key(fetched.raw)
    # not fetched (too large, timed out): identify it by where it lives
    where = f"{fetched.source}|{fetched.folder}|{fetched.uidvalidity}|{fetched.uid}|{fetched.key}"
    return "x1:" + hashlib.sha256(where.encode()).hexdigest()


def _arrival(fetched: FetchedMessage, header_received: datetime | None, header_date: datetime | None) -> datetime | None:
    # IMAP INTERNALDATE is the server's own clock; for files the topmost Received:
    # (added by our MTA) is, and only then the file time or the sender's Date:
    if fetched.uid is not None and fetched.arrived_at:
        return fetched.arrived_at
    return header_received or fetched.arrived_at or header_date


@dataclass
class _Prepared:
    fetched: FetchedMessage
    key: str
    digest: str | None
    envelope: Envelope
    problem: str | None = None  # why it is stored as quarantined (set by a failed first try)
    ocr_hint: str | None = None  # pictures | pdf: the 今日 page's OCR queue (an estimate)


_NO_ENVELOPE = Envelope(message_id=None, from_addr=None, subject="", date=None, received_at=None)


def _prepare(blobs: BlobStore, fetched: FetchedMessage, *, durable: bool) -> _Prepared:
    raw = fetched.raw
    # the raw bytes first: whatever the headers hold, the message is kept (storage errors
    # propagate: nothing can be committed without the bytes)
    digest = blobs.put(raw, durable=durable) if raw is not None else None
    try:
        env = _fit(read_envelope(raw if raw is not None else fetched.headers))
    except Exception:  # read_envelope promises not to raise; a poison header must still not stop us
        log.exception("envelope of a fetched message could not be read; storing it without one")
        env = _NO_ENVELOPE
    return _Prepared(fetched, _key_for(fetched), digest, env, ocr_hint=ocr_hint(raw) if raw is not None else None)


def _fit(env: Envelope) -> Envelope:
    """Header facts cut to the columns they are stored in (a hostile header is any length)."""
    def cut(value: str | None, size: int) -> str | None:
        if not value:
            return value
        # NUL is refused by PostgreSQL text, a lone surrogate by every UTF-8 encoder
        clean = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
        return clean[:size]

    env.message_id = cut(env.message_id, 998)
    env.from_addr = cut(env.from_addr, 320)
    env.subject = cut(env.subject, 4000) or ""
    return env


def store_fetched(engine: Engine, blobs: BlobStore, fetched: FetchedMessage) -> StoreResult:
    return store_batch(engine, blobs, [fetched])[0]


def store_batch(engine: Engine, blobs: BlobStore, batch: list[FetchedMessage]) -> list[StoreResult]:
    """Blobs made durable, then one transaction for the whole batch.

    Only after this returns may the caller touch the server (flag, move).
    """
    prepared = [_prepare(blobs, f, durable=len(batch) == 1) for f in batch]
    blobs.flush()
    try:
        with Session(engine, expire_on_commit=False) as session:
            results = [_stage(session, p) for p in prepared]
            session.commit()
            return results
    except (IntegrityError, DataError) as exc:
        # a concurrent worker committed one of these first, or one message's values are
        # refused: redo one by one, so one message never holds back the others
        log.info("batch of %d not committed at once (%s); storing one by one", len(prepared),
                 exc.__class__.__name__)
        return [_store_one(engine, p) for p in prepared]


def _store_one(engine: Engine, prepared: _Prepared) -> StoreResult:
    for attempt in (1, 2):
        try:
            with Session(engine, expire_on_commit=False) as session:
                result = _stage(session, prepared)
                session.commit()
                return result
        except IntegrityError:
            if attempt == 2:
                raise
        except DataError as exc:
            # the database refused a header value: keep the bytes, drop the header facts,
            # and let staff see why (the message is quarantined with the reason)
            log.warning("message header refused by the database (%s); stored without it", exc.__class__.__name__)
            prepared = _Prepared(prepared.fetched, prepared.key, prepared.digest, _NO_ENVELOPE,
                                 problem=f"header values could not be stored: {str(exc).splitlines()[0][:300]}",
                                 ocr_hint=prepared.ocr_hint)
    raise AssertionError("unreachable")


def _stage(session: Session, p: _Prepared) -> StoreResult:
    fetched, env = p.fetched, p.envelope
    row = session.exec(select(StoredMessage).where(StoredMessage.content_key == p.key)).first()
    created = row is None
    if row is None:
        problem = p.problem
        if fetched.oversize:
            problem = f"message too large to fetch ({fetched.size:,} bytes > limit); fetch it by hand"
        elif fetched.raw is None:
            problem = fetched.error or "message body could not be fetched"
        row = StoredMessage(
            content_key=p.key,
            raw_sha256=p.digest,
            size=fetched.size,
            message_id=env.message_id,
            from_addr=env.from_addr,
            subject=env.subject,
            source=fetched.source,
            folder=fetched.folder,
            uidvalidity=fetched.uidvalidity,
            uid=fetched.uid,
            received_at=_arrival(fetched, env.received_at, env.date),
            header_date=env.date,
            state=MessageState.quarantined if problem else MessageState.stored,
            error=problem,
        )
        session.add(row)
        session.flush()
        if p.ocr_hint is not None and row.id is not None:
            session.add(MessageOcr(message_pk=row.id, hint=p.ocr_hint))
    assert row.id is not None  # stored (flushed)
    _record_location(session, row.id, fetched)
    if fetched.uid is not None and fetched.uidvalidity is not None:
        _advance_checkpoint(session, fetched)
    return StoreResult(message_pk=row.id, created=created, state=row.state)


def _record_location(session: Session, pk: int, fetched: FetchedMessage) -> None:
    loc = session.exec(
        select(MessageLocation).where(
            MessageLocation.source == fetched.source,
            MessageLocation.folder == fetched.folder,
            MessageLocation.uidvalidity == (fetched.uidvalidity or 0),
            MessageLocation.uid == (fetched.uid or 0),
            MessageLocation.key == fetched.key,
        )
    ).first()
    if loc is None:
        session.add(
            MessageLocation(
                message_pk=pk, source=fetched.source, folder=fetched.folder,
                uidvalidity=fetched.uidvalidity or 0, uid=fetched.uid or 0, key=fetched.key,
            )
        )


def _advance_checkpoint(session: Session, fetched: FetchedMessage) -> None:
    assert fetched.uidvalidity is not None  # only called for a message with an IMAP UID
    cp = session.exec(
        select(MailboxCheckpoint).where(
            MailboxCheckpoint.source == fetched.source, MailboxCheckpoint.folder == fetched.folder
        )
    ).first()
    if cp is None:
        cp = MailboxCheckpoint(source=fetched.source, folder=fetched.folder, uidvalidity=fetched.uidvalidity)
    if cp.uidvalidity != fetched.uidvalidity:
        cp.uidvalidity, cp.last_uid = fetched.uidvalidity, 0
    cp.last_uid = max(cp.last_uid, fetched.uid or 0)
    cp.updated_at = utcnow()
    session.add(cp)


def checkpoint_for(engine: Engine, source: str, folder: str, uidvalidity: int | None) -> int:
    """The last committed UID; 0 (re-scan, dedupe by content) when UIDVALIDITY changed."""
    if uidvalidity is None:
        return 0
    with Session(engine) as session:
        cp = session.exec(
            select(MailboxCheckpoint).where(
                MailboxCheckpoint.source == source, MailboxCheckpoint.folder == folder
            )
        ).first()
        if cp is None:
            return 0
        if cp.uidvalidity != uidvalidity:
            log.warning(
                "UIDVALIDITY of %s changed (%s → %s): re-scanning; known messages are recognised by content",
                folder, cp.uidvalidity, uidvalidity,
            )
            cp.uidvalidity, cp.last_uid, cp.updated_at = uidvalidity, 0, utcnow()
            session.add(cp)
            session.commit()
            return 0
        return cp.last_uid


def store_raw(engine: Engine, blobs: BlobStore, raw: bytes, *, source: str = "pipe",
              as_city: str | None = None) -> StoreResult:
    """Pipe mode and tests: store one raw message handed over by an MTA or a file.

    *as_city*: staff vouch that it is that city bureau's material (`ingest --as-city`).
    """
    key = "sha256:" + hashlib.sha256(raw).hexdigest()[:32]
    fetched = FetchedMessage(source=source, folder="", raw=raw, size=len(raw), key=key)
    result = store_fetched(engine, blobs, fetched)
    if as_city and result.created:
        with Session(engine) as session:
            row = session.get(StoredMessage, result.message_pk)
            if row is not None and row.state == MessageState.stored:
                row.as_city = as_city
                session.add(row)
                session.commit()
    return result
