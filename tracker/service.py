"""`jiebang run`: an APScheduler 3 service (poll, process, outbox, reminders, digest),
IDLE wake-ups, the local SMTP receiver, and a clean stop on SIGTERM/SIGINT.

While serving, polling and processing are separate jobs: the poller stores new mail and
wakes the processor, which claims stored mail oldest first until none is left. Mail that
arrives while a long scan is being read is stored within seconds and joins the queue of
the run in progress, instead of waiting for a whole poll-then-process cycle to end.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar, cast

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session

from campaign.clock import local, local_today, utcnow
from intake.sources import Mailbox, MailboxUnavailable, SourceError, url_scheme
from intake.sources.imap import SCHEMES as IMAP_SCHEMES
from intake.sources.receiver import LocalReceiver
from notifier.sender import SendReport
from tracker.app import App
from tracker.outreach.acceptance import queue_acceptance_reminders
from tracker.outreach.reminders import queue_reminders
from tracker.pipeline.poller import PollReport, poll_once
from tracker.pipeline.processing import Feed, InProcess, ProcessReport, process_pending
from tracker.pipeline.workers import WorkerPool
from tracker.store.blobs import BlobStoreUnavailable
from tracker.store.db import DatabaseUnavailable, unavailable
from tracker.store.locks import Leadership
from tracker.store.wakeups import StoredMailListener, announce_stored, listens

log = logging.getLogger("jiebang.service")

MAX_BACKOFF = 300.0
# a database restart takes seconds and a refused connection costs nothing: the service is
# back at work within this long of the database's return (a remote mailbox waits up to
# MAX_BACKOFF, not to be hammered)
DATABASE_BACKOFF = 5.0
# while it stays away, a reminder this often (each try is logged at DEBUG)
DATABASE_REMINDER = 300.0
ROLES = ("all", "poller", "worker")

_Job = TypeVar("_Job", bound=Callable[..., Any])


def in_round(job: _Job) -> _Job:
    """Run a service job with its app's round in force (the scheduler's threads start with
    none: the round is never set for the whole process)."""

    @functools.wraps(job)
    def run(self: Service, *args: Any, **kwargs: Any) -> Any:
        with self.app.round():
            return job(self, *args, **kwargs)

    return cast(_Job, run)


@dataclass
class CycleReport:
    poll: PollReport
    process: ProcessReport


class ReceiverUnavailable(Exception):
    """The embedded SMTP receiver cannot listen (port taken, no permission)."""


class Backoff:
    """Exponential back-off between reconnect attempts (1 s, 2 s, 4 s … 5 min)."""

    def __init__(self, first: float = 1.0, cap: float = MAX_BACKOFF) -> None:
        self.first, self.cap, self.delay, self.not_before = first, cap, 0.0, 0.0

    def failed(self) -> float:
        self.delay = min(self.cap, self.delay * 2 if self.delay else self.first)
        self.not_before = time.monotonic() + self.delay
        return self.delay

    def succeeded(self) -> None:
        self.delay, self.not_before = 0.0, 0.0

    def ready(self) -> bool:
        return time.monotonic() >= self.not_before


class DatabaseWait:
    """The database is away (stopped, restarting, unreachable): the jobs that need it wait
    out one shared back-off (1 s, 2 s, 4 s, then every DATABASE_BACKOFF) instead of failing
    every tick with a traceback. One line says it went away, one that it is back (and a
    reminder every DATABASE_REMINDER meanwhile); no job stops, and nothing is given up on
    (processing gives its claims back, the outbox keeps its rows, the mailbox its mail)."""

    def __init__(self) -> None:
        self._backoff = Backoff(cap=DATABASE_BACKOFF)
        self._lock = threading.Lock()
        self._since: float | None = None  # when it went away (None: it is there)
        self._reminded = 0.0

    def ready(self) -> bool:
        return self._backoff.ready()

    def failed(self, job: str, why: str) -> None:
        with self._lock:
            if not self._backoff.ready():
                return  # another job found it away a moment ago: counted once
            delay = self._backoff.failed()
            now = time.monotonic()
            first = self._since is None
            if self._since is None:
                self._since = self._reminded = now
            remind = now - self._reminded >= DATABASE_REMINDER
            if remind:
                self._reminded = now
            away = now - self._since
        if first:
            log.warning("database unavailable (%s): %s — mail waits; trying again every few seconds", job, why)
        elif remind:
            log.warning("database still unavailable after %.0f s (%s): %s", away, job, why)
        else:
            log.debug("database unavailable (%s): %s — next try in %.0f s", job, why, delay)

    def succeeded(self) -> None:
        with self._lock:
            if self._since is None:
                return
            away, self._since = time.monotonic() - self._since, None
            self._backoff.succeeded()
        log.info("database back after %.0f s: carrying on", away)


class Service:
    def __init__(self, app: App, *, role: str = "all") -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        self.app, self.role = app, role
        self.stop = threading.Event()
        # exactly one process polls a mailbox: whoever holds its lock (the others process and send)
        self.leadership = Leadership(app.engine, f"poll:{app.new_mailbox().name}")
        self._mailbox: Mailbox | None = None
        self._backoff = Backoff()
        self._store_backoff = Backoff()  # the blob store was unreachable: processing waits
        self._database = DatabaseWait()  # the database was unreachable: poll, process and send wait
        self._lock = threading.Lock()  # one processing run (or one-off cycle) at a time
        self._poll_lock = threading.Lock()  # one poll at a time
        self._new_mail = threading.Event()  # set by a poll that stored mail, for the process job
        self._send_again = threading.Event()  # set by a wake-up of the outbox job, for a running one
        self.receiver: LocalReceiver | None = None
        self.scheduler: BackgroundScheduler | None = None
        self._understander: WorkerPool | InProcess | None = None
        self._serving = False  # run_forever keeps its workers between cycles

    @property
    def understander(self) -> WorkerPool | InProcess:
        """The worker pool, started on first use and kept until :meth:`close`."""
        if self._understander is None:
            self._understander = self.app.understander()
        return self._understander

    def close(self) -> None:
        if not self._serving:
            self.leadership.release()
        if self._understander is not None:
            self._understander.close()
            self._understander = None

    # --- start-up -----------------------------------------------------------
    def preflight(self) -> None:
        """Migrate the database and prove the mailbox works; raise on a permanent error."""
        self.app.migrate()
        if not self.polls:
            return  # a worker never touches the mailbox
        mailbox = self.app.new_mailbox()
        mailbox.connect()
        for folder in self.app.folders:
            mailbox.select(folder)
        if self.app.settings.mailbox.after_commit == "move":
            ensure = getattr(mailbox, "ensure_folder", None)
            if ensure:
                ensure(self.app.settings.mailbox.move_to)
        self._mailbox = mailbox

    # --- one cycle ----------------------------------------------------------
    @in_round
    def cycle(self, *, understand: bool = True) -> CycleReport:
        with self._lock:
            try:
                if not (understand and self.processes):
                    with self._poll_lock:
                        return CycleReport(poll=self._poll(), process=ProcessReport())
                # store and understand at once: each batch, once committed, goes to the
                # workers while the next is fetched (they start with the first message, so an
                # empty `run --once` starts none)
                self.understander.prepare()
                feed = Feed()

                def fetch() -> PollReport:
                    try:
                        with self._poll_lock:
                            return self._poll(on_batch=feed.stored)
                    finally:
                        feed.close()

                with ThreadPoolExecutor(1, thread_name_prefix="jiebang-fetch") as fetcher:
                    polled = fetcher.submit(fetch)
                    process = self._process(feed=feed)
                # what the fetch raised is raised here, after the mail it stored was processed
                return CycleReport(poll=polled.result(), process=process)
            finally:
                if not self._serving:  # one-off cycles (run --once, tools) leave no workers or locks
                    self.close()

    @in_round
    def process(self) -> ProcessReport:
        """Understand mail stored by other means (`ingest`, `requeue`, another process's poller)."""
        if not self.processes or not self._lock.acquire(blocking=False):
            return ProcessReport()  # a poll cycle is running and processes it anyway
        try:
            return self._process()
        finally:
            self._lock.release()

    def _process(self, feed: Feed | None = None) -> ProcessReport:
        p = self.app.settings.processing
        # while serving, each answer leaves as soon as its mail is recorded: the first sender
        # does not wait for the last sender's OCR
        wake = (lambda: self.wake("outbox")) if self._serving else None
        if not self._store_backoff.ready() or not self._database.ready():
            return ProcessReport()  # the store or the database was down a moment ago: the mail waits
        report = process_pending(self.app.engine, self.app.blobs, self.understander, apply=self.app.applier,
                                 stop=self.stop, max_attempts=p.max_attempts, on_settled=wake, feed=feed,
                                 lease=timedelta(seconds=p.lease_seconds))
        if report.database_unavailable is not None:
            if not self._serving:  # a one-off (run --once, tools) fails as it always did
                raise DatabaseUnavailable(report.database_unavailable)
            self._database.failed("processing", report.database_unavailable)
        else:
            self._database.succeeded()
        if report.processed or report.quarantined or report.retried:
            log.info("processed %d, quarantined %d, to retry %d", report.processed, report.quarantined,
                     report.retried)
        if report.store_unavailable is not None:
            delay = self._store_backoff.failed()
            log.warning("blob store: %s — processing again in %.0f s", report.store_unavailable, delay)
        else:
            self._store_backoff.succeeded()
        return report

    @in_round
    def send(self) -> SendReport:
        """Deliver the outbox; a broken SMTP server only delays mail (rows stay pending)."""
        report = self.app.deliver()
        if report.sent or report.failed or report.retried:
            log.info("outbox: %d sent, %d to retry, %d failed", report.sent, report.retried, report.failed)
        return report

    @in_round
    def receipts(self) -> int:
        """Receipts for mail still unanswered ``notify.receipt_after_seconds`` after arrival."""
        written = self.app.arrival_receipts.run()
        if written:
            self.wake("outbox")
        return written

    @in_round
    def remind(self, today: date | None = None) -> int:
        today = today or local_today(self.app.policy.catalogue)
        with Session(self.app.engine) as session:
            report = queue_reminders(session, self.app.policy, today=today,
                                     days_before=self.app.settings.reminders.days_before,
                                     settings=self.app.reply_settings)
            # the year after: acceptance due, or a rework's date near (SPEC 7)
            later = queue_acceptance_reminders(session, self.app.policy, self.app.reply_settings, today=today)
            session.commit()
        for line in report.queued:
            log.info("reminder queued: %s", line)
        for reference in later:
            log.info("acceptance reminder queued: %s", reference)
        return len(report.queued) + len(later)

    @in_round
    def digest(self, today: date | None = None) -> bool:
        """Queue today's staff digest (at most once a day: the outbox's dedupe key)."""
        from tracker.outreach.digest import queue_digest  # heavy: matplotlib

        if not self.app.settings.staff.digest_to:
            log.warning("digest: staff.digest_to is empty; not writing one")
            return False
        a = self.app
        return queue_digest(a.engine, a.blobs, a.policy, a.settings, today=today) is not None

    @property
    def polls(self) -> bool:
        return self.role in ("all", "poller")

    @property
    def processes(self) -> bool:
        return self.role in ("all", "worker")

    def _poll(self, on_batch: Callable[[], None] | None = None) -> PollReport:
        if not self.polls or not self._backoff.ready():
            return PollReport()
        if not self.leadership.acquire():
            log.debug("another process polls %s", self.leadership.name)
            return PollReport()
        reused = self._mailbox is not None
        try:
            report = self._poll_with_connection(on_batch)
        except MailboxUnavailable as exc:
            self._drop_mailbox()
            if not reused:
                return self._poll_failed(exc)
            # a connection kept since the last cycle may simply have timed out on the
            # server's side: one immediate retry on a fresh one before backing off
            try:
                report = self._poll_with_connection(on_batch)
            except (SourceError, BlobStoreUnavailable) as again:
                return self._poll_failed(again)
        except SourceError as exc:
            return self._poll_failed(exc)
        except BlobStoreUnavailable as exc:  # nothing stored, nothing acknowledged: fetched again later
            return self._poll_failed(exc, what="blob store")
        self._backoff.succeeded()
        if report.fetched:
            log.info("poll: %d fetched, %d new, %d already stored", report.fetched, report.new, report.duplicates)
        return report

    def _poll_with_connection(self, on_batch: Callable[[], None] | None = None) -> PollReport:
        if self._mailbox is None:
            self._mailbox = self.app.new_mailbox()
            self._mailbox.connect()
        return poll_once(
            self.app.engine, self.app.blobs, self._mailbox, self.app.folders,
            limit=self.app.settings.mailbox.max_messages_per_run, stop=self.stop, on_batch=on_batch,
        )

    def _poll_failed(self, exc: Exception, *, what: str = "mailbox") -> PollReport:
        delay = self._backoff.failed()
        log.warning("%s: %s — retrying in %.0f s", what, exc, delay)
        self._drop_mailbox()
        return PollReport()

    def _drop_mailbox(self) -> None:
        if self._mailbox is not None:
            try:
                self._mailbox.close()
            except Exception:  # closing a broken connection
                pass
        self._mailbox = None

    # --- the long-running service ---------------------------------------------
    def run_forever(self, *, handle_signals: bool = True) -> None:
        settings = self.app.settings
        self._serving = True
        if handle_signals:  # only possible from the main thread
            self._install_signals()
        if settings.receiver.enabled and self.polls:
            self.receiver = self._start_receiver()
        self.scheduler = BackgroundScheduler(timezone=settings.campaign.timezone)
        self.scheduler.add_job(
            self._poll_job, "interval", seconds=settings.schedule.poll_seconds, id="poll",
            max_instances=1, coalesce=True, next_run_time=local(utcnow(), self.app.policy.catalogue),
        )
        self.scheduler.add_job(self._process_job, "interval", seconds=settings.schedule.process_seconds,
                               id="process", max_instances=1, coalesce=True,
                               next_run_time=local(utcnow(), self.app.policy.catalogue))
        self.scheduler.add_job(self._send_job, "interval", seconds=settings.schedule.outbox_seconds,
                               id="outbox", max_instances=1, coalesce=True)
        if settings.notify.receipt_after_seconds and self.processes:
            # looked at often: a receipt is due receipt_after_seconds after arrival, not a tick later
            every = max(1.0, min(5.0, settings.notify.receipt_after_seconds / 6))
            self.scheduler.add_job(self._guard(self.receipts), "interval", seconds=every, id="receipts",
                                   max_instances=1, coalesce=True)
        self.scheduler.add_job(self._guard(self.remind), CronTrigger.from_crontab(
            settings.schedule.reminders_cron, timezone=settings.campaign.timezone), id="reminders",
            max_instances=1, coalesce=True)
        self.scheduler.add_job(self._guard(self.digest), CronTrigger.from_crontab(
            settings.schedule.digest_cron, timezone=settings.campaign.timezone), id="digest",
            max_instances=1, coalesce=True)
        self.scheduler.start()
        watcher = None
        # a worker never touches the mailbox: it may not even hold its password
        if self.polls and settings.mailbox.idle and url_scheme(settings.mailbox.url) in IMAP_SCHEMES:
            watcher = threading.Thread(target=self._idle_watch, name="idle", daemon=True)
            watcher.start()
        if self.processes and listens(self.app.engine):  # another host's poller says when mail is stored
            StoredMailListener(self.app.engine, self._mail_stored, self.stop).start()
        if self.polls:
            log.info("jiebang running (%s): mailbox %s, every %d s%s", self.role, self.app.new_mailbox().name,
                     settings.schedule.poll_seconds, " + IDLE" if watcher else "")
        else:
            log.info("jiebang running (worker): stored mail every %d s", settings.schedule.process_seconds)
        try:
            while not self.stop.wait(1.0):
                pass
        finally:
            log.info("stopping: finishing the current message")
            self.scheduler.shutdown(wait=True)
            if self.receiver:
                self.receiver.stop()
            self._drop_mailbox()
            self._serving = False
            self.close()
            log.info("stopped")

    def _poll_job(self) -> None:
        if not self._database.ready():
            return  # the mail waits in the mailbox (nothing was taken from it)
        try:
            with self._poll_lock:
                report = self._poll()
        except Exception as exc:  # the scheduler must survive anything a poll raises
            if (why := unavailable(exc)) is not None:
                self._database.failed("poll", why)
            else:
                log.exception("poll failed; the next one will retry")
            return
        if report.new:
            announce_stored(self.app.engine)  # the workers on other hosts start now
            self._mail_stored()

    def _mail_stored(self) -> None:
        """Mail was stored (by this process's poll, or another host's: LISTEN)."""
        if self.processes:
            # a running process job sees the flag when its queue runs dry and goes on
            # (waking a running job would only make the scheduler skip it)
            self._new_mail.set()
            if not self._lock.locked():
                self.wake("process")  # read the new mail now, not at the next tick

    def _process_job(self) -> None:
        while True:
            self._new_mail.clear()
            try:
                report = self.process()
            except Exception as exc:  # the scheduler must survive anything processing raises
                if (why := unavailable(exc)) is not None:
                    self._database.failed("processing", why)
                else:
                    log.exception("processing failed; the next run will retry")
                return
            if report.processed or report.quarantined:
                self.wake("outbox")  # answers go out right after the mail that caused them
            if not self._new_mail.is_set() or self.stop.is_set():
                return

    def _send_job(self) -> None:
        # a wake-up while a send runs is not lost (the scheduler skips a job already running):
        # the run goes round again, so an answer recorded meanwhile leaves now, not a tick later
        while True:
            self._send_again.clear()
            if not self._database.ready():
                return  # the rows wait in the outbox
            if self._guard(self.send)():
                self._database.succeeded()
            if not self._send_again.is_set() or self.stop.is_set():
                return

    def _guard(self, job: Callable[[], object]) -> Callable[[], bool]:
        """*job*, never raising: True if it ran through."""

        def run() -> bool:
            try:
                job()
            except Exception as exc:  # a failing job is logged and retried on its schedule
                if (why := unavailable(exc)) is not None:
                    self._database.failed(job.__name__, why)
                else:
                    log.exception("job %s failed; it runs again on its schedule", job.__name__)
                return False
            return True

        return run

    def wake(self, job: str = "poll") -> None:
        if job == "outbox":
            self._send_again.set()
        if self.scheduler is not None and not self.stop.is_set() and self.scheduler.get_job(job):
            self.scheduler.modify_job(job, next_run_time=local(utcnow(), self.app.policy.catalogue))

    def _idle_watch(self) -> None:
        """Hold a second connection in IDLE on the first folder and wake the poll job."""
        backoff = Backoff()
        folder = self.app.folders[0]
        while not self.stop.is_set():
            box = self.app.new_mailbox()
            try:
                box.connect()
                box.select(folder)
                if not box.supports_idle:
                    log.info("server has no IDLE: polling every %d s", self.app.settings.schedule.poll_seconds)
                    return
                backoff.succeeded()
                while not self.stop.is_set():
                    if box.wait_for_mail(timeout=self.app.settings.mailbox.idle_seconds, stop=self.stop):
                        log.debug("IDLE: new mail in %s", folder)
                        self.wake()
            except SourceError as exc:
                delay = backoff.failed()
                log.warning("IDLE connection: %s — reconnecting in %.0f s", exc, delay)
                self.stop.wait(delay)
            finally:
                try:
                    box.close()
                except Exception:  # already broken
                    pass

    def _start_receiver(self) -> LocalReceiver:
        r = self.app.settings.receiver
        inbox = self.app.settings.maildir_path(self.app.settings.mailbox.url)
        receiver = LocalReceiver(inbox, host=r.host, port=r.port, max_message_bytes=r.max_message_bytes)
        try:
            receiver.start()
        except OSError as exc:
            raise ReceiverUnavailable(f"local SMTP receiver cannot listen on {r.host}:{r.port}: "
                                      f"{exc.strerror or exc}") from None
        log.info("local SMTP receiver on %s:%d → %s", r.host, receiver.port, inbox)
        return receiver

    def _install_signals(self) -> None:
        def _stop(signum: int, _frame: object) -> None:
            # a supervisor often sends a second signal while we finish (systemd, the
            # quick start's trap): say it once
            if not self.stop.is_set():
                log.info("received %s", signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
