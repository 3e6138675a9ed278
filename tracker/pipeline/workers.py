"""Understanding in worker processes under hard limits; the parent survives any death.

Every message from the public mailbox is hostile input, so its documents are opened
in a separate process: a PDF that inflates to gigabytes, a parser that recurses
forever or a library that aborts kills one worker, never the service. Each worker

- is started by a fork server that has imported intake once (cheap, and safe while
  the parent runs scheduler and IMAP threads);
- caps its address space at what it uses plus ``memory_mb`` (RLIMIT_AS: an
  allocation beyond it fails inside the worker); the OCR engine is loaded on the first
  scan, and the cap grows by what loading it reserved (its libraries included);
- keeps malloc to two arenas (see :func:`_two_malloc_arenas`);
- gets a CPU-time budget per message (RLIMIT_CPU: SIGXCPU ends a runaway loop);
- is watched by the parent: resident memory above ``memory_mb`` or a message over
  ``seconds`` of wall time gets it SIGKILLed, and a new worker takes its place;
- runs at a lower priority than the service, which records every answer in turn.

The parent hands out one message per idle worker and, once a worker has answered,
queues its next one behind the message it reads (it starts it the moment it answers,
while the parent records the answer). It yields what happened to each:
:class:`Understood` with the result, :class:`Died` with a cause for staff, or
:class:`Unstarted` for a queued message whose worker ended first.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import resource
import signal
import sys
import time
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import psutil

from campaign import RoundPolicy
from intake.model import Understanding

log = logging.getLogger("jiebang.workers")

MiB = 1024 * 1024
_POLL = 0.05  # seconds between memory and clock checks of busy workers
WORKER_NICENESS = 10  # below the service (and LibreOffice, which a worker starts)
END = object()  # a task iterator is exhausted (None only means: nothing yet)


# What a worker needs for OCR, measured (RapidOCR 1.4.4, onnxruntime 1.32, 2 threads, with
# the two malloc arenas below): loading the engine maps ~550 MB of address space (the
# import of OpenCV and onnxruntime ~440 MB, the sessions ~110 MB; ~160 MB of it resident);
# reading one page then adds, at its peak, ~300-370 MB resident (~360-400 MB of address
# space) for an A4 scan (detection at 100 dpi) and ~550-810 MB (as much) for a photo
# (detection at up to 2000 px, RapidOCR's own size; a square one costs the most). Before
# each message a worker holds ~300-340 MB once it has read a scan. Reading scans, photos
# of forms, signature strips and 4000x3000 phone pictures in turn, one peaked at ~1070 MB
# resident and ~970 MB of address space beyond the loaded engine: at 1024 MB the parent's
# watch would kill it on a photo; the default leaves ~470 MB above that peak.
DEFAULT_MEMORY_MB = 1536


@dataclass(frozen=True)
class WorkerLimits:
    memory_mb: int = DEFAULT_MEMORY_MB  # resident memory (and address space beyond the warm baseline)
    cpu_seconds: int = 300  # CPU time for one message
    seconds: float = 300.0  # wall-clock time for one message
    ocr_threads: int = 2


@dataclass(frozen=True)
class Task:
    pk: int  # the message's row
    blob: Path  # its raw bytes on disk: the worker reads them, the parent never holds them
    received_at: datetime | None
    as_city: str | None = None  # staff vouched for it as that city's material


@dataclass(frozen=True)
class Understood:
    result: Understanding


@dataclass(frozen=True)
class Died:
    cause: str  # plain words for staff: "killed: memory above 1024 MB", "CPU limit (SIGXCPU)" …
    fatal: bool = False  # deterministic (an exception, not a death): no point in trying again


@dataclass(frozen=True)
class Unstarted:
    """Handed to a worker that ended before it started it: the claim is given back (no
    attempt or death counts against the message)."""


Outcome = Understood | Died | Unstarted


# --- the worker side ------------------------------------------------------------------------
def _worker_main(conn: Connection, policy: RoundPolicy, limits: WorkerLimits) -> None:
    # the parent stops us with SIGKILL; Ctrl-C in a terminal reaches the whole group and
    # must not interrupt a worker half-way (the parent decides when to stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the service records what workers understand, one message at a time: when the three
    # compete for two cores it must win, or workers wait for it with their answers ready
    # (measured: each worker idled ~30% of a run of 600; with this, runs are ~10% faster)
    os.nice(WORKER_NICENESS)
    _two_malloc_arenas()
    from intake.documents import ocr
    from intake.understand import understand

    space = _AddressSpace(limits.memory_mb * MiB)
    # most mail has no scan: the OCR engine (~0.2 s, ~160 MB resident) is imported and
    # loaded on the first page that needs it, with the cap widened by what that reserves
    ocr.configure(threads=limits.ocr_threads, loading=space.widened)
    space.cap()
    try:
        conn.send(("ready", os.getpid()))
    except OSError:  # the parent closed the pool before this worker was ready
        return
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        if task is None:
            return
        used = int(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]))
        # only the soft limit moves: raising the hard one needs CAP_SYS_RESOURCE
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        soft = used + limits.cpu_seconds
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        try:
            raw = Path(task.blob).read_bytes()
            result = understand(raw, policy, received_at=task.received_at, as_city=task.as_city)
            del raw
            conn.send(("ok", task.pk, result))
        except MemoryError:
            # the address-space cap: this process may be in a bad state, so it ends here
            os._exit(70)
        except Exception as exc:  # understand() itself never raises; reading the blob may
            conn.send(("error", task.pk, f"{exc.__class__.__name__}: {exc}"))


_M_ARENA_MAX = -8  # glibc's mallopt() parameter (malloc.h)


def _two_malloc_arenas() -> None:
    """At most two malloc arenas in this worker (glibc makes up to 8 per core).

    Each thread that allocates while another holds the main arena gets an arena of its
    own, and each new arena reserves 64 MB of address space it mostly never touches:
    onnxruntime's and OpenCV's threads took six, which counts against the address-space
    cap. Measured on one page: with two arenas the engine's sessions reserve 130 MB
    instead of 260 MB, and a photo's inference peaks at ~730 MB of address space instead
    of ~1030 MB, at the same speed (a worker has two OCR threads and one reader).
    """
    try:
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 2)
    except (OSError, AttributeError):  # not glibc: its allocator, its own way
        pass


class _AddressSpace:
    """This worker's address-space cap (RLIMIT_AS): its size when it starts, plus *room*.

    Only the soft limit is set: the worker's own code may widen it (to load the OCR
    engine); what it protects against is an allocation a hostile document causes, which
    then fails inside the worker (MemoryError: the worker ends, the parent survives).
    """

    def __init__(self, room: int) -> None:
        self.room = room

    @staticmethod
    def _size() -> int:
        return int(psutil.Process().memory_info().vms)

    @staticmethod
    def _set(soft: int) -> None:
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))

    def cap(self) -> None:
        self._set(self._size() + self.room)

    @contextmanager
    def widened(self) -> Iterator[None]:
        """Lift the cap while something of ours loads; afterwards it is the old cap plus
        what the loading added (the message being read keeps only its own room)."""
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        before = self._size()
        self._set(resource.RLIM_INFINITY)
        try:
            yield
        finally:
            grown = max(0, self._size() - before)
            self._set(resource.RLIM_INFINITY if soft == resource.RLIM_INFINITY else soft + grown)


# --- the parent side ------------------------------------------------------------------------
@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    task: Task | None = None  # the message it is reading
    queued: Task | None = None  # the next one, waiting in its pipe
    finished: int = 0  # messages it answered (a warm worker gets its next one queued)
    started: float = 0.0
    ps: psutil.Process | None = None
    peak_rss: int = 0


@dataclass
class PoolStats:
    started: int = 0
    died: int = 0
    peak_rss: int = 0  # the largest resident size any worker reached (sampled)
    causes: list[str] = field(default_factory=list)


def _context() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    # loaded once in the fork server: each worker starts with intake imported. The document
    # libraries (python-docx, openpyxl, pdfium, pdfplumber …) are left to each worker's
    # first messages: preloading them kept the fork server busy ~0.9 s before the first
    # fork, and a run of 600 messages took 0.2–0.35 s longer with two workers
    ctx.set_forkserver_preload(["intake.understand", "intake.documents.ocr"])
    return ctx


@contextmanager
def _main_left_behind() -> Iterator[None]:
    """Start a worker without the program that starts it.

    multiprocessing runs the parent's ``__main__`` script again in each new process. For
    the ``jiebang`` console script that is the whole CLI (SQLAlchemy, the tables, Typer:
    ~0.7 s and ~50 MB a worker) — none of which a worker uses: it needs only
    :func:`_worker_main`, found by its module's name. A ``__main__`` with neither a file
    nor a spec is not run.
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class WorkerPool:
    """``size`` worker processes; :meth:`run` understands tasks and yields their outcomes."""

    def __init__(self, policy: RoundPolicy, size: int, limits: WorkerLimits = WorkerLimits()) -> None:
        self.policy, self.size, self.limits = policy, max(1, size), limits
        self.stats = PoolStats()
        self._workers: list[_Worker] = []
        self._unstarted: list[Task] = []  # queued for a worker that ended: to give back
        self._ctx = _context()

    # lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # a pool nobody closed must not leave workers holding memory behind it
        try:
            self.close()
        except Exception:  # interpreter shutdown: the daemon workers end with us anyway
            pass

    def prepare(self) -> None:
        """Start the fork server now: it imports intake (~0.5 s) while the caller reads
        the mailbox, so the first worker forks from it as soon as there is mail.
        No worker is started (an empty mailbox costs no warm-up)."""
        from multiprocessing import forkserver

        forkserver.ensure_running()

    def start(self) -> None:
        """Start the workers now (they warm up while the caller does other work)."""
        while len(self._workers) < self.size:
            self._spawn()

    def close(self) -> None:
        if self._workers:  # what operators size processing.worker_memory_mb (and the pool) by
            log.info("workers: %d started, %d died, largest resident size %.0f MB, CPU %.1f s (live workers)",
                     self.stats.started, self.stats.died, self.stats.peak_rss / MiB, self._cpu_seconds())
        for w in self._workers:
            try:
                w.conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 3
        for w in self._workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(1)
            w.conn.close()
        self._workers.clear()

    def _cpu_seconds(self) -> float:
        total = 0.0
        for w in self._workers:
            try:
                times = w.ps.cpu_times() if w.ps is not None else None
            except psutil.Error:
                continue
            if times is not None:
                total += times.user + times.system
        return total

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker_main, args=(child, self.policy, self.limits),
                                    name="jiebang-worker", daemon=True)
        with _main_left_behind():
            process.start()
        child.close()
        self.stats.started += 1
        worker = _Worker(process, parent)
        self._workers.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(2)
        worker.conn.close()
        self._workers.remove(worker)

    # work ----------------------------------------------------------------------------------
    def run(self, tasks: Iterable[Task | None], *, stop: Callable[[], bool] = lambda: False
            ) -> Iterator[tuple[Task, Outcome]]:
        """Understand every task (one per idle worker); yield each as it finishes.

        A worker that has answered once gets its next task queued behind the one it
        reads: it starts it the moment it answers, while the caller records the answer
        (the two overlap; a worker never waits for the database).

        *tasks* may yield ``None``: nothing to hand out yet (mail is still being stored);
        the pool collects what finishes meanwhile and asks again. Workers start at once.

        When *stop* turns true no new task is handed out; those already running finish.
        """
        # taking a task is a claim, and a claim counts an attempt: a task is taken only
        # for a ready worker that starts it at once, or queued behind the one a warm
        # worker reads (never while workers warm up: a process killed then must not count
        # attempts against mail nobody read; a kill later counts at most one per worker).
        # Callers with nothing to do do not call this: it starts the workers.
        queue = iter(tasks)
        exhausted = False

        def take(worker: _Worker) -> bool:
            nonlocal exhausted
            task = next(queue, END)
            if task is END:
                exhausted = True
                return False
            if task is None:
                return False  # not yet: ask again after the next collection
            assert isinstance(task, Task)  # END is a bare object: no narrowing by `is`
            self._hand_out(worker, task)
            return True

        def refill() -> None:
            nonlocal exhausted
            self.start()
            if exhausted or stop():
                exhausted = True
                return
            idle = [w for w in self._workers if w.ready and w.task is None]
            warm = [w for w in self._workers if w.ready and w.finished and w.task is not None and w.queued is None]
            for worker in [*idle, *warm]:
                if not take(worker):
                    return

        while True:
            refill()
            if exhausted and not any(w.task is not None for w in self._workers) and not self._unstarted:
                return
            finished = [*self._take_unstarted(), *self._collect()]
            if finished:
                refill()
            yield from finished

    def _take_unstarted(self) -> list[tuple[Task, Outcome]]:
        given_back, self._unstarted = self._unstarted, []
        return [(task, Unstarted()) for task in given_back]

    def _hand_out(self, worker: _Worker, task: Task) -> None:
        if worker.task is not None:  # queued behind the message it reads
            try:
                worker.conn.send(task)
            except OSError:  # it is ending (its sentinel reports why): never started
                self._unstarted.append(task)
            else:
                worker.queued = task
            return
        try:
            worker.conn.send(task)
        except OSError:  # it died between tasks: the task goes to the next one
            self._retire(worker)
            replacement = self._spawn()
            self._wait_ready(replacement)
            replacement.conn.send(task)
            worker = replacement
        worker.task, worker.started = task, time.monotonic()

    def _wait_ready(self, worker: _Worker) -> None:
        if worker.conn.poll(60):
            self._receive(worker)

    def _collect(self) -> Iterator[tuple[Task, Outcome]]:
        by_conn = {w.conn: w for w in self._workers}
        by_sentinel = {w.process.sentinel: w for w in self._workers}
        for ready in wait([*by_conn, *by_sentinel], timeout=_POLL):
            # ready is a conn or a sentinel (int); each dict is asked with either kind
            worker = by_conn.get(ready) or by_sentinel.get(ready)  # type: ignore[call-overload, arg-type]
            if worker is None or worker not in self._workers:
                continue
            if ready in by_conn:
                try:
                    done = self._receive(worker)
                except (EOFError, OSError):
                    yield from self._died(worker, self._death_cause(worker))
                    continue
                if done is not None:
                    yield done
            else:
                if worker.conn.poll():  # its last words arrived before it ended
                    try:
                        done = self._receive(worker)
                    except (EOFError, OSError):
                        done = None
                    if done is not None:
                        yield done
                yield from self._died(worker, self._death_cause(worker))
        yield from self._watch()

    def _receive(self, worker: _Worker) -> tuple[Task, Outcome] | None:
        message = worker.conn.recv()
        kind = message[0]
        if kind == "ready":
            worker.ready, worker.ps = True, psutil.Process(message[1])
            return None
        task, worker.task, worker.queued = worker.task, worker.queued, None
        if worker.task is not None:
            worker.started = time.monotonic()  # it reads the queued one from now on
        if task is None:
            return None
        worker.finished += 1
        self._sample(worker)  # a message shorter than the watch interval is measured too
        if kind == "ok":
            return task, Understood(message[2])
        return task, Died(f"worker error: {message[2]}", fatal=True)

    def _died(self, worker: _Worker, cause: str) -> list[tuple[Task, Outcome]]:
        task, queued = worker.task, worker.queued
        self.stats.died += 1
        self.stats.causes.append(cause)
        log.warning("worker %s ended (%s)%s", worker.process.pid, cause,
                    f" while understanding message #{task.pk}" if task else "")
        self._retire(worker)
        outcomes: list[tuple[Task, Outcome]] = []
        if task is not None:
            outcomes.append((task, Died(cause)))
        if queued is not None:
            outcomes.append((queued, Unstarted()))
        return outcomes

    def _death_cause(self, worker: _Worker) -> str:
        worker.process.join(1)
        code = worker.process.exitcode
        if code is None:
            return "worker stopped answering"
        if code == 70:
            return f"memory limit ({self.limits.memory_mb} MB of address space)"
        if code < 0:
            name = signal.Signals(-code).name
            if -code == signal.SIGXCPU:
                return f"CPU limit ({self.limits.cpu_seconds} s, {name})"
            return f"worker killed by {name}" + (" (out of memory?)" if -code == signal.SIGKILL else "")
        return f"worker exited with status {code}"

    def _sample(self, worker: _Worker) -> int | None:
        """The worker's resident size now (kept as its and the pool's peak)."""
        if worker.ps is None:
            return None
        try:
            rss: int = worker.ps.memory_info().rss
        except psutil.Error:
            return None
        worker.peak_rss = max(worker.peak_rss, rss)
        self.stats.peak_rss = max(self.stats.peak_rss, rss)
        return rss

    def _watch(self) -> Iterator[tuple[Task, Outcome]]:
        """Kill a busy worker that is over its memory or time budget."""
        now = time.monotonic()
        for worker in list(self._workers):
            if worker.task is None or worker.ps is None:
                continue
            rss = self._sample(worker)
            if rss is None:
                continue
            cause = None
            if rss > self.limits.memory_mb * MiB:
                cause = f"killed: memory above {self.limits.memory_mb} MB"
            elif now - worker.started > self.limits.seconds:
                cause = f"killed: over {self.limits.seconds:.0f} s"
            if cause:
                worker.process.kill()
                yield from self._died(worker, cause)
