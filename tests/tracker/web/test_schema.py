"""Migrations 0008 (the workspace's tables) and 0009 (the list's indexes) match the models,
and go down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from tracker.store.db import alembic_config, make_engine, upgrade

TABLES = ("staff_user", "web_session", "login_attempt", "field_override", "document_preview")


def test_migration_0008_matches_the_models_and_reverses(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert [d for d in diff if any(t in repr(d) for t in TABLES)] == []
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    assert not set(TABLES) & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(TABLES) <= set(inspect(engine).get_table_names())
    engine.dispose()


LIST_INDEXES = {"ix_submission_unit", "ix_submission_direction", "ix_submission_city", "ix_submission_unit_city",
                "ix_submission_updated_at", "ix_deficiency_open"}


def test_migration_0009_adds_the_list_indexes_the_models_declare_and_reverses(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)

    def indexes() -> set[str]:
        found = inspect(engine)
        return {i["name"] for t in ("submission", "deficiency") for i in found.get_indexes(t) if i["name"]}

    assert LIST_INDEXES <= indexes()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert [d for d in diff if any(name in repr(d) for name in LIST_INDEXES)] == []
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    assert not LIST_INDEXES & indexes()
    upgrade(engine)
    assert LIST_INDEXES <= indexes()
    engine.dispose()


TEAM_TABLES = ("staff_two_factor", "staff_recovery_code", "login_challenge", "assignment", "staff_note",
               "saved_filter", "mail_handled")


def test_migration_0011_matches_the_models_and_reverses(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert [d for d in diff if any(t in repr(d) for t in TEAM_TABLES)] == []
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")
    assert not set(TEAM_TABLES) & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(TEAM_TABLES) <= set(inspect(engine).get_table_names())
    engine.dispose()
