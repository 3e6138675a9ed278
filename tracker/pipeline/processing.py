"""Understand stored messages; nothing a message does can stop the queue behind it.

For each message, in order of arrival (when it reached our server; when it was stored
if that is unknown):

1. **claim** — one committed conditional update counts the attempt and names the
   claimant *before* the message is handed out, so a message that kills its worker
   (or the whole process) is never retried blindly forever;
2. **understand** — in a worker process under hard limits (:mod:`.workers`), or in
   this process for tests and tools (:class:`InProcess`);
3. **apply** — records, cross rules and replies in one short transaction, conditional
   on still holding the claim, so two workers never apply one message twice, and under
   :func:`~tracker.store.locks.records_lock`, so two processes never number two
   submissions alike. Answers are applied in order of arrival, whatever order the
   workers finish in: a reference number or a version number follows when the mail
   arrived (the earlier mail's result is waited for; see :class:`~tracker.pipeline.order.InOrder`).

A worker that dies releases the message for another try; after ``max_attempts``
deaths the message is quarantined with the cause. An exception while understanding
or applying is deterministic: the message is quarantined at once, with the error.
The database going away is not: the run stops claiming and settling (the service backs
off), and the claims it holds are given back, uncounted, by this process's next run —
the mail is read again, never quarantined, lost or applied twice.
Quarantined messages keep their raw bytes; staff see them in `messages`, the digest
and `requeue` them after a fix.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

import psutil
from sqlalchemy import Engine, Table, Update, and_, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from campaign.clock import utcnow
from intake.model import Understanding
from tracker.pipeline.order import EPOCH, Arrival, Claimed, InOrder
from tracker.pipeline.workers import END, Died, Outcome, Task, Understood, Unstarted
from tracker.store.blobs import BlobMissing, BlobStore, BlobStoreUnavailable
from tracker.store.db import unavailable, unsynced
from tracker.store.locks import records_lock
from tracker.store.tables import MessageOcr, MessageState, StoredMessage

log = logging.getLogger("jiebang.processing")

Analyser = Callable[..., Understanding]  # (raw, received_at, *, as_city=None)
RecordsWriter = Callable[[Session, StoredMessage, Understanding], None]

# a claim older than this is taken over (its claimant on another host is gone): a live
# claimant renews its claims every quarter lease, however long a scan takes, so a host
# killed mid-message holds its mail for two minutes, not the fifteen a scan's worst case
# needed (processing.lease_seconds)
LEASE = timedelta(minutes=2)
# hand-outs without any outcome (the whole process died meanwhile) also end in quarantine,
# but only after many: each kill of the service counts one against every message its
# workers read or had queued, and a good application held back is the costlier mistake
# (a service killed ~20 times in a minute took the unluckiest message to 8)
EXTRA_UNATTRIBUTED_ATTEMPTS = 12
# candidates read at a time (live claims of this host's other processes are in a window
# too, and are skipped: the next window is read when a whole one is taken)
_WINDOW = 16
# SQLModel sets __table__ when it builds the class; its typing does not declare it
_MESSAGES: Table = StoredMessage.__table__  # type: ignore[attr-defined]
_OCR: Table = MessageOcr.__table__  # type: ignore[attr-defined]
# how long the queue waits for a poll's next batch before letting the pool collect results
_FEED_WAIT = 0.05


class Understander(Protocol):
    """Turns tasks into outcomes: a :class:`~.workers.WorkerPool` or :class:`InProcess`."""

    def prepare(self) -> None: ...

    def start(self) -> None: ...

    def run(self, tasks: Iterable[Task | None], *, stop: Callable[[], bool] = ...) -> Iterator[tuple[Task, Outcome]]: ...


@dataclass
class InProcess:
    """Understanding in this process (tests, `reprocess`): no isolation, same outcomes."""

    analyse: Analyser

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self) -> None:
        """Nothing to prepare (the same interface as a worker pool)."""

    def start(self) -> None:
        """Nothing to start (the same interface as a worker pool)."""

    def close(self) -> None:
        """Nothing to stop (the same interface as a worker pool)."""

    def run(self, tasks: Iterable[Task | None], *, stop: Callable[[], bool] = lambda: False
            ) -> Iterator[tuple[Task, Outcome]]:
        queue = iter(tasks)
        while not stop():  # asked before taking a task: a task taken is a claim spent
            task = next(queue, END)
            if task is END:
                return
            if task is None:  # nothing ready yet (the queue waited for the poller)
                continue
            assert isinstance(task, Task)
            try:
                result = self.analyse(task.blob.read_bytes(), task.received_at, **(
                    {"as_city": task.as_city} if task.as_city else {}))
            except Exception as exc:  # deterministic: quarantined with the error
                yield task, Died(f"{exc.__class__.__name__}: {exc}", fatal=True)
            else:
                yield task, Understood(result)


@dataclass
class ProcessReport:
    processed: int = 0
    quarantined: int = 0
    retried: int = 0  # a worker died (or ended before starting it); the message waits for another try
    # the blob store could not be reached: the run stopped claiming (the service backs off)
    store_unavailable: str | None = None
    # the database went away: the run stopped claiming and settling (the service backs off);
    # what it held is given back by the next run
    database_unavailable: str | None = None
    outcomes: list[tuple[str | None, str | None, str]] = field(default_factory=list)


def _no_records(session: Session, message: StoredMessage, result: Understanding) -> None:
    """Placeholder applier (tests of the queue alone)."""


def host_name() -> str:
    """The name this host claims mail under: ``JIEBANG_HOST_NAME`` when set (containers or
    machines that share one host name must each be given their own: a claim of a process
    on "this host" whose pid is not running here is taken over at once), else the host's."""
    return os.environ.get("JIEBANG_HOST_NAME", "").strip() or socket.gethostname()


