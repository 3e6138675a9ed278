"""After intake (SPEC section 6): `jiebang credit`, `review`, `panel` and `publish`.

Every refusal is one line and exit 2 (``ReviewRefused``'s Chinese sentence); a command
that changes records holds the records lock, as the service does while recording mail.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session

from campaign.clock import local_today
from campaign.labels import CONFLICT_LABELS, direction_name
from campaign.review import header_name
from tracker.cli.common import (
    ConfigOpt,
    JsonOpt,
    Watched,
    fail,
    migrated_app,
    out,
    progress,
    reading_app,
    refused,
    submission_under_lock,
)
from tracker.cli.exits import EXIT_CONFIG
from tracker.config import Operator
from tracker.outreach.experts import invite_panel
from tracker.outreach.results import release_results
from tracker.records.review import ReviewRefused
from tracker.records.review import credit as credits
from tracker.records.review import experts as panels_
from tracker.records.review import scores as scoring
from tracker.records.review.formal import fail_formally, pass_formally
from tracker.records.review.objections import handle as handle_objection
from tracker.records.review.objections import objections as objection_rows
from tracker.reports.panels import overview as panel_overview
from tracker.reports.ranking import ranking as ranking_rows
from tracker.store.locks import records_lock

credit_app = typer.Typer(help="Credit checks of units (信用中国 / 信用山东).", no_args_is_help=True,
                         rich_markup_mode=None)
review_app = typer.Typer(help="Formal review, conflicts, score sheets, ranking.", no_args_is_help=True,
                         rich_markup_mode=None)
panel_app = typer.Typer(help="Expert panels (评审组).", no_args_is_help=True, rich_markup_mode=None)

SHEET_FIXED = ("受理编号", "揭榜单位", "专家")
SHEET_COMMENT = "评语"


def _dump(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n")


# --- credit ------------------------------------------------------------------------------
@credit_app.command("record")
def credit_record(
    unit: Annotated[str, typer.Argument(help="the unit's name or its unified social credit code")],
    result: Annotated[str, typer.Option("--result", help="clean | dishonest | abnormal")],
    source: Annotated[str, typer.Option("--source", help="信用中国 | 信用山东")],
    evidence: Annotated[Path | None, typer.Option("--evidence", help="the query's screenshot or PDF")] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    config: ConfigOpt = None,
) -> None:
    """Record a unit's credit result; a dishonest unit fails every application it is part of."""
    a = migrated_app(config)
    digest = name = None
    if evidence is not None:
        try:
            data = evidence.read_bytes()
        except OSError as exc:
            raise fail(f"cannot read {evidence}: {exc.strerror}", EXIT_CONFIG) from None
        digest, name = a.blobs.put(data), evidence.name[:255]
    with Session(a.engine) as session, records_lock(session):
        with refused(ReviewRefused):
            done = credits.record_credit(session, unit, result, source, actor=Operator().actor(), note=note,
                                         evidence_sha256=digest, evidence_name=name)
        session.commit()
    out.print(f"{unit}: {result} ({source}); applications: {', '.join(done.concerned) or 'none names this unit'}"
              + (f"; formal review failed: {', '.join(done.failed)}" if done.failed else ""), markup=False)


# --- formal review -----------------------------------------------------------------------
@review_app.command("formal")
def formal(
    reference: str,
    verdict: Annotated[str, typer.Argument(help="pass | fail")],
    reason: Annotated[str, typer.Option("--reason", help="why (required for fail)")] = "",
    config: ConfigOpt = None,
) -> None:
    """Record formal review (形式审查): pass puts it under review, fail needs --reason."""
    if verdict not in ("pass", "fail"):
        raise fail("verdict must be pass or fail", EXIT_CONFIG)
    a = migrated_app(config)
    actor = Operator().actor()
    with submission_under_lock(a, reference) as (session, sub):
        with refused(ReviewRefused):
            if verdict == "pass":
                pass_formally(session, sub, actor=actor, note=reason,
                              dishonest=credits.dishonest_units(session, sub))
            else:
                fail_formally(session, sub, reason, actor=actor)
        session.commit()
        out.print(f"{sub.reference}: formal {verdict} → {sub.status}", markup=False)


