"""The year after (SPEC section 7): `jiebang acceptance` and `jiebang excellent`."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session, col, select

from campaign.clock import local_today
from campaign.labels import ACCEPTANCE_LABELS, direction_name
from tracker.cli.common import (
    ConfigOpt,
    JsonOpt,
    fail,
    migrated_app,
    out,
    reading_app,
    refused,
    submission_under_lock,
)
from tracker.cli.exits import EXIT_CONFIG
from tracker.config import Operator
from tracker.outreach.acceptance import queue_acceptance_reminders
from tracker.records import acceptance as records
from tracker.store.tables import Submission, SubmissionStatus

acceptance_app = typer.Typer(help="Acceptance (验收) of the selected applications.", no_args_is_help=True,
                             rich_markup_mode=None)
excellent_app = typer.Typer(help="Excellent results (优秀成果).", no_args_is_help=True, rich_markup_mode=None)


@acceptance_app.command("decide")
def decide(
    reference: str,
    result: Annotated[str, typer.Argument(help="passed | rework")],
    reason: Annotated[str, typer.Option("--reason", help="why (required)")] = "",
    until: Annotated[str | None, typer.Option("--until", help="rework: the date, YYYY-MM-DD")] = None,
    config: ConfigOpt = None,
) -> None:
    """Record the acceptance result: passed, or rework with a reason and a date."""
    try:
        day = date.fromisoformat(until) if until else None
    except ValueError:
        raise fail("--until: YYYY-MM-DD", EXIT_CONFIG) from None
    a = migrated_app(config)
    with submission_under_lock(a, reference) as (session, sub):
        with refused(records.AcceptanceError):
            records.decide(session, sub, result, reason=reason, until=day, actor=Operator().actor())
        session.commit()
    out.print(f"{reference}: acceptance {result}" + (f" until {day}" if day else ""), markup=False)


@acceptance_app.command("list")
def list_(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Selected applications and where their acceptance stands."""
    a = reading_app(config)
    with Session(a.engine) as session:
        subs = session.exec(select(Submission).where(Submission.status == SubmissionStatus.selected)
                            .order_by(col(Submission.reference))).all()
        rows: list[dict[str, Any]] = []
        for sub in subs:
            request, decision = records.latest_request(session, sub), records.latest_decision(session, sub)
            rows.append({"reference": sub.reference, "unit": sub.unit, "direction": sub.direction or None,
                         "acceptance": sub.acceptance, "missing": request.missing if request else [],
                         "received": request.received if request else [],
                         "reason": decision.reason if decision else None,
                         "until": decision.until.isoformat() if decision and decision.until else None})
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    table = Table("受理编号", "揭榜单位", "方向", "验收", "缺少", "期限", title=f"入选 {len(rows)} 项")
    for r in rows:
        table.add_row(r["reference"], r["unit"] or "—", direction_name(r["direction"], "—"),
                      ACCEPTANCE_LABELS.get(r["acceptance"] or "", "未申请"), "、".join(r["missing"]), r["until"] or "")
    out.print(table)


@acceptance_app.command("remind")
def remind(
    today: Annotated[str | None, typer.Option("--today", help="YYYY-MM-DD (default: today)")] = None,
    config: ConfigOpt = None,
) -> None:
    """Queue the acceptance reminders due (`jiebang run` does this daily with the others)."""
    a = migrated_app(config)
    try:
        day = date.fromisoformat(today) if today else local_today(a.policy.catalogue)
    except ValueError:
        raise fail("--today: YYYY-MM-DD", EXIT_CONFIG) from None
    with Session(a.engine) as session:
        sent = queue_acceptance_reminders(session, a.policy, a.reply_settings, today=day)
        session.commit()
    out.print(f"{len(sent)} reminder(s) queued" + (f": {', '.join(sent)}" if sent else ""), markup=False)


@excellent_app.command("mark")
def mark(reference: str, note: Annotated[str, typer.Option("--note")] = "", config: ConfigOpt = None) -> None:
    """Choose a passed application as an excellent result (who and when are kept)."""
    a = migrated_app(config)
    with submission_under_lock(a, reference) as (session, sub):
        with refused(records.AcceptanceError):
            records.mark_excellent(session, sub, note=note, actor=Operator().actor())
        session.commit()
    out.print(f"{reference}: excellent", markup=False)


@excellent_app.command("unmark")
def unmark(reference: str, config: ConfigOpt = None) -> None:
    """Take an application off the excellent results."""
    a = migrated_app(config)
    with submission_under_lock(a, reference) as (session, sub):
        with refused(records.AcceptanceError):
            records.unmark_excellent(session, sub, actor=Operator().actor())
        session.commit()
    out.print(f"{reference}: no longer excellent", markup=False)


@excellent_app.command("export")
def export(
    to_file: Annotated[Path, typer.Option("--to-file", help="PATH.xlsx (a .docx for publication beside it)")],
    config: ConfigOpt = None,
) -> None:
    """The excellent results as a workbook, and a Word document beside it."""
    # heavy (openpyxl, python-docx): not at start-up
    from tracker.reports import excellent as listing

    a = reading_app(config)
    with Session(a.engine) as session:
        listed = listing.rows(session, a.policy.catalogue)
    target = to_file if to_file.suffix.lower() == ".xlsx" else to_file.with_name(to_file.name + ".xlsx")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(listing.workbook(listed))
    target.with_suffix(".docx").write_bytes(listing.document(listed, a.policy.catalogue))
    out.print(f"{target}, {target.with_suffix('.docx')}: {len(listed)} excellent result(s)", markup=False)


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    """Add this module's commands, in the order `jiebang --help` lists them."""
    app.add_typer(acceptance_app, name="acceptance")
    app.add_typer(excellent_app, name="excellent")
