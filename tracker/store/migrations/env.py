"""Alembic environment: runs on the connection handed over by tracker.store.db.upgrade."""

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import notifier.models  # noqa: F401  (registers the outbox table)
import tracker.store.tables  # noqa: F401  (registers every tracker table, one module)
from notifier.dbtypes import UtcDateTime

target_metadata = SQLModel.metadata
config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _migrate(connection)
    else:
        _migrate(connection)


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # migrations must not import application types: UtcDateTime is a DateTime in SQL
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run()
