"""The delivery job: persist first, act by id, guard on state (GOV.UK Notify's pattern).

Each row goes through its own short transactions::

    claim     UPDATE … SET state='sending' WHERE id=? AND state='pending'   (one winner)
    send      outside any transaction
    record    UPDATE … SET state='sent' | 'pending' (later) | 'failed' WHERE state='sending'

A row whose sender died in the middle stays ``sending``; after ``stale_after`` it is
put back to ``pending`` and re-sent with the same Message-ID, so a receiver that got
the first copy can tell it is the same mail. A sender that lives but could not write
(the database went away) keeps what it has to write and writes it first thing in its
next pass: a mail that went is not sent a second time, and a row it claimed but did not
send is back in ``pending`` at once, not stuck in ``sending`` until it is stale.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Engine, select, update
from sqlmodel import Session, col

from campaign.clock import as_utc, utcnow
from notifier.compose import DEFAULT_SENDER_NAME, BlobLoader, ComposeError, build_message
from notifier.headers import truncate
from notifier.models import OutboxMail, OutboxState
from notifier.transports.base import PermanentSendError, TransientSendError, Transport

log = logging.getLogger("jiebang.notifier.sender")

FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
STALE_AFTER = timedelta(minutes=10)


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0  # rows found stuck in `sending` and put back to pending


def backoff(attempts: int) -> timedelta:
    """Delay after the *attempts*-th failed try: 1, 2, 4 … minutes, at most an hour."""
    factor: int = 2 ** max(attempts - 1, 0)
    return min(FIRST_RETRY * factor, MAX_RETRY)


def recover_stale(engine: Engine, now: datetime, stale_after: timedelta = STALE_AFTER) -> int:
    """Put rows left in ``sending`` by a crashed sender back to ``pending``."""
    with engine.begin() as conn:
        result = conn.execute(
            update(OutboxMail)
            .where(col(OutboxMail.state) == OutboxState.sending,
                   col(OutboxMail.claimed_at) < now - stale_after)
            .values(state=OutboxState.pending, next_attempt_at=now, claimed_at=None)
        )
    if result.rowcount:
        log.warning("outbox: %d mail(s) stuck in sending put back to pending", result.rowcount)
    return result.rowcount


def _due_ids(engine: Engine, now: datetime, limit: int) -> list[int]:
    query = (
        select(col(OutboxMail.id))
        .where(col(OutboxMail.state) == OutboxState.pending, col(OutboxMail.next_attempt_at) <= now)
        .order_by(col(OutboxMail.next_attempt_at), col(OutboxMail.id))
        .limit(limit)
    )
    with engine.connect() as conn:
        # the primary key column is never NULL; SQLModel types it as `int | None`
        return cast(list[int], list(conn.execute(query).scalars()))


def _claim(engine: Engine, mail_id: int, now: datetime) -> bool:
    """pending → sending for exactly one caller; counts the attempt before it is made."""
    with engine.begin() as conn:
        result = conn.execute(
            update(OutboxMail)
            .where(col(OutboxMail.id) == mail_id, col(OutboxMail.state) == OutboxState.pending,
                   col(OutboxMail.next_attempt_at) <= now)
            .values(state=OutboxState.sending, claimed_at=now, attempts=OutboxMail.attempts + 1)
        )
    return result.rowcount == 1


# writes a pass could not make (the database went away just then), by engine and row:
# made before anything else by the next pass. A row left `sending` would otherwise wait
# until it is stale, and then be sent again — a second copy if it had gone
_UNWRITTEN: weakref.WeakKeyDictionary[Engine, dict[int, tuple[datetime | None, dict[str, object]]]] = (
    weakref.WeakKeyDictionary())
_UNWRITTEN_LOCK = threading.Lock()
# a claim whose mail was not sent: back to pending, its attempt uncounted
_UNCLAIM: dict[str, object] = {"state": OutboxState.pending, "claimed_at": None, "attempts": OutboxMail.attempts - 1}


def _write(engine: Engine, mail_id: int, values: dict[str, object], *, claimed_at: datetime | None = None) -> None:
    """Update a row that is ``sending`` (claimed at *claimed_at*, if given: that claim only);
    kept for the next pass if the database fails."""
    where = [col(OutboxMail.id) == mail_id, col(OutboxMail.state) == OutboxState.sending]
    if claimed_at is not None:
        where.append(col(OutboxMail.claimed_at) == claimed_at)
    try:
        with engine.begin() as conn:
            conn.execute(update(OutboxMail).where(*where).values(**values))
    except Exception:
        with _UNWRITTEN_LOCK:
            _UNWRITTEN.setdefault(engine, {})[mail_id] = (claimed_at, values)
        raise
    with _UNWRITTEN_LOCK:
        _UNWRITTEN.get(engine, {}).pop(mail_id, None)


def _record(engine: Engine, mail_id: int, **values: object) -> None:
    _write(engine, mail_id, {"claimed_at": None, **values})


def write_left(engine: Engine) -> int:
    """Make the writes an earlier pass could not (raises while the database is still away:
    they are kept). Each is conditional like the first try: a row recovered and handled by
    another sender meanwhile is left alone."""
    with _UNWRITTEN_LOCK:
        left = dict(_UNWRITTEN.get(engine, {}))
    for mail_id, (claimed_at, values) in left.items():
        _write(engine, mail_id, values, claimed_at=claimed_at)
    if left:
        log.info("outbox: %d row(s) written after the database came back", len(left))
    return len(left)


def _send_one(engine: Engine, row: OutboxMail, transport: Transport, *, mail_id: int, sender: str,
              sender_name: str, load: BlobLoader | None, now: datetime, max_attempts: int,
              report: SendReport) -> None:
    where = f"outbox #{row.id} {row.kind} {row.reference or '-'} to {','.join(row.to_addrs)} attempt {row.attempts}"
    try:
        message = build_message(row, sender=sender, sender_name=sender_name, load=load, now=now)
        transport.send(message, envelope_from=sender, recipients=list(row.to_addrs))
    except (PermanentSendError, ComposeError) as exc:
        _record(engine, mail_id, state=OutboxState.failed, last_error=truncate(str(exc), 1000))
        report.failed += 1
        log.error("%s: failed for good: %s", where, exc)
    except TransientSendError as exc:
        error = truncate(str(exc), 1000)
        if row.attempts >= max_attempts:
            _record(engine, mail_id, state=OutboxState.failed, last_error=error)
            report.failed += 1
            log.error("%s: giving up after %d attempts: %s", where, row.attempts, exc)
        else:
            later = now + backoff(row.attempts)
            _record(engine, mail_id, state=OutboxState.pending, next_attempt_at=later, last_error=error)
            report.retried += 1
            log.warning("%s: will retry at %s: %s", where, later.isoformat(timespec="seconds"), exc)
    except Exception as exc:  # an adapter bug must not stop the job or strand the row
        later = now + backoff(row.attempts)
        _record(engine, mail_id, state=OutboxState.pending, next_attempt_at=later,
                last_error=truncate(f"{type(exc).__name__}: {exc}", 1000))
        report.retried += 1
        log.exception("%s: unexpected error, will retry at %s", where, later.isoformat(timespec="seconds"))
    else:
        log.info("%s: sent %s", where, row.message_id)  # it went (recorded now, or by the next pass)
        _record(engine, mail_id, state=OutboxState.sent, sent_at=now, last_error=None)
        report.sent += 1


def deliver_pending(
    engine: Engine,
    transport: Transport,
    *,
    sender: str,
    load: BlobLoader | None,
    now: Callable[[], datetime] = utcnow,
    max_attempts: int = 8,
    limit: int = 100,
    sender_name: str = DEFAULT_SENDER_NAME,
    stale_after: timedelta = STALE_AFTER,
) -> SendReport:
    """Send every due pending row (at most *limit*); safe to run in several workers."""
    write_left(engine)  # before anything may find those rows stale
    report = SendReport(recovered=recover_stale(engine, as_utc(now()), stale_after))
    for mail_id in _due_ids(engine, as_utc(now()), limit):
        moment = as_utc(now())
        try:
            if not _claim(engine, mail_id, moment):
                continue  # another worker has it
            with Session(engine, expire_on_commit=False) as session:
                row = session.get(OutboxMail, mail_id)
        except Exception:
            # claimed (or perhaps: the commit's answer was lost) and not sent: given back
            # by the next pass (this claim only: the update names its time)
            with _UNWRITTEN_LOCK:
                _UNWRITTEN.setdefault(engine, {})[mail_id] = (moment, _UNCLAIM)
            raise
        if row is None:
            continue
        _send_one(engine, row, transport, mail_id=mail_id, sender=sender, sender_name=sender_name,
                  load=load, now=moment, max_attempts=max_attempts, report=report)
    return report
