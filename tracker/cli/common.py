"""Shared pieces of the `jiebang` command line: consoles, options, settings and app loading."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from notifier.clock import as_utc, local_zone
from tracker.app import App
from tracker.cli.exits import EXIT_CONFIG, EXIT_DATABASE, EXIT_FAILURE
from tracker.config import ConfigError, Settings, load_settings
from tracker.records.queries import find_submission
from tracker.store.db import DatabaseUnavailable
from tracker.store.locks import records_lock
from tracker.store.tables import Submission

out = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="config.yaml (default ./config.yaml or $JIEBANG_CONFIG)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]



def fail(message: str, code: int) -> typer.Exit:
    err.print(f"jiebang: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def settings_or_exit(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        raise fail(f"config error: {exc}", EXIT_CONFIG) from None


def setup_logging(verbose: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(
        level=level, stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # a woken job that is already running is skipped, by design: not worth a warning
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    for noisy in ("apscheduler", "imapclient", "mail-parser", "mailparser", "mail_parser", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def make_app(config: Path | None) -> App:
    return App(settings_or_exit(config))


def migrated_app(config: Path | None) -> App:
    a = make_app(config)
    try:
        a.migrate()
    except DatabaseUnavailable as exc:
        raise fail(f"database error: {exc}", EXIT_DATABASE) from None
    return a




def reference_column(table: Table, header: str = "编号") -> None:
    """A reference column that is never cut or wrapped, however narrow the terminal."""
    table.add_column(header, no_wrap=True, min_width=len("JB2025-0000"), overflow="fold")


def local_time(value: datetime | str | None) -> str:
    """A stored time in the round's zone with its offset: ``2025-01-10 09:30 +08:00``."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = as_utc(moment).astimezone(local_zone())
    return local.strftime("%Y-%m-%d %H:%M %z")[:-2] + ":" + local.strftime("%z")[-2:]


@contextmanager
def submission_under_lock(app: App, reference: str) -> Iterator[tuple[Session, Submission]]:
    """*reference*'s submission in a session that holds the records lock (a staff change never
    interleaves with the service recording a new version of it); exit 1 if there is none."""
    with Session(app.engine, expire_on_commit=False) as session, records_lock(session):
        sub = find_submission(session, reference)
        if sub is None:
            raise fail(f"no submission {reference}", EXIT_FAILURE)
        yield session, sub