def claimant() -> str:
    return f"{host_name()}:{os.getpid()}"


def _claim_is_stale(row: Any, now: datetime, lease: timedelta = LEASE) -> bool:
    """A claim nobody is working on: expired, or its process on this host is gone."""
    if row.claimed_at is None or row.claimed_by is None:
        return True
    claimed_at = row.claimed_at if row.claimed_at.tzinfo else row.claimed_at.replace(tzinfo=now.tzinfo)
    if now - claimed_at > lease:
        return True
    host, _, pid = row.claimed_by.rpartition(":")
    if host == host_name() and pid.isdigit():
        return int(pid) != os.getpid() and not psutil.pid_exists(int(pid))
    return False


@dataclass(frozen=True)
class _Row:
    """What claiming needs of a queued message (read before its session ends)."""

    id: int
    attempts: int
    deaths: int
    error: str | None
    raw_sha256: str | None
    received_at: datetime | None
    as_city: str | None
    arrived: datetime | None = None  # received_at, else stored_at: the queue's order

    @classmethod
    def of(cls, m: Any) -> _Row:
        """From a model instance or a plain result row (the same attribute names)."""
        arrived = getattr(m, "arrived", None) or m.received_at or getattr(m, "stored_at", None)
        return cls(m.id or 0, m.attempts, m.deaths, m.error, m.raw_sha256, m.received_at, m.as_city, arrived)

    @property
    def arrival(self) -> Arrival:
        when = self.arrived or EPOCH
        return (when if when.tzinfo else when.replace(tzinfo=UTC), self.id)


