"""Telling the other hosts that mail was stored (PostgreSQL LISTEN / NOTIFY).

A worker on another host learns of new mail only by looking (``schedule.process_seconds``,
15 s as shipped): on deadline day every mail would wait up to that long before anyone
reads it. The poller announces each committed batch instead and every processing host
listens, so a worker starts within moments. The tick stays as the safety net: a missed
notification (a listener reconnecting) costs one tick, never a mail. SQLite has no such
channel and needs none: its processes share a host and the poller's own process reads
what it stored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger("jiebang.service")

CHANNEL = "jiebang_stored"
_BACKOFF_CAP = 30.0


def listens(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def announce_stored(engine: Engine) -> None:
    """Wake every listening host (after the rows are committed: they can be claimed now)."""
    if not listens(engine):
        return
    try:
        with engine.begin() as conn:
            conn.execute(text(f"NOTIFY {CHANNEL}"))
    except Exception as exc:  # the tick finds the mail anyway: never fail a poll for this
        log.debug("could not announce stored mail: %s", exc)


class StoredMailListener:
    """A thread that calls *on_stored* whenever a poller announces stored mail; it holds
    one connection in LISTEN and reconnects (backing off) when the database goes away."""

    def __init__(self, engine: Engine, on_stored: Callable[[], None], stop: threading.Event) -> None:
        self.engine, self.on_stored, self.stop = engine, on_stored, stop
        self.thread = threading.Thread(target=self._run, name="listen", daemon=True)
        self._away: float | None = None  # the next wait while the database is away

    def start(self) -> StoredMailListener:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # the database restarted or went away: wait, reconnect
                # one warning per outage (the service says the rest): retries at debug level
                why = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
                if self._away is None:
                    log.warning("listening for stored mail: %s — reconnecting (stored mail is read on the "
                                "process tick meanwhile)", why)
                    self._away = 1.0
                else:
                    log.debug("listening for stored mail: %s — again in %.0f s", why, self._away)
                self.stop.wait(self._away)
                self._away = min(self._away * 2, _BACKOFF_CAP)

    def _listen(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"LISTEN {CHANNEL}")
            driver = conn.connection.driver_connection
            if driver is None:
                raise RuntimeError("no driver connection to listen on")
            if self._away is not None:
                log.info("listening for stored mail again")
                self._away = None
            while not self.stop.is_set():
                # returns after 2 s without news, so a stop is seen promptly
                for _ in driver.notifies(timeout=2.0, stop_after=1):
                    self.on_stored()
