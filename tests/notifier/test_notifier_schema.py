"""The 0002 migration matches the model on both backends; dedupe holds under a race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import Session, SQLModel
from support.mail_contexts import CONTEXTS
from support.smtp import APPLICANT, SENDER

import notifier.models  # noqa: F401  (the outbox table in the metadata)
from notifier.outbox import enqueue

NOW = datetime(2025, 1, 13, 1, 0, tzinfo=UTC)


def test_migration_matches_the_model(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    outbox_diff = [d for d in diff if "outbox" in repr(d)]
    assert outbox_diff == []
    columns = {c["name"] for c in inspect(engine).get_columns("outbox")}
    assert {"message_id", "dedupe_key", "recipient_key", "next_attempt_at", "attachments"} <= columns


def test_downgrade_and_upgrade_again(engine: Engine) -> None:
    from tracker.store.db import alembic_config, upgrade

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert "outbox" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "outbox" in inspect(engine).get_table_names()


def _enqueue(session: Session) -> object:
    return enqueue(session, kind="reminder", to=[APPLICANT], template="reminder_city",
                   context=CONTEXTS["reminder_city"], dedupe_key="reminder:2025-01-13:x",
                   sender=SENDER, now=NOW)


def test_concurrent_dedupe_on_postgresql(postgres_server) -> None:  # noqa: ANN001
    # PostgreSQL only: SQLite serialises writers, so the race cannot happen there
    from uuid import uuid4

    from tracker.store.db import make_engine, upgrade

    engine = make_engine(postgres_server.create_database(f"t_{uuid4().hex[:12]}"))
    upgrade(engine)
    first = Session(engine)
    assert _enqueue(first) is not None  # flushed, not committed: holds the unique key
    result: list[object] = []

    def second_worker() -> None:
        with Session(engine) as session:
            result.append(_enqueue(session))
            session.commit()

    other = threading.Thread(target=second_worker)
    other.start()  # its INSERT waits on the first transaction
    other.join(0.5)
    first.commit()
    first.close()
    other.join(30)
    assert result == [None]