class Feed:
    """Mail still being stored while the queue is processed (a poll in another thread).

    The poller calls :meth:`stored` after each committed batch and :meth:`close` when it
    is done; the queue, finding nothing to claim, waits a moment for the next batch
    instead of ending the run, so understanding starts with the first batch, not after
    the last.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._batches = 0
        self._seen = 0
        self._open = True

    def stored(self) -> None:
        with self._cond:
            self._batches += 1
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._open = False
            self._cond.notify_all()

    def more(self, timeout: float) -> bool | None:
        """True: a batch was stored since the last look; False: none will come; None: not yet."""
        with self._cond:
            self._cond.wait_for(lambda: self._batches != self._seen or not self._open, timeout)
            if self._batches != self._seen:
                self._seen = self._batches
                return True
            return None if self._open else False


class _Queue:
    """Claims one message each time a worker asks for one.

    A claim counts an attempt, so it is taken only when the message is handed out: a
    process killed with messages claimed *ahead* would count attempts for mail it never
    tried (after a few such kills, good mail would be given up on).

    Yields ``None`` when nothing is claimable *yet* (a :class:`Feed` is still storing):
    the pool goes on collecting results and asks again.
    """

    def __init__(self, engine: Engine, blobs: BlobStore, limit: int, max_attempts: int,
                 report: ProcessReport, *, feed: Feed | None = None, lease: timedelta = LEASE,
                 paused: Callable[[], bool] = lambda: False, tick: Callable[[], None] = lambda: None) -> None:
        self.engine, self.blobs, self.limit, self.max_attempts = engine, blobs, limit, max_attempts
        self.lease = lease
        self.report, self.feed, self.paused, self.tick = report, feed, paused, tick
        self.claims: dict[int, Claimed] = {}
        self.me = claimant()
        self._ahead: deque[_Row] = deque()  # read, not yet claimed (oldest first)

    def has_work(self) -> bool:
        """Whether a message is there to take, or comes (a feed's batch); claims nothing."""
        while True:
            if next(self._takeable(), None) is not None:
                return True
            if self.feed is None:
                return False
            more = self.feed.more(_FEED_WAIT)
            if more is False:
                return next(self._takeable(), None) is not None  # stored just before it closed

    def tasks(self) -> Iterator[Task | None]:
        """Claim the next free message each time a worker asks for one."""
        handed = 0
        while handed < self.limit and self.report.store_unavailable is None:
            self.tick()  # answers whose wait for an earlier mail is over are applied now
            if self.report.database_unavailable is not None:
                return  # (found by the tick, or by a settle meanwhile): the pool finishes what it has
            if self.paused():
                yield None  # answers wait for an earlier message's: collect, then ask again
                continue
            try:
                claimed = self._claim_next()
            except Exception as exc:
                if not _database_away(self.report, exc):
                    raise
                return
            if claimed is None and self.report.store_unavailable is not None:
                return
            if claimed is None:
                more = self.feed.more(_FEED_WAIT) if self.feed is not None else False
                if more is False:
                    return
                if more is None:
                    yield None  # nothing yet: the caller collects results and asks again
                continue
            self.claims[claimed.task.pk] = claimed
            handed += 1
            yield claimed.task

    def _takeable(self) -> Iterator[_Row]:
        """Stored messages nobody is working on, in order of arrival, read a window at a time."""
        m = _MESSAGES.c
        now = utcnow()
        # unclaimed, expired, or claimed on this host (whether its process lives is asked
        # below): live claims of other hosts are never read
        takeable = or_(m.claimed_by.is_(None), m.claimed_at < now - self.lease,
                       m.claimed_by.like(f"{host_name()}:%"))
        # when it reached our server (IMAP INTERNALDATE, the topmost Received), else when stored
        arrived = func.coalesce(m.received_at, m.stored_at)
        after: Any = None
        while True:
            stmt = (sa_select(m.id, m.attempts, m.deaths, m.error, m.raw_sha256, m.received_at, m.as_city,
                              m.claimed_at, m.claimed_by, arrived.label("arrived"))
                    .where(m.state == MessageState.stored, takeable)
                    .order_by(arrived, m.id).limit(_WINDOW))
            if after is not None:
                stmt = stmt.where(or_(arrived > after.arrived, and_(arrived == after.arrived, m.id > after.id)))
            if self.engine.dialect.name == "postgresql":
                # several processes share the queue: each skips the rows another is claiming
                stmt = stmt.with_for_update(skip_locked=True)
            with self.engine.connect() as conn:  # plain rows, not ORM objects (a third of the cost)
                rows = conn.execute(stmt).all()
                conn.rollback()
            # live claims of this host's other processes are skipped, window after window
            yield from (_Row.of(r) for r in rows if _claim_is_stale(r, now, self.lease))
            if len(rows) < _WINDOW:
                return
            after = rows[-1]

    def _claim_next(self) -> Claimed | None:
        while True:
            # the candidates of the last read are tried first: a claim is a conditional
            # update, so one taken, settled or released meanwhile simply fails to claim
            while self._ahead:
                claimed = self._claim_row(self._ahead.popleft())
                if claimed is not None:
                    return claimed
                if self.report.store_unavailable is not None:
                    return None  # the store is down: no further claim can succeed now
            self._ahead.extend(itertools.islice(self._takeable(), _WINDOW))
            if not self._ahead:
                return None

    def _claim_row(self, row: _Row) -> Claimed | None:
        """Claim *row* (one commit); None if another claimant changed it meanwhile, or it is
        worn out or its bytes are gone (then it is quarantined)."""
        try:
            return self._take(row)
        except Exception as exc:
            if unavailable(exc) is not None:
                # the claim may have committed with its answer lost, or did and what came
                # after it failed: the next run gives it back (if it holds: a conditional update)
                _leave_unsettled(self.engine, row.id, row.attempts + 1)
            raise

    def _take(self, row: _Row) -> Claimed | None:
        if row.deaths >= self.max_attempts or row.attempts >= self.max_attempts + EXTRA_UNATTRIBUTED_ATTEMPTS:
            why = row.error or "the process stopped while understanding it"
            if _quarantine(self.engine, row.id, row.attempts, f"gave up after {row.attempts} attempts: {why}"):
                self.report.quarantined += 1
            return None
        with self.engine.begin() as conn:
            unsynced(conn)  # (a claim lost to a power cut: the mail is read again)
            taken = conn.execute(
                _while_held(row.id, row.attempts)
                .values(attempts=row.attempts + 1, claimed_by=self.me, claimed_at=utcnow())
            )
        if taken.rowcount != 1:
            return None
        try:
            if not row.raw_sha256:
                raise BlobMissing("no raw bytes")
            # a file on this host for the worker (a remote store's copy lands in its cache)
            blob = self.blobs.local_path(row.raw_sha256)
        except BlobMissing as exc:
            _quarantine(self.engine, row.id, row.attempts + 1, exc)
            self.report.quarantined += 1
            return None
        except BlobStoreUnavailable as exc:
            # nothing is wrong with the message: give it back uncounted and claim no more in
            # this run (the service backs off and tries again; the mail waits, none is lost)
            _give_back(self.engine, row.id, row.attempts + 1)
            self.report.store_unavailable = str(exc)
            log.warning("message #%s waits: %s", row.id, exc)
            return None
        return Claimed(Task(row.id, blob, row.received_at, row.as_city), row.attempts + 1, row.arrival)

    def _claim(self, pk: int, seen: int) -> Claimed | None:
        """Claim one given message (`jiebang ingest`)."""
        with Session(self.engine, expire_on_commit=False) as session:
            msg = session.get(StoredMessage, pk)
            if msg is None or msg.state != MessageState.stored or msg.attempts != seen:
                return None  # another worker got there first
            row = _Row.of(msg)
        return self._claim_row(row)


def process_pending(
    engine: Engine,
    blobs: BlobStore,
    understander: Understander | Analyser,
    *,
    apply: RecordsWriter = _no_records,
    stop: threading.Event | None = None,
    limit: int | None = None,
    max_attempts: int = 3,
    on_settled: Callable[[], None] | None = None,
    feed: Feed | None = None,
    lease: timedelta = LEASE,
) -> ProcessReport:
    """Understand and apply every stored message (up to *limit*, if given), oldest first.

    *on_settled* is called after each message is committed (the service wakes its
    outbox job: an answer leaves while later mail is still being read). With a *feed*,
    the run goes on until the feed is closed (mail stored meanwhile is taken too).
    """
    report = ProcessReport()
    if not hasattr(understander, "run"):
        understander = InProcess(understander)
    try:
        _give_back_unsettled(engine)
    except Exception as exc:
        if not _database_away(report, exc):
            raise
        return report  # still away: nothing is claimed
    with _Heartbeat(engine, claimant(), every=lease / 4):
        return _process_pending(engine, blobs, cast(Understander, understander), report, apply=apply, stop=stop, limit=limit,
                                max_attempts=max_attempts, on_settled=on_settled, feed=feed, lease=lease)


class _Heartbeat:
    """Renews this process's claims every quarter lease while it works (a thread of its
    own: one UPDATE of the rows it holds, whatever the workers are reading)."""

    def __init__(self, engine: Engine, me: str, every: timedelta = LEASE / 4) -> None:
        self.engine, self.me, self.every = engine, me, every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jiebang-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self.every.total_seconds()):
            try:
                self.beat()
            except Exception as exc:  # the database is busy or restarting: the next beat renews
                log.warning("could not renew claims: %s", unavailable(exc) or exc)

    def beat(self) -> int:
        m = _MESSAGES.c
        with self.engine.begin() as conn:
            return conn.execute(sa_update(_MESSAGES).where(m.state == MessageState.stored, m.claimed_by == self.me)
                                .values(claimed_at=utcnow())).rowcount


