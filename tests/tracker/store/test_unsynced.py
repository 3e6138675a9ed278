"""The pipeline's bookkeeping commits without waiting for the disk; nothing else does: a
relaxed transaction never leaks into the next user of its connection (the poller's store
batch and the outbox's claim, which come before anything leaves the machine, stay durable)."""

from __future__ import annotations

from sqlalchemy import text

from tracker.store import db

_SETTING = {"sqlite": "PRAGMA synchronous", "postgresql": "SHOW synchronous_commit"}
_RELAXED = {"sqlite": 1, "postgresql": "off"}  # NORMAL; off


def test_a_relaxed_commit_does_not_leak_into_the_next_transaction(db_url: str) -> None:
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    name = engine.dialect.name
    setting = text(_SETTING[name])
    with engine.begin() as conn:  # as configured: SQLite FULL; the server's (the tests' runs with off)
        durable = conn.execute(setting).scalar()
    if name == "sqlite":
        assert durable == 2
    for _ in range(3):  # the pool hands the same connection back each time
        with engine.begin() as conn:
            assert conn.execute(setting).scalar() == durable
            db.unsynced(conn)
            assert conn.execute(setting).scalar() == _RELAXED[name]
            conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
        with engine.begin() as conn:
            assert conn.execute(setting).scalar() == durable
    engine.dispose()
