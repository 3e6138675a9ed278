"""Previews of Word/WPS files: converted off the request path, in a bounded queue.

LibreOffice converts one file at a time and a conversion takes seconds (a hostile file up
to PREVIEW_SECONDS). So a preview request that needs one:

- counts against its account: at most PER_USER previews in flight per account (more:
  429) — one viewer opening forty-five previews at once gets two;
- reads what it needs and closes its database session first, then waits for the
  conversion without a database connection and without a thread (the handler awaits a
  future), so neither the connection pool nor the thread pool fills up with waiters;
- joins the conversion of the same file already queued (converted once, for everyone);
- is refused (503) when QUEUE_LIMIT different files already wait: the queue is bounded.

A conversion's result is cached (``document_preview`` and the blob store): the next
request for that file is answered from there and never queues.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future

log = logging.getLogger(__name__)

PER_USER = 4  # a clerk's page may load a preview while the previous one still converts
QUEUE_LIMIT = 16


class Busy(Exception):
    """This account has PER_USER previews in flight already."""


class QueueFull(Exception):
    """QUEUE_LIMIT conversions wait already."""


class Previews:
    """One workspace's preview slots and its conversion queue (one worker thread)."""

    def __init__(self, *, per_user: int = PER_USER, queue_limit: int = QUEUE_LIMIT) -> None:
        self.per_user, self.queue_limit = per_user, queue_limit
        self._lock = threading.Lock()
        self._users: Counter[int] = Counter()
        self._jobs: dict[str, Future[bytes]] = {}  # source sha256 → its conversion, queued or running
        self._queue: queue.Queue[tuple[str, Callable[[], bytes], Future[bytes]]] = queue.Queue()
        self._worker: threading.Thread | None = None

    # --- per account -------------------------------------------------------------------------
    def enter(self, user_id: int) -> None:
        """Take one of *user_id*'s preview slots (Busy when it has none left); ``leave`` returns it."""
        with self._lock:
            if self._users[user_id] >= self.per_user:
                raise Busy
            self._users[user_id] += 1

    def leave(self, user_id: int) -> None:
        with self._lock:
            self._users[user_id] -= 1
            if self._users[user_id] <= 0:
                del self._users[user_id]

    # --- the queue ---------------------------------------------------------------------------
    def convert(self, key: str, work: Callable[[], bytes]) -> Future[bytes]:
        """The conversion of *key*: the one already queued, or *work* queued now (QueueFull
        when QUEUE_LIMIT wait). Await it with ``asyncio.wrap_future``."""
        with self._lock:
            running = self._jobs.get(key)
            if running is not None:
                return running
            if len(self._jobs) >= self.queue_limit:
                raise QueueFull
            future: Future[bytes] = Future()
            self._jobs[key] = future
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="jiebang-previews", daemon=True)
                self._worker.start()
        self._queue.put((key, work, future))
        return future

    def waiting(self) -> int:
        with self._lock:
            return len(self._jobs)

    def _work(self) -> None:
        while True:
            key, work, future = self._queue.get()
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(work())
                    except Exception as exc:  # handed to every waiter
                        future.set_exception(exc)
            finally:
                with self._lock:
                    self._jobs.pop(key, None)