def _process_pending(engine: Engine, blobs: BlobStore, understander: Understander, report: ProcessReport, *,
                     apply: RecordsWriter, stop: threading.Event | None, limit: int | None, max_attempts: int,
                     on_settled: Callable[[], None] | None, feed: Feed | None,
                     lease: timedelta = LEASE) -> ProcessReport:
    stopping: Callable[[], bool] = (lambda: stop.is_set()) if stop is not None else (lambda: False)
    # a worker that died released its message: try it again in this run, a bounded
    # number of times, so one cycle leaves nothing pending that it could settle
    for _ in range(max_attempts + 1):
        retried = report.retried
        order = InOrder({})

        def settle(ready: list[tuple[Claimed, Outcome]]) -> None:
            for n, (claimed, result) in enumerate(ready):
                try:
                    state = _settle_or_leave(engine, claimed, result, apply, max_attempts, report)
                except BaseException:
                    for left, _ in ready[n:]:  # (see below: given back by the next run)
                        _leave_unsettled(engine, left.task.pk, left.attempts)
                    raise
                _count(report, state, on_settled)

        # the queue is asked for mail between outcomes too: answers whose wait is over go then
        queue = _Queue(engine, blobs, sys.maxsize if limit is None else limit, max_attempts, report, feed=feed, lease=lease,
                       paused=order.full,
                       tick=lambda: settle(order.due()) if order.waiting else None)  # noqa: B023
        order.outstanding = queue.claims
        try:
            if not queue.has_work():
                break  # nothing stored, none coming: no worker is started for it
        except Exception as exc:
            if not _database_away(report, exc):
                raise
            break
        try:
            # the database going away ends the queue, not this loop: the pool finishes what
            # it was given, so that it holds nothing of this run when the next one starts
            for task, outcome in understander.run(queue.tasks(), stop=stopping):
                claimed = queue.claims.get(task.pk)
                if claimed is None or claimed.task is not task:
                    # handed out by an earlier run that ended half-way: that claim was given
                    # back (and the message maybe claimed again, as another task)
                    log.debug("message #%s: an outcome of an earlier run, dropped", task.pk)
                    continue
                del queue.claims[task.pk]
                settle(order.add(claimed, outcome))
            settle(order.rest())
        except BaseException:
            # anything else ending the run half-way: what it holds is given back by the next
            # run, not kept (and renewed) until its lease runs out
            for claimed in [*queue.claims.values(), *(c for c, _ in order.waiting.values())]:
                _leave_unsettled(engine, claimed.task.pk, claimed.attempts)
            raise
        if report.retried == retried or stopping() or report.database_unavailable is not None:
            break
    return report


