"""Shared pieces of the `jiebang` command line: consoles, options, settings and app loading."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar, overload

import click
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
)
from rich.table import Table
from sqlmodel import Session

from tracker.app import App
from tracker.cli.exits import EXIT_CONFIG, EXIT_DATABASE, EXIT_FAILURE
from tracker.config import ConfigError, Settings, load_settings
from tracker.records.queries import find_submission
from tracker.store.db import DatabaseUnavailable, current_revision, head_revision, is_known_revision
from tracker.store.locks import records_lock
from tracker.store.tables import Submission

# piped or redirected (a script, `| less`, a file): no terminal to fit, so a table is as wide as its
# widest cell instead of cutting cells at 80 columns ("…"); on a terminal rich fits its width
PIPE_WIDTH = 4000
out = Console(width=None if sys.stdout.isatty() else PIPE_WIDTH)
err = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="config.yaml (default ./config.yaml or $JIEBANG_CONFIG)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
_T = TypeVar("_T")
Step = Callable[[int, int], None]  # (done, total): a report's loop says how far it is


def fail(message: str, code: int) -> typer.Exit:
    err.print(f"jiebang: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def refused(*errors: type[Exception]) -> Iterator[None]:
    """A rule's refusal (one of *errors*, whose text is already the answer) is the
    command's one-line message and exit 2; the session's transaction is left uncommitted."""
    try:
        yield
    except errors as exc:
        raise fail(str(exc), EXIT_CONFIG) from None


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
    """The command's app, its round in force until the command ends (not for the process)."""
    app = App(settings_or_exit(config))
    context = click.get_current_context(silent=True)
    if context is not None:
        context.with_resource(app.round())
    return app


def migrated_app(config: Path | None) -> App:
    """For a command that writes (and `run`): the schema is brought up to this code's first."""
    a = make_app(config)
    try:
        a.migrate()
    except DatabaseUnavailable as exc:
        raise fail(f"database error: {exc}", EXIT_DATABASE) from None
    return a


UPGRADE_HINT = "请先运行 jiebang db upgrade（或 jiebang run，它会先升级数据库）"


class _Reading:
    """What ``reading_app`` found, for ``main()``: a read the old schema cannot answer exits 4."""

    schema_behind = False


def schema_was_behind() -> bool:
    return _Reading.schema_behind


def reading_app(config: Path | None) -> App:
    """For a command that only reads: the database is opened as it is, never migrated.

    A schema older than this code is said on stderr in one line and the command still reads what
    it can (``main()`` turns a read that needs the newer schema into one line and exit 4); a
    database never set up holds nothing to read: exit 4 at once, creating nothing.
    """
    return opened_for_reading(make_app(config))


def opened_for_reading(a: App) -> App:
    """*a*, its database checked as ``reading_app`` does (for a command that checks its options first)."""
    url = a.database_url
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database not in ("", ":memory:") and not Path(database).exists():
        raise fail(f"数据库尚未建立（{database}）：{UPGRADE_HINT}", EXIT_DATABASE)
    try:
        current = current_revision(a.engine)
    except DatabaseUnavailable as exc:
        raise fail(f"database error: {exc}", EXIT_DATABASE) from None
    head = head_revision()
    if current is None:
        raise fail(f"数据库尚未建立（没有任何表）：{UPGRADE_HINT}", EXIT_DATABASE)
    if current != head:
        if is_known_revision(current):
            _Reading.schema_behind = True
            notice = f"数据库版本落后（{current}，本程序需要 {head}），{UPGRADE_HINT}"
        else:
            notice = f"数据库版本 {current} 比本程序新（本程序到 {head}）：请更新 jiebang"
        err.print(f"jiebang: {notice}", markup=False, highlight=False, soft_wrap=True)
    return a




# --- progress of long work -----------------------------------------------------------------------
def _quiet(done: int, total: int) -> None:
    """Where no one watches: the work goes on without a bar."""


@contextmanager
def progress_bar(description: str, *, counted: bool = False, console: Console | None = None) -> Iterator[Step]:
    """A bar on stderr while long work runs, and the ``step(done, total)`` that moves it.

    Only on a terminal: a script, a pipe, a log file or a test gets nothing on stderr, and
    stdout (``--json``, a table) is never touched. Transient: gone once the work is done, so
    the command's own output reads as before. *counted*: the steps are things a person counts
    (messages, rows: "12/300"), else only how far (a report's own steps: "40%").
    """
    shown = console or err
    if not shown.is_terminal:
        yield _quiet
        return
    columns: tuple[ProgressColumn, ...] = (TextColumn("[progress.description]{task.description}"), BarColumn(),
                                           MofNCompleteColumn() if counted else TaskProgressColumn())
    with Progress(*columns, console=shown, transient=True) as bar:
        task = bar.add_task(description, total=None)  # a pulsing bar until the first step says how many

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield step


def progress(items: Sequence[_T], description: str, *, console: Console | None = None) -> Iterator[_T]:
    """*items*, each in order, with a counted bar (``progress_bar``) moved after each is done."""
    with progress_bar(description, counted=True, console=console) as step:
        step(0, len(items))
        for done, item in enumerate(items, 1):
            yield item
            step(done, len(items))


class Watched(Sequence[_T]):
    """*items* as a Sequence whose walk moves a bar: for a records function that takes a
    Sequence and walks it once (a score sheet's rows while they are checked), where the loop
    is not the command's own to wrap with ``progress``."""

    def __init__(self, items: Sequence[_T], description: str, *, console: Console | None = None) -> None:
        self._items, self._description, self._console = items, description, console

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> _T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[_T]: ...

    def __getitem__(self, index: int | slice) -> _T | Sequence[_T]:
        return self._items[index]

    def __iter__(self) -> Iterator[_T]:
        return progress(self._items, self._description, console=self._console)


def reference_column(table: Table, header: str = "编号") -> None:
    """A reference column that is never cut or wrapped, however narrow the terminal."""
    table.add_column(header, no_wrap=True, min_width=len("JB2025-0000"), overflow="fold")


@contextmanager
def submission_under_lock(app: App, reference: str) -> Iterator[tuple[Session, Submission]]:
    """*reference*'s submission in a session that holds the records lock (a staff change never
    interleaves with the service recording a new version of it); exit 1 if there is none."""
    with Session(app.engine, expire_on_commit=False) as session, records_lock(session):
        sub = find_submission(session, reference)
        if sub is None:
            raise fail(f"no submission {reference}", EXIT_FAILURE)
        yield session, sub
