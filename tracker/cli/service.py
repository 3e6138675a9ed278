"""`jiebang` commands that run the service and take mail in: run, ingest, inspect, messages, init, db."""

from __future__ import annotations

import json
import logging
import resource
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from campaign import SHANDONG_CITIES, using
from campaign.clock import with_offset
from intake.sources import AuthenticationFailed, FolderNotFound, SourceError
from tracker.app import App
from tracker.cli.common import (
    ConfigOpt,
    JsonOpt,
    err,
    fail,
    make_app,
    migrated_app,
    out,
    reading_app,
    reference_column,
    settings_or_exit,
    setup_logging,
)
from tracker.cli.exits import (
    EX_DATAERR,
    EX_NOINPUT,
    EX_TEMPFAIL,
    EXIT_CONFIG,
    EXIT_DATABASE,
    EXIT_MAILBOX,
)
from tracker.config import Settings, config_path, load_settings
from tracker.pipeline.ingest import store_raw
from tracker.pipeline.processing import process_one
from tracker.records.queries import message_rows
from tracker.reports.inspect_view import render
from tracker.service import ROLES, ReceiverUnavailable, Service
from tracker.store.db import DatabaseUnavailable

if TYPE_CHECKING:
    from tracker.web.server import WebProcess

log = logging.getLogger("jiebang.service")