# claims a run held when the database went away (claimed, perhaps understood, not settled):
# this process's next run on that database gives them back, uncounted, before it claims
# anything. Each give-back is conditional on the claim still holding (state and attempts),
# so one settled after all (a commit whose answer was lost) or taken over is left alone
_UNSETTLED: weakref.WeakKeyDictionary[Engine, dict[int, int]] = weakref.WeakKeyDictionary()
_UNSETTLED_LOCK = threading.Lock()


def _leave_unsettled(engine: Engine, pk: int, attempts: int) -> None:
    with _UNSETTLED_LOCK:
        _UNSETTLED.setdefault(engine, {})[pk] = attempts


def _give_back_unsettled(engine: Engine) -> int:
    """Give back what earlier runs left unsettled (raises while the database is away:
    then it is kept for the next run)."""
    with _UNSETTLED_LOCK:
        left = dict(_UNSETTLED.get(engine, {}))
    given = 0
    for pk, attempts in left.items():
        if _give_back(engine, pk, attempts) is not None:
            given += 1
        with _UNSETTLED_LOCK:
            held = _UNSETTLED.get(engine, {})
            if held.get(pk) == attempts:
                del held[pk]
    if given:
        log.info("%d message(s) the database's absence interrupted are queued again", given)
    return given


def _database_away(report: ProcessReport, exc: BaseException) -> bool:
    """Whether *exc* says the database is away (then it is noted in *report*: the run stops)."""
    why = unavailable(exc)
    if why is None:
        return False
    if report.database_unavailable is None:
        report.database_unavailable = why
        log.debug("database unavailable (%s): the run stops", why)
    return True