# --- conflicts ---------------------------------------------------------------------------
@review_app.command("conflicts")
def conflicts(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Every conflict of interest: found from the units, declared, or added by staff."""
    a = reading_app(config)
    with Session(a.engine) as session:
        rows = [{"expert": c.expert, "reference": c.reference, "reason": c.reason, "note": c.note}
                for c in panels_.all_conflicts(session)]
    if as_json:
        _dump(rows)
        return
    table = Table("专家", "受理编号", "回避原因", title=f"回避 {len(rows)} 项")
    for r in rows:
        table.add_row(r["expert"], r["reference"], CONFLICT_LABELS[r["reason"]] + (f"（{r['note']}）" if r["note"] else ""))
    out.print(table)


@review_app.command("conflict")
def conflict_add(
    reference: str,
    expert: Annotated[str, typer.Argument(help="the expert's login name")],
    note: Annotated[str, typer.Option("--note", help="why")] = "",
    declared: Annotated[bool, typer.Option("--declared", help="the expert declared it (default: staff)")] = False,
    config: ConfigOpt = None,
) -> None:
    """Add a conflict of interest (回避) the units do not show; a score already given is withdrawn."""
    a = migrated_app(config)
    with submission_under_lock(a, reference) as (session, sub):
        with refused(ReviewRefused):
            panels_.add_recusal(session, panels_.expert_named(session, expert), sub,
                                reason="declared" if declared else "staff", note=note, actor=Operator().actor())
        session.commit()
    out.print(f"{reference}: {expert} recused", markup=False)


@review_app.command("objections")
def objections_cmd(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Mails objecting (异议) to the published list during its 公示期, and how each was handled."""
    a = reading_app(config)
    with Session(a.engine) as session:
        rows: list[dict[str, Any]] = [{"id": o.id, "reference": sub.reference if sub else None, "unit": sub.unit if sub else None,
                 "from": o.sender, "subject": msg.subject if msg else None, "state": o.state, "note": o.note,
                 "received_at": o.created_at.isoformat()} for o, sub, msg in objection_rows(session)]
    if as_json:
        _dump(rows)
        return
    table = Table("编号", "受理编号", "揭榜单位", "来信人", "主题", "处理", title=f"异议 {len(rows)} 件")
    for r in rows:
        table.add_row(str(r["id"]), r["reference"] or "未对应", r["unit"] or "", r["from"] or "", r["subject"] or "",
                      "已处理：" + r["note"] if r["state"] == "handled" else "待处理")
    out.print(table)


@review_app.command("objection")
def objection_handle(
    objection_id: Annotated[int, typer.Argument(min=1)],
    note: Annotated[str, typer.Option("--note", help="what was found and decided")] = "",
    config: ConfigOpt = None,
) -> None:
    """Record how an objection was handled."""
    a = migrated_app(config)
    with Session(a.engine) as session:
        with refused(ReviewRefused):
            handle_objection(session, objection_id, note=note, actor=Operator().actor())
        session.commit()
    out.print(f"objection {objection_id}: handled", markup=False)


# --- panels ------------------------------------------------------------------------------
def _numbers(text: str) -> list[int]:
    try:
        return [int(p) for p in text.replace("，", ",").split(",") if p.strip()]
    except ValueError:
        raise fail("--directions: numbers separated by commas, e.g. 1,2", EXIT_CONFIG) from None


@panel_app.command("add")
def panel_add(
    name: str,
    directions: Annotated[str, typer.Option("--directions", help="direction numbers, e.g. 1,2")],
    experts: Annotated[str, typer.Option("--experts", help="expert login names, comma separated")],
    config: ConfigOpt = None,
) -> None:
    """Create a panel, or replace its directions and experts."""
    a = migrated_app(config)
    with Session(a.engine) as session:
        with refused(ReviewRefused):
            panels_.set_panel(session, a.policy.catalogue, name, _numbers(directions),
                              experts.replace("，", ",").split(","), actor=Operator().actor())
        session.commit()
    out.print(f"panel {name}: directions {directions}; experts {experts}", markup=False)


@panel_app.command("list")
def panel_list(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Panels, their experts and how far each expert has scored."""
    a = reading_app(config)
    with Session(a.engine) as session:
        rows = panel_overview(session)
    if as_json:
        _dump(rows)
        return
    table = Table("评审组", "方向", "申报", "专家（已评/应评）", "状态", title=f"评审组 {len(rows)} 个")
    for r in rows:
        table.add_row(r["panel"], ",".join(map(str, r["directions"])), str(r["applications"]),
                      "；".join(f"{p['expert']} {p['scored']}/{p['to_score']}" for p in r["experts"]),
                      "评分结束" if r["closed"] else "评分中")
    out.print(table)


@review_app.command("close")
def close(panel: Annotated[str, typer.Option("--panel")], config: ConfigOpt = None) -> None:
    """End a panel's scoring: no more scores; its experts may see each other's."""
    a = migrated_app(config)
    with Session(a.engine) as session:
        with refused(ReviewRefused):
            scoring.close_panel(session, panels_.panel_named(session, panel), actor=Operator().actor())
        session.commit()
    out.print(f"panel {panel}: closed", markup=False)


@review_app.command("invite")
def invite(
    panel: Annotated[str, typer.Option("--panel")],
    remind: Annotated[bool, typer.Option("--remind", help="remind those who have not finished")] = False,
    config: ConfigOpt = None,
) -> None:
    """Mail the panel's experts a sign-in link (never an application's data)."""
    a = migrated_app(config)
    with Session(a.engine) as session:
        with refused(ReviewRefused):
            sent = invite_panel(session, a.policy, a.reply_settings, panels_.panel_named(session, panel),
                                sign_in=a.settings.web.public_url or
                                f"http://{a.settings.web.host}:{a.settings.web.port}/login",
                                remind=remind, actor=Operator().actor())
        session.commit()
    out.print(f"panel {panel}: {len(sent)} mail(s) queued" + (f" ({', '.join(sent)})" if sent else ""), markup=False)


# --- score sheets ------------------------------------------------------------------------
@review_app.command("sheet")
def sheet(
    panel: Annotated[str, typer.Option("--panel")],
    to_file: Annotated[Path, typer.Option("--to-file", help="PATH.xlsx")],
    config: ConfigOpt = None,
) -> None:
    """A blank score sheet: one row per (application, expert) of the panel, conflicts left out."""
    a = reading_app(config)
    rules = a.policy.catalogue.review
    with Session(a.engine) as session:
        with refused(ReviewRefused):
            chosen = panels_.panel_named(session, panel)
        experts = panels_.members(session, chosen)
        rows = [[sub.reference, sub.unit or "", expert.name, *([None] * len(rules.criteria)), ""]
                for sub in progress(panels_.panel_applications(session, chosen), "生成评分表 sheet")
                for expert in experts
                if panels_.conflict_of(session, expert, sub) is None]
    headers = [*SHEET_FIXED, *(c.name for c in rules.criteria), SHEET_COMMENT]
    # heavy (openpyxl): not at every command's start
    from tracker.reports.workbook import listing_workbook

    data = listing_workbook(f"{panel}评分表", headers, rows,
                                        (16, 36, 14, *([10] * len(rules.criteria)), 40))
    to_file.parent.mkdir(parents=True, exist_ok=True)
    to_file.write_bytes(data)
    out.print(f"{to_file}: {len(rows)} rows ({', '.join(f'{c.name} ≤ {c.max:g}' for c in rules.criteria)})",
              markup=False)


def read_sheet(path: Path) -> list[scoring.SheetRow]:
    """The rows of a filled sheet, by its header names (any column order; a criterion may
    be written with its maximum, 创新性（30分）). Rows with no mark at all are skipped: a
    pair the meeting did not score."""
    # heavy: not at every command's start
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is no workbook
        raise fail(f"cannot read {path} as .xlsx: {exc}", EXIT_CONFIG) from None
    ws = wb.worksheets[0]
    lines = ws.iter_rows(values_only=True)
    header = [str(v).strip() if v is not None else "" for v in next(lines, ())]
    missing = [h for h in SHEET_FIXED if h not in header]
    if missing:
        raise fail(f"{path}: the sheet has no column {missing[0]}", EXIT_CONFIG)
    where = {h: header.index(h) for h in SHEET_FIXED}
    comment = header.index(SHEET_COMMENT) if SHEET_COMMENT in header else None
    criteria = {i: h for i, h in enumerate(header) if h and h not in SHEET_FIXED and h != SHEET_COMMENT}
    rows: list[scoring.SheetRow] = []
    for number, values in enumerate(lines, start=2):
        cells = list(values) + [None] * (len(header) - len(values))
        marks = {criteria[i]: cells[i] for i in criteria}
        if all(v is None or str(v).strip() == "" for v in marks.values()):
            continue
        rows.append(scoring.SheetRow(number, _text(cells[where["受理编号"]]), _text(cells[where["专家"]]),
                                     {header_name(k): v for k, v in marks.items()},
                                     _text(cells[comment]) if comment is not None else ""))
    wb.close()
    return rows


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


@review_app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="a filled score sheet (.xlsx)")], config: ConfigOpt = None) -> None:
    """Import a paper meeting's filled sheet: every row checked first; any refused row, and
    nothing is imported (exit 2, each refused row named)."""
    a = migrated_app(config)
    rows = read_sheet(file)
    with Session(a.engine) as session, records_lock(session):
        # every row is checked before any is written: the bar follows the check, the long part
        refused = scoring.import_sheet(session, a.policy.catalogue.review, Watched(rows, "检查评分 checking"),
                                       actor=Operator().actor())
        if refused:
            session.rollback()
            for line in refused:
                out.print(line, markup=False)
            raise fail(f"{len(refused)} row(s) refused; nothing imported", EXIT_CONFIG)
        session.commit()
    out.print(f"{len(rows)} score(s) imported", markup=False)


@review_app.command("score")
def score(
    reference: str,
    expert: Annotated[str, typer.Option("--expert")],
    mark: Annotated[list[str], typer.Option("--mark", help="criterion=points, once per criterion")],
    comment: Annotated[str, typer.Option("--comment")] = "",
    config: ConfigOpt = None,
) -> None:
    """Enter one expert's score (as a clerk would from a single paper sheet)."""
    a = migrated_app(config)
    marks: dict[str, object] = {}
    for item in mark:
        name, _, value = item.partition("=")
        marks[header_name(name)] = value
    with submission_under_lock(a, reference) as (session, sub):
        with refused(ReviewRefused):
            scoring.enter_score(session, a.policy.catalogue.review, panels_.expert_named(session, expert), sub, marks,
                                comment=comment, source="sheet", actor=Operator().actor())
        session.commit()
    out.print(f"{reference}: {expert} scored", markup=False)


# --- ranking and publication -------------------------------------------------------------
@review_app.command("ranking")
def ranking(
    direction: Annotated[int | None, typer.Option("--direction", min=1)] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Per direction: final score (trimmed mean), rank, scores, spread, disagreement flag."""
    a = reading_app(config)
    with Session(a.engine) as session:
        rows = ranking_rows(session, a.policy.catalogue.review, direction=direction)
    if as_json:
        _dump(rows)
        return
    table = Table("方向", "排名", "受理编号", "揭榜单位", "最终得分", "评分数", "极差", "推荐城市/位次",
                  title=f"评审排名 {len(rows)} 项")
    for r in rows:
        table.add_row(direction_name(r["direction"], "—"), str(r["rank"] or "—"), r["reference"], r["unit"] or "—",
                      "—" if r["final"] is None else f"{r['final']:.2f}", str(r["scores"]),
                      "—" if r["spread"] is None else f"{r['spread']:g}" + (" ⚠ 分歧较大" if r["flag"] else ""),
                      f"{r['city']} 第{r['city_rank']}" if r["city"] and r["city_rank"] else (r["city"] or ""))
    out.print(table)


def publish(
    to_file: Annotated[Path | None, typer.Option("--to-file", help="writes PATH.docx and PATH.xlsx")] = None,
    release: Annotated[bool, typer.Option("--release", help="queue the result notices (once)")] = False,
    on: Annotated[str | None, typer.Option("--date", help="publication day, YYYY-MM-DD (default: today)")] = None,
    config: ConfigOpt = None,
) -> None:
    """The 公示名单 (.docx for the website, .xlsx), and/or the result notices."""
    # heavy (openpyxl, python-docx): not at every command's start
    from tracker.reports import publication

    if to_file is None and not release:
        raise fail("give --to-file PATH and/or --release", EXIT_CONFIG)
    a = migrated_app(config)
    catalogue = a.policy.catalogue
    actor = Operator().actor()
    if to_file is not None:
        try:
            day = date.fromisoformat(on) if on else local_today(catalogue)
        except ValueError:
            raise fail("--date: YYYY-MM-DD", EXIT_CONFIG) from None
        with Session(a.engine) as session:
            done = publication.publish(session, catalogue, day, actor=actor)
            base = to_file.with_suffix("") if to_file.suffix.lower() in (".docx", ".xlsx") else to_file
            base.parent.mkdir(parents=True, exist_ok=True)
            base.with_name(base.name + ".docx").write_bytes(
                publication.document(done.rows, catalogue, published=day, notice_ends=done.notice_ends))
            base.with_name(base.name + ".xlsx").write_bytes(publication.workbook(done.rows, catalogue))
            session.commit()  # published once the files are written
        out.print(f"{base}.docx, {base}.xlsx: {len(done.rows)} selected; 公示期 {day} – {done.notice_ends}"
                  + ("（节假日安排尚未公布，按周末推算）" if done.estimated else ""), markup=False)
    if release:
        with Session(a.engine) as session, records_lock(session):
            released = release_results(session, a.policy, a.reply_settings, actor=actor)
            session.commit()
        out.print(f"result notices queued: {len(released.applicants)} applicant(s), {len(released.cities)} city bureau(s)",
                  markup=False)
        if released.undecided:
            out.print(f"not decided yet (no notice): {', '.join(released.undecided)}", markup=False)
        if released.no_address:
            out.print(f"no address on file: {', '.join(released.no_address)}", markup=False)
        if released.cities_waiting:
            out.print(f"city bureaus waiting for every decision: {', '.join(released.cities_waiting)}", markup=False)


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    """Add this module's commands, in the order `jiebang --help` lists them."""
    app.add_typer(credit_app, name="credit")
    app.add_typer(review_app, name="review")
    app.add_typer(panel_app, name="panel")
    app.command()(publish)

