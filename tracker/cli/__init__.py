"""`jiebang` — the one command (typer + rich).

Modules
    exits    every exit code, in one place
    common   consoles, shared options, loading settings and the app
    service  run, ingest, inspect, messages, init, db upgrade
    records  list, show, status, set-status, correct, outbox, resend, requeue, remind, send
    claims   claims, claim confirm|reject: what the trust rules hold for staff
    staff    digest, export, stats, reprocess, recommend
    web      web (the staff workspace), user add|list|disable (its accounts)

Commands are added explicitly by ``build()``, in the order ``--help`` shows them.
"""

from __future__ import annotations

import gc
import os

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError
from typer.core import TyperGroup

from tracker.cli import acceptance, claims, common, records, review, service, staff, web
from tracker.cli.exits import EXIT_DATABASE
from tracker.store import db


class _InOrder(TyperGroup):
    """List commands in the order they were added (click sorts them by name)."""

    def list_commands(self, ctx: object) -> list[str]:  # ctx: click's (typer may vendor its own)
        return list(self.commands)


def build() -> typer.Typer:
    app = typer.Typer(
        cls=_InOrder,
        help="jiebang — email intake and tracking for the 揭榜挂帅 round.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,
    )
    db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True, rich_markup_mode=None)
    service.register(app, db_app)
    records.register(app, db_app)
    claims.register(app, db_app)
    staff.register(app, db_app)
    web.register(app, db_app)
    review.register(app, db_app)
    acceptance.register(app, db_app)
    app.add_typer(db_app, name="db")
    return app


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    try:
        build()()
    except (OperationalError, ProgrammingError) as exc:
        if not common.schema_was_behind():
            raise
        # a read-only command on a schema older than the code asked for what is not there yet
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise SystemExit(common.fail(f"数据库版本落后，无法读取（{reason}）：{common.UPGRADE_HINT}",
                                     EXIT_DATABASE).exit_code) from None
    finally:
        # the command is done: close its database connections here, not in the
        # interpreter's final collection, which would walk every object SQLAlchemy,
        # pydantic and Typer made (~0.3 s a command) to free memory the process returns
        db.dispose_all()
        gc.freeze()