def _settle_or_leave(engine: Engine, claimed: Claimed, outcome: Outcome, apply: RecordsWriter, max_attempts: int,
                     report: ProcessReport) -> str | None:
    """:func:`_settle`, unless the database is away (now, or since earlier in the run): then
    the claim is left for the next run to give back, and the message is read again."""
    if report.database_unavailable is None:
        try:
            return _settle(engine, claimed, outcome, apply, max_attempts)
        except Exception as exc:
            if not _database_away(report, exc):
                raise
    # nothing of it was kept (the transaction died with the connection), or all of it
    # was (then the conditional give-back finds the message settled and leaves it)
    _leave_unsettled(engine, claimed.task.pk, claimed.attempts)
    return None


def _count(report: ProcessReport, state: str | None, on_settled: Callable[[], None] | None) -> None:
    if on_settled is not None and state is not None:
        on_settled()
    if state == MessageState.processed:
        report.processed += 1
    elif state == MessageState.quarantined:
        report.quarantined += 1
    elif state == MessageState.stored:
        report.retried += 1


def process_one(engine: Engine, blobs: BlobStore, pk: int, understander: Understander | Analyser,
                apply: RecordsWriter, *, max_attempts: int = 3) -> str | None:
    """One message (`jiebang ingest`): its state afterwards, None if someone else has it."""
    with Session(engine) as session:
        msg = session.get(StoredMessage, pk)
        if msg is None or msg.state != MessageState.stored:
            return None
        seen = msg.attempts
    report = ProcessReport()
    if not hasattr(understander, "run"):
        understander = InProcess(understander)
    queue = _Queue(engine, blobs, 1, max_attempts, report)
    claimed = queue._claim(pk, seen)
    if claimed is None:
        return MessageState.quarantined if report.quarantined else None
    for _task, outcome in understander.run([claimed.task]):
        return _settle(engine, claimed, outcome, apply, max_attempts)
    return None


def _settle(engine: Engine, claimed: Claimed, outcome: Outcome, apply: RecordsWriter, max_attempts: int) -> str | None:
    pk = claimed.task.pk
    if isinstance(outcome, Unstarted):
        return _give_back(engine, pk, claimed.attempts)
    if isinstance(outcome, Died):
        if outcome.fatal:
            return _quarantine(engine, pk, claimed.attempts, outcome.cause)
        return _release_after_death(engine, pk, claimed.attempts, outcome.cause, max_attempts)
    result = outcome.result
    if result.rules_raised:
        # a rule that trips must not let the mail through as "complete": staff look at it
        # (the traceback is in the log), fix, and `requeue` it
        return _quarantine(engine, pk, claimed.attempts,
                           f"rule(s) raised while checking: {', '.join(result.rules_raised)} (see the log)")
    problem: Exception | str | None = None
    with Session(engine, expire_on_commit=False) as session, records_lock(session):
        unsynced(session.connection())  # durable with the next store batch or outbox claim
        msg = session.get(StoredMessage, pk)
        if msg is None or msg.state != MessageState.stored or msg.attempts != claimed.attempts:
            return None  # the claim was taken over meanwhile: the other claimant finishes it
        # written by the conditional update below, with the state: set without history,
        # so that the commit does not write them a second time
        set_committed_value(msg, "references", [result.reference] if result.reference else [])
        try:
            apply(session, msg, result)  # may add the references it assigned
        except Exception as exc:  # records or replies failed: nothing of it is kept
            session.rollback()
            if unavailable(exc) is not None:
                raise  # the database went away, not the message's fault: it waits (_settle_or_leave)
            log.exception("applying message #%s failed", pk)
            problem = exc
        else:
            done = session.connection().execute(
                _while_held(pk, claimed.attempts).values(
                    state=MessageState.processed, intent=result.intent, error=None,
                    processed_at=utcnow(), references=msg.references)
            )
            # what the 今日 page learns the share of scans among mail with a PDF from (a
            # row exists only for mail whose parts were pictures or PDFs: no statement for the rest)
            if any(d.format in ("pdf", "image") for d in result.documents):
                session.connection().execute(sa_update(_OCR).where(_OCR.c.message_pk == pk).values(
                    scanned=any(d.scanned for d in result.documents)))
            if done.rowcount != 1:
                session.rollback()
                return None
            session.commit()
            log.info("message %s from %s: %s%s", msg.message_id, msg.from_addr, result.intent, _summary(result))
            return MessageState.processed
    return _quarantine(engine, pk, claimed.attempts, problem)


