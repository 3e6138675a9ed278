"""`jiebang` commands over the records: list, show, status, set-status, outbox, resend,
requeue, remind, send."""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session

from notifier.outbox import InvalidTransition, MailNotFound, outbox_rows
from notifier.outbox import resend as resend_mail
from notifier.wording import DIRECTION_NAMES, STATUS_LABELS
from tracker.cli_common import ConfigOpt, JsonOpt, app, fail, migrated_app, out
from tracker.queries import find_submission, submission_detail, submission_rows
from tracker.replies import open_items
from tracker.rules import refresh_all
from tracker.status import StatusError, set_status


def _dump(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n")


@app.command("list")
def list_(
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    direction: Annotated[int | None, typer.Option(min=1, max=8)] = None,
    city: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[str | None, typer.Option(help="direct | via_city")] = None,
    status: Annotated[str | None, typer.Option()] = None,
    has_deficiency: Annotated[str | None, typer.Option(help="a code, or 'any'")] = None,
    late: Annotated[bool | None, typer.Option("--late/--on-time")] = None,
) -> None:
    """Submissions, filtered; `--json` per SPEC §4."""
    a = migrated_app(config)
    rows = submission_rows(a.engine, direction=direction, city=city, channel=channel, status=status,
                           has_deficiency=has_deficiency, late=late)
    if as_json:
        _dump(rows)
        return
    table = Table("编号", "揭榜单位", "方向", "渠道", "城市", "状态", "版本", "逾期", "问题", title=f"申报 {len(rows)} 项")
    for r in rows:
        table.add_row(r["reference"], r["unit"] or "—", DIRECTION_NAMES.get(r["direction"] or 0, "—"),
                      r["channel"] or "—", r["city"] or "—", STATUS_LABELS.get(r["status"], r["status"]),
                      str(r["versions"]), "是" if r["late"] else "", " ".join(r["deficiencies"]))
    out.print(table)


@app.command()
def show(reference: str, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """One submission with its versions, documents, deficiencies and event history."""
    a = migrated_app(config)
    detail = submission_detail(a.engine, reference)
    if detail is None:
        raise fail(f"no submission {reference}", 1)
    if as_json:
        _dump(detail)
        return
    sub = detail["submission"]
    out.print(f"[bold]{sub['reference']}[/] {sub['unit'] or ''} · 方向 {DIRECTION_NAMES.get(sub['direction'], '—')}"
              f" · {sub['channel'] or '—'} · {STATUS_LABELS.get(sub['status'], sub['status'])}")
    versions = Table("版本", "到达", "逾期", "文件", title="版本")
    for v in detail["versions"]:
        versions.add_row(str(v["number"]), str(v["received_at"] or ""), "是" if v["late"] else "", "\n".join(v["documents"]))
    defs = Table("代码", "状态", "说明", title="问题")
    for d in detail["deficiencies"]:
        defs.add_row(d["code"], d["state"], d["message"])
    events = Table("时间", "事件", "操作人", "说明", title="记录")
    for e in detail["events"]:
        events.add_row(str(e["at"])[:19], e["kind"], e["actor"], e["detail"])
    for t in (versions, defs, events):
        out.print(t)


@app.command()
def status(reference: str, config: ConfigOpt = None) -> None:
    """Exactly what the applicant would be told."""
    from notifier.render import render

    a = migrated_app(config)
    with Session(a.engine) as session:
        sub = find_submission(session, reference)
        if sub is None:
            raise fail(f"no submission {reference}", 1)
        rendered = render("status", {
            "reference": sub.reference, "unit": sub.unit or "", "versions": sub.versions,
            "status_label": STATUS_LABELS.get(sub.status, sub.status), "last_received_at": sub.updated_at,
            "items": open_items(session, sub)})
    out.print(f"[bold]{rendered.subject}[/]\n")
    out.print(rendered.text, markup=False, highlight=False)


@app.command("set-status")
def set_status_cmd(
    reference: str,
    new_status: Annotated[str, typer.Argument(help="under_review | selected | not_selected | withdrawn")],
    note: Annotated[str, typer.Option("--note", help="why (kept in the event log)")] = "",
    config: ConfigOpt = None,
) -> None:
    """Record a staff decision (who and when go into the event log)."""
    a = migrated_app(config)
    actor = os.environ.get("JIEBANG_STAFF") or getpass.getuser()
    with Session(a.engine) as session:
        sub = find_submission(session, reference)
        if sub is None:
            raise fail(f"no submission {reference}", 1)
        try:
            set_status(session, sub, new_status, actor=actor, note=note)
        except StatusError as exc:
            raise fail(str(exc), 2) from None
        session.flush()
        refresh_all(session, a.policy.code)  # a withdrawal can end a duplicate or a quota breach
        session.commit()
    out.print(f"{reference}: {STATUS_LABELS.get(new_status, new_status)} (by {actor})")


@app.command()
def outbox(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Outgoing mail and its delivery state; `--json` per SPEC §4."""
    a = migrated_app(config)
    with Session(a.engine) as session:
        rows = outbox_rows(session)
    if as_json:
        _dump(rows)
        return
    table = Table("id", "类型", "收件人", "主题", "状态", "尝试", "错误", title="发件箱")
    for r in rows:
        table.add_row(str(r.get("id", "")), r["kind"], ", ".join(r["to"]), r["subject"], r["state"],
                      str(r["attempts"]), r.get("last_error") or "")
    out.print(table)


@app.command()
def resend(mail_id: int, config: ConfigOpt = None) -> None:
    """Put a failed or bounced mail back in the queue (same Message-ID)."""
    a = migrated_app(config)
    with Session(a.engine) as session:
        try:
            resend_mail(session, mail_id)
        except (MailNotFound, InvalidTransition) as exc:
            raise fail(str(exc), 1) from None
        session.commit()
    out.print(f"mail {mail_id} queued again")


@app.command()
def requeue(
    ids: Annotated[list[int] | None, typer.Argument(help="message numbers; none = all quarantined")] = None,
    config: ConfigOpt = None,
) -> None:
    """Process quarantined messages again (after a fix or an upgrade)."""
    from tracker.processing import requeue as requeue_messages

    a = migrated_app(config)
    count = requeue_messages(a.engine, ids or None)
    out.print(f"{count} message(s) queued; `jiebang run --once` processes them")


def _today(value: str | None, tz) -> date:  # type: ignore[no-untyped-def]
    if value:
        return date.fromisoformat(value)
    frozen = os.environ.get("JIEBANG_TODAY")  # for rehearsals and tests of the reminder calendar
    return date.fromisoformat(frozen) if frozen else datetime.now(tz).date()


@app.command()
def remind(
    config: ConfigOpt = None,
    today: Annotated[str | None, typer.Option(help="pretend today is YYYY-MM-DD")] = None,
) -> None:
    """Queue today's deadline reminders (also runs daily in `jiebang run`)."""
    from tracker.service import Service

    a = migrated_app(config)
    count = Service(a).remind(_today(today, a.policy.tz))
    out.print(f"{count} reminder(s) queued")


@app.command()
def send(config: ConfigOpt = None) -> None:
    """Deliver what the outbox holds now (also runs every few seconds in `jiebang run`)."""
    a = migrated_app(config)
    report = a.deliver()
    out.print(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}")
