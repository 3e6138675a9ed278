"""Locks shared by every jiebang process on one database: PostgreSQL advisory locks,
or a lock file beside an SQLite database.

- ``migration_lock``: processes starting together bring the schema up once; the others
  wait, then find nothing left to do.
- ``records_lock``: one process at a time records understood mail. References are
  numbered, versions counted and cross rules read whole cities: two transactions doing
  that at once would both take JB2025-0006. Understanding (the expensive part) stays
  parallel; the recording transaction is short.
- ``Leadership``: exactly one process polls a given mailbox. The lock lives as long as
  the leader's connection (PostgreSQL) or open file (SQLite), so when the leader dies
  the lock is released by the server or the kernel, and the next poll of any other
  process takes over.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

log = logging.getLogger("jiebang.locks")


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for an advisory lock named *name*."""
    return int.from_bytes(hashlib.sha256(f"jiebang:{name}".encode()).digest()[:8], "big", signed=True)


def _lock_path(engine: Engine, name: str) -> Path:
    database = engine.url.database or ""
    base = Path(database) if database and database != ":memory:" else Path(os.environ.get("TMPDIR", "/tmp")) / "jiebang"
    safe = hashlib.sha256(name.encode()).hexdigest()[:16]
    return base.parent / f".{base.name}.{safe}.lock"


@contextmanager
def _file_lock(engine: Engine, name: str) -> Iterator[None]:
    """An exclusive lock file beside an SQLite database, held for the ``with`` block."""
    path = _lock_path(engine, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Around the whole migration transaction: a file lock beside an SQLite database.

    (PostgreSQL takes :func:`lock_migrations` inside the transaction instead.) The lock
    must outlive the commit, or a waiting process would read the schema as it was.
    """
    if engine.dialect.name == "postgresql":
        yield
        return
    with _file_lock(engine, "migrations"):
        yield


def lock_migrations(conn: Connection) -> None:
    """Make the migration one transaction, and the only one.

    PostgreSQL: a transaction-scoped advisory lock, released at commit (or if we die).
    SQLite (serialised by :func:`migration_lock`): an explicit transaction, because
    Python's driver begins one only before INSERT, UPDATE or DELETE. Without it each
    CREATE TABLE commits by itself, and a process killed mid-migration leaves tables
    that the version table does not know of ("table … already exists" at every start).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("migrations")})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def records_lock(session: Session) -> Iterator[None]:
    """Around recording one message, commit included.

    PostgreSQL: a transaction-scoped advisory lock, taken now in *session*'s transaction
    and released by its commit or rollback. SQLite: a file lock beside the database for
    the ``with`` block (SQLite would otherwise fail the second writer of a read-then-write
    transaction with "database is locked" instead of making it wait).
    """
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    if engine.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("records")})
        yield
        return
    with _file_lock(engine, "records"):
        yield


class Leadership:
    """Try to be the one poller of *name*; hold it until :meth:`release` or process death."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine, self.name = engine, name
        self._conn: Connection | None = None
        self._file: IO[Any] | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def acquire(self) -> bool:
        """True if this process leads (already or now); never blocks."""
        if self.held:
            if self._alive():
                return True
            self.release()  # the connection died: the server released the lock too
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(self.name)}).scalar()
            conn.commit()
            if got:
                self._conn = conn
                log.info("leading %s (poller)", self.name)
                return True
            conn.close()
            return False
        path = _lock_path(self.engine, self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a+b")  # noqa: SIM115 (held open for as long as we lead)
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._file = fh
        log.info("leading %s (poller)", self.name)
        return True

    def _alive(self) -> bool:
        if self._conn is None:
            return True
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:  # the connection is gone, and with it the lock
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(self.name)})
                self._conn.commit()
            except Exception:  # a dead connection's lock is gone already
                pass
            self._conn.close()
            self._conn = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