def _while_held(pk: int, attempts: int) -> Update:
    """An update of message *pk* that applies only while it is queued with exactly
    *attempts* (the claim that set them still holds it: nobody took it over or settled it).

    Core, not ORM: no session objects to synchronise, a third of the cost per message.
    """
    m = _MESSAGES.c
    return sa_update(_MESSAGES).where(m.id == pk, m.state == MessageState.stored, m.attempts == attempts)


def _give_back(engine: Engine, pk: int, attempts: int) -> str | None:
    """A message queued for a worker that ended before it started it: back in the queue,
    its claim's attempt uncounted (nothing was tried)."""
    with engine.begin() as conn:
        done = conn.execute(_while_held(pk, attempts).values(attempts=attempts - 1, claimed_by=None, claimed_at=None))
    return MessageState.stored if done.rowcount == 1 else None


def _release_after_death(engine: Engine, pk: int, attempts: int, cause: str, max_attempts: int) -> str | None:
    with Session(engine, expire_on_commit=False) as session:
        msg = session.get(StoredMessage, pk)
        if msg is None or msg.state != MessageState.stored or msg.attempts != attempts:
            return None
        deaths = msg.deaths + 1
        if deaths >= max_attempts:
            session.rollback()
            return _quarantine(engine, pk, attempts, f"gave up after {deaths} worker deaths: {cause}", deaths=deaths)
        session.connection().execute(
            _while_held(pk, attempts)
            .values(deaths=deaths, claimed_by=None, claimed_at=None, error=f"attempt {attempts}: {cause}")
        )
        session.commit()
        log.warning("message #%s: %s; it will be tried again (%d of %d)", pk, cause, deaths, max_attempts)
        return MessageState.stored


def _quarantine(engine: Engine, pk: int, attempts: int, problem: Exception | str | None,
                *, deaths: int | None = None) -> str | None:
    with Session(engine, expire_on_commit=False) as session:
        return _finish_quarantine(session, pk, attempts, problem, deaths=deaths)


def _finish_quarantine(session: Session, pk: int, attempts: int, problem: Exception | str | None,
                       *, deaths: int | None = None) -> str | None:
    """Quarantine *pk* if it is still stored with exactly *attempts* (nobody took it over)."""
    if isinstance(problem, Exception):
        error = f"{problem.__class__.__name__}: {problem}"
    else:
        error = problem or "unknown error"
    values: dict[str, object] = {"state": MessageState.quarantined, "error": error[:2000],
                                 "processed_at": utcnow(), "claimed_by": None, "claimed_at": None}
    if deaths is not None:
        values["deaths"] = deaths
    done = session.connection().execute(_while_held(pk, attempts).values(**values))
    if done.rowcount != 1:
        session.rollback()
        return None
    session.commit()
    msg = session.get(StoredMessage, pk)
    log.warning("message %s from %s: quarantined (%s)", msg.message_id if msg else pk,
                msg.from_addr if msg else "?", error)
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
    """Put quarantined messages (that have bytes) back in the queue, with a fresh count."""
    with Session(engine) as session:
        stmt = select(StoredMessage).where(
            StoredMessage.state == MessageState.quarantined, col(StoredMessage.raw_sha256).is_not(None)
        )
        if pks:
            stmt = stmt.where(col(StoredMessage.id).in_(pks))
        rows = list(session.exec(stmt))
        for row in rows:
            row.state, row.error, row.deaths = MessageState.stored, None, 0
            row.claimed_by = row.claimed_at = None
            row.attempts = 0
            session.add(row)
        session.commit()
        return len(rows)
