"""Fixtures for notifier tests (helpers and constants live in smtp_support.py).

``smtp_server``  plain aiosmtpd on 127.0.0.1:<free port>; ``.handler`` records accepted
                 envelopes and can be told to answer 451 / 550
``smtp_tls``     trustme CA; ``.start(implicit=True|False)`` gives an implicit-TLS or a
                 STARTTLS-required server with AUTH (``USER`` / ``PASSWORD``)
``engine``       a database on ``db_url`` (SQLite and PostgreSQL) migrated to head
``clock``        an injectable clock starting 2025-01-13 09:00 Asia/Shanghai
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from support.smtp import Clock, SmtpServer, TlsServers


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_tls() -> Iterator[TlsServers]:
    servers = TlsServers()
    try:
        yield servers
    finally:
        for server in servers.started:
            server.stop()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    from tracker.store.db import make_engine, upgrade

    eng = make_engine(db_url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 1, 13, 1, 0, tzinfo=UTC))  # 09:00 in Shanghai
