"""The poller's lock when its connection dies (a database restart kills every session):
the lock goes with it, another process may take it, and the old leader finds out at its
next poll instead of polling beside the new one — and leads again once it is free."""

from __future__ import annotations

import contextlib
from uuid import uuid4

from sqlalchemy import text
from support.servers.postgres import Postgres

from tracker.store import db
from tracker.store.locks import Leadership


def test_a_leader_whose_connection_died_steps_down_and_leads_again_when_free(postgres_server: Postgres) -> None:
    name = f"t_lead_{uuid4().hex[:10]}"
    url = postgres_server.create_database(name)
    first, second = db.make_engine(url), db.make_engine(url)  # two processes
    a, b = Leadership(first, "poll:inbox"), Leadership(second, "poll:inbox")
    try:
        assert a.acquire() and not b.acquire()
        assert a._conn is not None
        pid = a._conn.execute(text("SELECT pg_backend_pid()")).scalar()
        a._conn.commit()
        with postgres_server.connect(name) as admin:  # as a restart does to every session
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert b.acquire()  # the server released the dead session's lock
        assert not a.acquire() and not a.held  # finds its connection dead, and the lock taken
        b.release()
        assert a.acquire() and a.held  # a new connection, the lock again
        assert not b.acquire()
    finally:
        a.release()
        b.release()
        first.dispose()
        second.dispose()
        with contextlib.suppress(Exception):
            postgres_server.drop_database(name)
