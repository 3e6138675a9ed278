"""A migration that stops half-way leaves the database as it was, and the next start
migrates it (SQLite: Python's driver would otherwise commit each CREATE TABLE alone)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, inspect

from tracker.store import db


class Interrupted(Exception):
    pass


def test_a_migration_stopped_half_way_leaves_nothing_behind(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'jiebang.db'}")
    created = []

    def stop_after_two_tables(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            created.append(statement)
            if len(created) == 2:
                raise Interrupted  # as if the process were killed here

    event.listen(engine, "after_cursor_execute", stop_after_two_tables)
    with pytest.raises(Interrupted):
        db.upgrade(engine)
    event.remove(engine, "after_cursor_execute", stop_after_two_tables)
    engine.dispose()
    assert inspect(engine).get_table_names() == []
    db.upgrade(engine)  # the next start: no "table … already exists"
    assert {"message", "submission", "outbox", "alembic_version"} <= set(inspect(engine).get_table_names())
