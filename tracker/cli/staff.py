"""`jiebang` commands for staff: digest, export, stats, reprocess, recommend (city role)."""

from __future__ import annotations

import base64
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, func, select

from campaign.clock import local, local_today, utcnow
from campaign.labels import (
    CHANNEL_LABELS,
    INTENT_LABELS,
    MAIL_STATE_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    direction_label,
)
from notifier.models import OutboxMail
from tracker.app import App
from tracker.cli.common import (
    ConfigOpt,
    JsonOpt,
    err,
    fail,
    migrated_app,
    out,
    progress,
    progress_bar,
    reading_app,
    reference_column,
)
from tracker.cli.exits import EXIT_CONFIG, EXIT_FAILURE
from tracker.config import Operator
from tracker.pipeline.reprocess import apply_changes, compare, reprocessable
from tracker.records.city import RecommendError, ranked
from tracker.records.city import recommend as put
from tracker.records.city import remove as take_out
from tracker.records.queries import find_submission
from tracker.store.tables import (
    MessageState,
    StoredMessage,
    Submission,
)

TodayOpt = Annotated[str | None, typer.Option("--today", help="pretend today is YYYY-MM-DD (deadline arithmetic)")]
COMPARED_FIELDS = ("unit", "uscc", "unit_nature", "city", "direction", "task_name", "task_types", "partners")
_T = TypeVar("_T")


def _dump(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n")


def _today(value: str | None) -> date | None:
    if not value:
        return Operator().today  # rehearsals and tests of the calendar
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"--today: {value!r} is not YYYY-MM-DD", EXIT_CONFIG) from None


def _actor() -> str:
    return Operator().actor()


# --- digest ------------------------------------------------------------------------------------
def digest(
    config: ConfigOpt = None,
    to_file: Annotated[Path | None, typer.Option("--to-file", help="write the HTML digest to exactly PATH, and its text, chart and workbook beside it (PATH's name with .txt, .png, .xlsx)")] = None,
    send: Annotated[bool, typer.Option("--send", help="queue it for staff.digest_to (once a day)")] = False,
    today: TodayOpt = None,
) -> None:
    """The staff digest: render it (text on stdout, or --to-file), or --send it through the outbox."""
    from notifier.render import render
    from tracker.outreach.digest import queue_digest  # heavy: matplotlib
    from tracker.reports.digest import build_bundle

    a = migrated_app(config) if send else reading_app(config)  # rendering only reads
    day = _today(today)
    if to_file is not None or not send:
        with Session(a.engine) as session:
            bundle = build_bundle(session, a.policy, now=local(utcnow(), a.policy.catalogue), today=day)
        data_uri = "data:image/png;base64," + base64.b64encode(bundle.chart_png).decode()
        rendered = render("digest", bundle.context(data_uri if to_file else None))
        if to_file is None:
            sys.stdout.write(rendered.text)  # plain text as mailed: no console wrapping
        else:
            to_file.parent.mkdir(parents=True, exist_ok=True)
            to_file.write_text(rendered.html, encoding="utf-8")  # PATH itself, whatever its suffix
            beside = []
            for suffix, content in ((".txt", rendered.text.encode()), (".png", bundle.chart_png),
                                    (".xlsx", bundle.workbook)):
                companion = _beside(to_file, suffix)
                companion.write_bytes(content)
                beside.append(companion.name)
            out.print(f"wrote {to_file} (+ {' '.join(beside)})", markup=False, soft_wrap=True)
            out.print(f"subject: {rendered.subject}", markup=False, soft_wrap=True)
    if send:
        try:
            row = queue_digest(a.engine, a.blobs, a.policy, a.settings, today=day)
        except ValueError as exc:
            raise fail(str(exc), EXIT_CONFIG) from None
        out.print(f"digest queued (mail {row.id}) for {', '.join(row.to_addrs)}" if row
                  else "today's digest is already in the outbox", markup=False)


def _beside(path: Path, suffix: str) -> Path:
    """A companion of *path* with *suffix* (``digest.html`` → ``digest.png``); never *path* itself."""
    other = path.with_suffix(suffix)
    return other if other != path else path.with_name(path.name + suffix)


