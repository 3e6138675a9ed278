"""Another host's poller says when mail is stored: PostgreSQL LISTEN / NOTIFY wakes the
workers at once (on SQLite, one host, nothing to announce)."""

from __future__ import annotations

import threading

from tracker.store import db
from tracker.store.wakeups import StoredMailListener, announce_stored, listens


def test_a_listening_host_is_woken_when_another_announces_stored_mail(db_url: str) -> None:
    engine = db.make_engine(db_url)
    if not listens(engine):
        announce_stored(engine)  # SQLite: a no-op, never an error
        return
    woken, stop = threading.Event(), threading.Event()
    listener = StoredMailListener(engine, woken.set, stop).start()
    try:
        # the listener may still be connecting: announce until it hears (bounded)
        for _ in range(40):
            announce_stored(db.make_engine(db_url))  # as another host would, on its own engine
            if woken.wait(0.5):
                break
        assert woken.is_set()
    finally:
        stop.set()
        listener.thread.join(10)
    assert not listener.thread.is_alive()  # a stop ends it within its 2-second wait
