"""Engine, sessions and migrations — the same code on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import create_engine

from tracker.store.locks import lock_migrations, migration_lock

MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened."""


# what a database that is down, restarting or refusing work raises: the server went away
# (a restart aborts every session: AdminShutdown, "server closed the connection"), refuses
# connections ("Connection refused", "the database system is starting up"), the pool
# waited in vain, or SQLite's file is locked. None of it is the fault of the mail being
# read: the work is tried again later, never given up on (PEP 249's OperationalError is
# exactly "errors related to the database's operation … not under the control of the
# programmer")
_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError,
                DatabaseUnavailable)


def unavailable(exc: BaseException) -> str | None:
    """Why the database cannot be used right now, in one line, if *exc* says so (itself or
    the exception it was raised from); None for any other error (a bug, a constraint)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _UNAVAILABLE) or (
                isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated):
            orig = getattr(current, "orig", None)
            lines = str(orig if orig is not None else current).strip().splitlines()
            return lines[0] if lines else current.__class__.__name__
        current = current.__cause__  # (not __context__: a bug while handling one is a bug)
    return None


def unsynced(conn: Connection) -> None:
    """This transaction's commit need not reach the disk by itself: call first thing in it.

    For the pipeline's own bookkeeping (a claim, a recorded mail and its queued answers):
    losing the last of these to a power cut only means the mail is read and recorded again,
    because nothing leaves the machine before a durable commit — the poller's store batch
    (before the mail server is told), the outbox's claim (before a mail is sent) — and
    both write-ahead logs are sequential: a durable commit makes every earlier one durable
    too. Each such commit waited for the disk (~2 ms on SQLite), twice per mail, in the one
    process that records: the pipeline went from 0.88x to ~1.0x the plain-Python floor
    (benchmarks/README.md). SQLite: synchronous=NORMAL until the connection is returned;
    PostgreSQL: synchronous_commit off for this transaction only.
    """
    if conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        if driver is not None and not getattr(driver, "in_transaction", True):  # only between transactions
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


# every engine made, so that a command's end closes their connections (dispose_all)
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def make_engine(url: str) -> Engine:
    engine = _make_engine(url)
    _ENGINES.add(engine)
    return engine


def dispose_all() -> None:
    """Close every pooled connection now (SQLite folds its write-ahead log back into the
    database file when the last one closes; PostgreSQL sees a clean goodbye)."""
    for engine in list(_ENGINES):
        engine.dispose()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            # WAL lets the CLI read while the service writes; FULL sync keeps commits durable
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "checkin")
        def _durable_again(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            # whoever takes this connection next commits durably unless it says otherwise
            # (unsynced): a relaxed transaction never leaks into another one
            try:
                dbapi_conn.cursor().execute("PRAGMA synchronous=FULL")
            except Exception:  # a broken connection is discarded by the pool anyway
                pass

        return engine
    # a database host that drops packets instead of refusing them must not hang a job on
    # the system's TCP timeout (minutes): connecting gives up after 10 s, and the long-held
    # connections (the poller's lock, LISTEN) notice a dead peer within about a minute
    return create_engine(url, pool_pre_ping=True, connect_args={
        "connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
        "keepalives_count": 3})


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The schema revision this code expects (the newest migration shipped)."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS}")
    return head


def is_known_revision(revision: str) -> bool:
    """Whether this code ships *revision* (a database migrated by newer code has one it does not)."""
    return any(s.revision == revision for s in ScriptDirectory(str(MIGRATIONS)).walk_revisions())


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision, read without changing anything (None: never migrated)."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise DatabaseUnavailable(str(exc.orig).strip().splitlines()[0]) from exc


def upgrade(engine: Engine) -> None:
    """Apply every pending migration (idempotent)."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        # processes starting together: one migrates, the others wait here and then find
        # the schema at head
        with migration_lock(engine), engine.begin() as conn:
            lock_migrations(conn)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise DatabaseUnavailable(str(exc.orig).strip().splitlines()[0]) from exc