def init(
    config: ConfigOpt = None,
    role: Annotated[str, typer.Option(help="province or city")] = "province",
    city: Annotated[str | None, typer.Option(help="the city, when --role city (e.g. 济南市)")] = None,
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a commented config.yaml."""

    target = config_path(config)
    if role not in ("province", "city"):
        raise fail("--role must be province or city", EXIT_CONFIG)
    if role == "city" and city not in SHANDONG_CITIES:
        raise fail("--role city needs --city, one of: " + " ".join(SHANDONG_CITIES), EXIT_CONFIG)
    if target.exists() and not force:
        raise fail(f"{target} exists (use --force to overwrite)", EXIT_CONFIG)
    text = (Path(__file__).parent.parent / "default-config.yaml").read_text(encoding="utf-8")
    text = text.replace("role: province ", f"role: {role} ".ljust(len("role: province ")), 1)
    if city:
        text = text.replace("city: null    ", f"city: {city}".ljust(len("city: null    ")), 1)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    load_settings(target)  # what we write must load
    out.print(f"wrote {target}")


def run(
    config: ConfigOpt = None,
    once: Annotated[bool, typer.Option("--once", help="one cycle, then exit")] = False,
    fetch_only: Annotated[bool, typer.Option("--fetch-only", help="with --once: store new mail, understand later")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    role: Annotated[str, typer.Option(
        "--role", help="all | poller (only poll, if this process leads the mailbox) | worker (only process and send)")] = "all",
) -> None:
    """Run the service: poll, understand, (send, remind, digest) on their schedules."""
    if role not in ROLES:
        raise fail(f"--role must be one of: {', '.join(ROLES)}", EXIT_CONFIG)

    setup_logging(verbose)
    service = Service(make_app(config), role=role)
    try:
        service.preflight()
    except DatabaseUnavailable as exc:
        raise fail(f"database error: {exc}", EXIT_DATABASE) from None
    except AuthenticationFailed as exc:
        raise fail(f"mailbox login failed: {exc}", EXIT_MAILBOX) from None
    except FolderNotFound as exc:
        raise fail(f"mailbox folder missing: {exc}", EXIT_MAILBOX) from None
    except SourceError as exc:
        raise fail(f"mailbox unavailable: {exc}", EXIT_MAILBOX) from None
    if once:
        try:
            report = service.cycle(understand=not fetch_only)
        finally:
            service.close()
        p, q = report.poll, report.process
        sent = service.send() if not fetch_only else None
        _log_usage(service)
        out.print(
            f"fetched {p.fetched} ({p.new} new, {p.duplicates} already stored, {p.not_fetched} not fetched); "
            f"processed {q.processed}, quarantined {q.quarantined}"
            + (f", to retry {q.retried}" if q.retried else "")
            + (f"; stopped claiming, blob store unavailable ({q.store_unavailable}): the rest waits"
               if q.store_unavailable else "")
            + (f"; sent {sent.sent}, to retry {sent.retried}, failed {sent.failed}" if sent else "")
        )
        return

    web = _start_web(service.app) if service.app.settings.web.enabled else None
    try:
        service.run_forever()
    except ReceiverUnavailable as exc:
        raise fail(str(exc), EXIT_MAILBOX) from None
    finally:
        if web is not None:
            web.stop()
        _log_usage(service)


def _log_usage(service: Service) -> None:
    """What this process cost, for the operator's sizing (docs/operations.md): the blob
    store's requests and bytes, and this process's CPU seconds (its understanding workers'
    are on the pool's closing line)."""
    log.info("blob store: %s", service.app.blobs.usage.summary())
    me = resource.getrusage(resource.RUSAGE_SELF)
    log.info("cpu: %.2f s in the service process", me.ru_utime + me.ru_stime)


def _start_web(app: App) -> WebProcess:
    """The staff workspace in a process of its own beside the service (``web.enabled``),
    same database; stopped with the service."""
    from tracker.web.server import spawn  # heavy: starlette, uvicorn

    return spawn(app)


def ingest(
    source: Annotated[str, typer.Argument(help="a raw message file, or - for stdin")],
    config: ConfigOpt = None,
    process: Annotated[bool, typer.Option(help="understand and record it right away (answers go out "
                                                "with the next `run`/`send`)")] = True,
    as_city: Annotated[str | None, typer.Option(
        "--as-city", help="staff vouch: a city bureau's package taken from 山东通 (e.g. 济南市)")] = None,
) -> None:
    """Store one raw message (pipe mode for an MTA): exit 0 once committed, 75 to retry."""

    try:
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {source}: {exc.strerror}", EX_TEMPFAIL) from None
    if not raw.strip():
        raise fail("empty message: nothing to store", EX_DATAERR)  # do not retry
    try:
        a = make_app(config)
        a.migrate()
        if as_city and as_city not in a.policy.catalogue.cities:
            raise fail(f"--as-city: {as_city!r} is not one of the round's cities", EXIT_CONFIG)
        result = store_raw(a.engine, a.blobs, raw, as_city=as_city)
    except typer.Exit:
        raise
    except Exception as exc:  # any failure to commit: ask the MTA to retry later
        raise fail(f"could not store the message ({exc.__class__.__name__}: {exc})", EX_TEMPFAIL) from None
    out.print(f"stored message #{result.message_pk}" + ("" if result.created else " (already stored)"))
    if process and result.created:
        # committed already, so the exit code stays 0 whatever happens here: a failure
        # quarantines the message and `jiebang run` or `requeue` picks it up
        try:
            with a.understander(workers=min(1, a.settings.processing.worker_count)) as understander:
                state = process_one(a.engine, a.blobs, result.message_pk, understander, a.applier,
                                    max_attempts=a.settings.processing.max_attempts)
        except Exception as exc:  # e.g. the database went away after the commit
            err.print(f"jiebang: stored, but not processed yet ({exc.__class__.__name__}); `jiebang run` will")
        else:
            out.print(f"message #{result.message_pk}: {state or 'processed elsewhere'}")


def messages(config: ConfigOpt = None, as_json: JsonOpt = False,
             state: Annotated[str | None, typer.Option(help="processed | quarantined | stored")] = None) -> None:
    """Every ingested message, with its state."""

    a = reading_app(config)
    rows = message_rows(a.engine, a.policy, state=state)
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    table = Table("#", "received", "from", "subject", "intent", "state", title="messages")
    reference_column(table, "refs")
    for i, r in enumerate(rows, 1):
        table.add_row(str(i), with_offset(r["received_at"]), r["from"] or "", r["subject"][:40], r["intent"] or "",
                      r["state"] + (f"\n{r['error'][:60]}" if r["error"] else ""), " ".join(r["references"]))
    out.print(table)


def inspect(
    file: Annotated[Path, typer.Argument(help="a raw message (.eml)")],
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Understand one message file; writes nothing, sends nothing."""

    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}", EX_NOINPUT) from None
    settings = settings_or_exit(config) if config_path(config).exists() or config else Settings()
    policy = settings.round_policy()
    from intake.understand import understand  # here: `run` with workers never needs it

    with using(policy.catalogue):  # the view names directions as this round does
        result = understand(raw, policy)
        if as_json:
            sys.stdout.write(json.dumps(result.contract(), ensure_ascii=False) + "\n")
            return
        render(result, out)


def db_upgrade(config: ConfigOpt = None) -> None:
    """Apply database migrations."""
    migrated_app(config)
    out.print("database is up to date")


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    """Add this module's commands, in the order `jiebang --help` lists them."""
    app.command()(run)
    app.command()(ingest)
    app.command()(inspect)
    app.command()(messages)
    app.command()(init)
    db_app.command("upgrade")(db_upgrade)