# --- export --------------------------------------------------------------------------------------
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="a file (xlsx/csv) or, with --recommendation-table, a folder")],
    config: ConfigOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="xlsx | csv")] = "xlsx",
    recommendation_table: Annotated[bool, typer.Option("--recommendation-table",
                                                       help="city role: the 推荐汇总表 (.docx + .xlsx) and the files")] = False,
    filled_on: Annotated[str | None, typer.Option("--date", help="填报日期 YYYY-MM-DD (default today)")] = None,
) -> None:
    """Submissions as .xlsx (the digest's workbook) or .csv (UTF-8 with BOM), or the city's 推荐汇总表."""
    from tracker.reports.exports import submissions_file  # heavy: openpyxl

    a = reading_app(config)  # the database is only read; the files are written
    day = _today(filled_on) or local_today(a.policy.catalogue)
    if recommendation_table:
        _export_table(a, output, day)
        return
    if fmt not in ("xlsx", "csv"):
        raise fail("--format must be xlsx or csv", EXIT_CONFIG)
    with Session(a.engine) as session, progress_bar("导出申报汇总 exporting") as step:
        data = submissions_file(session, a.policy, fmt, filled_on=day, on_row=step).data
        count = session.exec(select(func.count()).select_from(Submission)).one()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    out.print(f"wrote {output}: {count} submission(s)", markup=False)


def _export_table(a: App, output: Path, day: date) -> None:
    from tracker.reports.recommendation import export_table  # heavy: opens documents

    with Session(a.engine) as session, progress_bar("导出推荐材料 exporting") as step:
        try:
            report = export_table(session, a.policy, a.blobs, output, filled_on=day, on_step=step)
        except RecommendError as exc:
            raise fail(str(exc), EXIT_CONFIG) from None
    out.print(f"wrote {report.table_docx} and {report.table_xlsx}: {len(report.rows)} recommendation(s)",
              markup=False, soft_wrap=True)
    for path in report.copied:
        out.print(f"  copied {path}", markup=False, highlight=False, soft_wrap=True)
    for line in report.warnings:
        err.print(f"warning: {line}", markup=False)
    for line in report.missing:
        err.print(f"not copied (fetch by hand): {line}", markup=False)


# --- stats ---------------------------------------------------------------------------------------
def _counts(session: Session, column: Mapped[_T]) -> Counter[_T]:
    rows = session.exec(select(column, func.count()).group_by(column)).all()
    return Counter({value: n for value, n in rows})


def gather_stats(session: Session) -> dict[str, dict[str, int]]:
    """Counts by status, direction, channel and city; messages by state and intent; outbox by state."""
    subs = session.exec(select(Submission)).all()
    outbox = _counts(session, col(OutboxMail.state))
    return {
        "status": {STATUS_LABELS.get(k, k): v for k, v in sorted(Counter(s.status for s in subs).items())},
        "direction": {direction_label(k): v for k, v in sorted(Counter(s.direction for s in subs).items())},
        "channel": {CHANNEL_LABELS.get(k or "", "未知"): v for k, v in Counter(s.channel for s in subs).items()},
        "city": dict(sorted(Counter(s.city or s.unit_city or "未知" for s in subs).items())),
        "message_state": {STATE_LABELS.get(k, k): v for k, v in _counts(session, col(StoredMessage.state)).items()},
        "message_intent": {INTENT_LABELS.get(k, k or ""): v for k, v in _counts(session, col(StoredMessage.intent)).items()},
        "outbox_state": {MAIL_STATE_LABELS.get(k, k): v for k, v in outbox.items()},
    }


