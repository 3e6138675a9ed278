"""A migration that stops half-way leaves the database as it was, and the next start
migrates it (SQLite: Python's driver would otherwise commit each CREATE TABLE alone);
0014 keys the submissions it finds as the records keep them."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect
from sqlmodel import Session, SQLModel, select

from tracker.records import unit_keys
from tracker.store import db
from tracker.store.tables import Submission, SubmissionUnitKey


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


UNITS = [  # (unit, uscc, partners): brackets, spaces, full-width letters, a code in lower case, no name, a long one
    ("山东省泉河数字经济研究院", "12370000ma3qh7k2xa", ["济南联合数据科技（集团）有限公司", " ", "Ａｂｃ 数据 公司"]),
    (None, "91370700MA3C4D5E6X", []),
    ("潍坊市 数据港科技有限公司", "913707", ["潍坊市数据港科技有限公司"]),
    ("长" * 400, None, ["长" * 400]),
    (None, None, []),
]


def test_migration_0014_keys_existing_submissions_as_the_records_keep_them_and_reverses(db_url: str) -> None:
    engine = db.make_engine(db_url)
    cfg = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0013")
    with Session(engine) as session:
        for n, (unit, uscc, partners) in enumerate(UNITS, 1):
            session.add(Submission(round_code="JB2025", reference=f"JB2025-{n:04d}", lead_key=f"k{n}", unit=unit,
                                   uscc=uscc, partners=partners))
        session.commit()
    db.upgrade(engine)

    def stored() -> set[tuple[int, str, str]]:
        with Session(engine) as session:
            return {(k.submission_id, k.role, k.key) for k in session.exec(select(SubmissionUnitKey)).all()}

    backfilled = stored()
    with Session(engine) as session:  # what the records write for the same submissions: nothing to change
        for sub in session.exec(select(Submission)).all():
            unit_keys.keep(session, sub)
        session.commit()
    assert stored() == backfilled and len(backfilled) == 4 + 2 + 2 + 2
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert [d for d in diff if "submission_unit_key" in repr(d)] == []
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0013")
    assert "submission_unit_key" not in inspect(engine).get_table_names()
    db.upgrade(engine)
    assert stored() == backfilled
    engine.dispose()