def stats(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Counts: submissions by status/direction/channel/city, messages, outbox."""
    a = reading_app(config)
    with Session(a.engine) as session:
        data = gather_stats(session)
    if as_json:
        _dump(data)
        return
    titles = {"status": "按状态", "direction": "按榜单方向", "channel": "按渠道", "city": "按城市",
              "message_state": "来信·处理状态", "message_intent": "来信·类型", "outbox_state": "发件箱"}
    for key, title in titles.items():
        table = Table("项目", "数量", title=title)
        for label, n in data[key].items():
            table.add_row(label, str(n))
        out.print(table)


# --- reprocess ----------------------------------------------------------------------------------
def reprocess(
    ids: Annotated[list[int] | None, typer.Argument(help="message numbers; none = every stored message")] = None,
    config: ConfigOpt = None,
    apply: Annotated[bool, typer.Option("--apply", help="store the new intent/references (never records or mail)")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Understand stored messages again (after an upgrade) and show what would change.

    Nothing is written and nothing is sent unless --apply; --apply only updates each
    message's intent and references (idempotent). Submissions, deficiencies and the
    outbox are never touched: differences there are for staff to act on.
    """
    a = migrated_app(config) if apply else reading_app(config)
    with Session(a.engine) as session:
        messages = reprocessable(session, ids)
        changed: list[dict[str, Any]] = []
        for msg in progress(messages, "重新理解 reprocessing"):
            found = compare(session, a.blobs, a.analyse, msg)
            if found is not None:
                changed.append(found.row())
                if apply:
                    apply_changes(session, msg, found, actor=_actor())
        session.commit()
    if as_json:
        _dump({"messages": len(messages), "changed": changed, "applied": apply})
        return
    _show_changes(len(messages), changed, apply)


def _show_changes(total: int, changed: list[dict[str, Any]], applied: bool) -> None:
    table = Table("#", "发件人", "主题", "变化", "原来", "现在", title=f"{len(changed)} / {total} 封邮件有变化")
    for m in changed:
        for i, d in enumerate(m["changes"]):
            first = i == 0
            table.add_row(str(m["id"]) if first else "", (m["from"] or "") if first else "",
                          (m["subject"] or "")[:30] if first else "", d["what"], d["before"], d["after"])
    out.print(table)
    if changed and not applied:
        out.print("nothing was written; --apply stores new intents/references (records and mail are never changed)",
                  markup=False)
    if any(m["state"] == MessageState.quarantined for m in changed):
        out.print("quarantined messages are not changed by --apply: `jiebang requeue` processes them again",
                  markup=False)


# --- city role: recommendations ---------------------------------------------------------------------
def recommend(
    reference: Annotated[str | None, typer.Argument(help="a reference; none = show the ranking")] = None,
    rank: Annotated[int | None, typer.Option("--rank", min=1, max=2, help="1 or 2 within its direction")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="no longer recommend it")] = False,
    config: ConfigOpt = None,
) -> None:
    """City role: choose and order the applications the city recommends (≤ 2 per direction)."""

    a = reading_app(config) if reference is None else migrated_app(config)  # showing the ranking only reads
    with Session(a.engine) as session:
        if reference is not None:
            sub = find_submission(session, reference)
            if sub is None:
                raise fail(f"no submission {reference}", EXIT_FAILURE)
            if remove == (rank is not None):
                raise fail("give exactly one of --rank N or --remove", EXIT_CONFIG)
            try:
                if remove:
                    notes = [f"{sub.reference} 已移出推荐"] if take_out(session, a.policy, sub, actor=_actor()) \
                        else [f"{sub.reference} 不在推荐名单中"]
                else:
                    notes = put(session, a.policy, sub, rank or 1, actor=_actor()) or [f"{sub.reference} 未变化"]
            except RecommendError as exc:
                raise fail(str(exc), EXIT_CONFIG) from None
            session.commit()
            for note in notes:
                out.print(note, markup=False)
        if a.policy.role != "city":
            raise fail("推荐排序仅用于市级部署（config: role: city）/ recommendations need role: city", EXIT_CONFIG)
        table = Table(title=f"{a.policy.city}推荐名单")
        reference_column(table, "受理编号")
        for header in ("榜单方向", "推荐顺序", "揭榜单位", "状态"):
            table.add_column(header)
        for rec, sub in ranked(session, a.policy):
            table.add_row(sub.reference, direction_label(rec.direction), str(rec.rank), sub.unit or "",
                          STATUS_LABELS.get(sub.status, sub.status))
        out.print(table)


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    """Add this module's commands, in the order `jiebang --help` lists them."""
    app.command()(digest)
    app.command()(export)
    app.command()(stats)
    app.command()(reprocess)
    app.command()(recommend)
