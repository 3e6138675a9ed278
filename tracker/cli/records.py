"""`jiebang` commands over the records: list, show, status, set-status, correct, outbox,
resend, release, requeue, remind, send."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Annotated, Any, TypedDict

import typer
from rich.table import Table
from sqlmodel import Session

from campaign import CODES
from campaign.catalogue import Catalogue
from campaign.clock import local_today, with_offset
from campaign.labels import CHANNEL_LABELS, STATUS_LABELS, direction_name
from notifier.models import OutboxMail
from notifier.outbox import HeldFilter, InvalidTransition, MailNotFound, held_mail, outbox_rows
from notifier.outbox import resend as resend_mail
from notifier.render import render
from tracker.app import App
from tracker.cli.common import (
    ConfigOpt,
    JsonOpt,
    fail,
    make_app,
    migrated_app,
    opened_for_reading,
    out,
    reading_app,
    reference_column,
    submission_under_lock,
)
from tracker.cli.exits import EXIT_CONFIG, EXIT_FAILURE
from tracker.config import Operator
from tracker.outreach.corrections import queue_corrected_notice
from tracker.outreach.held import release as release_held_answers
from tracker.outreach.replies import status_context
from tracker.pipeline.processing import requeue as requeue_messages
from tracker.records import overrides
from tracker.records.decisions import decide
from tracker.records.queries import find_submission, submission_detail, submission_rows
from tracker.records.status import StatusError
from tracker.service import Service
from tracker.store.tables import SubmissionStatus


def _dump(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n")


def list_(
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    direction: Annotated[int | None, typer.Option(min=1, help="a direction's number in this round")] = None,
    city: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[str | None, typer.Option(help="direct | via_city")] = None,
    status: Annotated[str | None, typer.Option()] = None,
    has_deficiency: Annotated[str | None, typer.Option(help="a code, or 'any'")] = None,
    late: Annotated[bool | None, typer.Option("--late/--on-time")] = None,
) -> None:
    """Submissions, filtered; `--json`: docs/contracts.md, "Listings"."""
    a = make_app(config)
    _check_filters(a, direction=direction, city=city, channel=channel, status=status, has_deficiency=has_deficiency)
    opened_for_reading(a)  # an option the round does not have is said first, whatever the database
    rows = submission_rows(a.engine, direction=direction, city=city, channel=channel, status=status,
                           has_deficiency=has_deficiency, late=late)
    if as_json:
        _dump(rows)
        return
    table = Table(title=f"申报 {len(rows)} 项")
    reference_column(table)
    for header in ("揭榜单位", "方向", "渠道", "城市", "状态", "版本", "逾期", "问题"):
        table.add_column(header)
    for r in rows:
        table.add_row(r["reference"], r["unit"] or "—", direction_name(r["direction"], "—"),
                      CHANNEL_LABELS.get(r["channel"] or "", "—"), r["city"] or "—", STATUS_LABELS.get(r["status"], r["status"]),
                      str(r["versions"]), "是" if r["late"] else "", " ".join(r["deficiencies"]))
    out.print(table)


def _check_filters(a: App, *, direction: int | None, city: str | None, channel: str | None, status: str | None,
                   has_deficiency: str | None) -> None:
    """A filter value the round does not have is a mistake, not "0 submissions": exit 2 naming
    the values allowed."""
    def allowed(option: str, value: object, values: list[str]) -> None:
        if value is not None and str(value) not in values:
            raise fail(f"{option} {value}: not one of {', '.join(values)}", EXIT_CONFIG)

    allowed("--direction", direction, [str(n) for n in range(1, len(a.policy.catalogue.directions) + 1)])
    allowed("--city", city, list(a.policy.cities) or list(a.policy.catalogue.cities))
    allowed("--channel", channel, ["direct", "via_city"])
    allowed("--status", status, [str(v) for v in SubmissionStatus])
    allowed("--has-deficiency", has_deficiency, ["any", *sorted(CODES)])


def show(reference: str, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """One submission with its versions, documents, deficiencies and event history."""
    a = reading_app(config)
    detail = submission_detail(a.engine, reference)
    if detail is None:
        raise fail(f"no submission {reference}", EXIT_FAILURE)
    if as_json:
        _dump(detail)
        return
    sub = detail["submission"]
    out.print(f"[bold]{sub['reference']}[/] {sub['unit'] or ''} · 方向 {direction_name(sub['direction'], '—')}"
              f" · {CHANNEL_LABELS.get(sub['channel'] or '', '—')} · {STATUS_LABELS.get(sub['status'], sub['status'])}")
    versions = Table("版本", "到达", "逾期", "文件", title="版本")
    for v in detail["versions"]:
        versions.add_row(str(v["number"]), with_offset(v["received_at"]), "是" if v["late"] else "", "\n".join(v["documents"]))
    out.print(versions)
    if detail["deficiencies"]:
        defs = Table("代码", "状态", "说明", title="问题")
        for d in detail["deficiencies"]:
            defs.add_row(d["code"], d["state"], d["message"])
        out.print(defs)
    else:
        out.print("问题：无")
    events = Table(title="记录")
    events.add_column("时间", no_wrap=True)
    for header in ("事件", "操作人", "说明"):
        events.add_column(header)
    for e in detail["events"]:
        events.add_row(with_offset(e["at"]), e["kind"], e["actor"], e["detail"])
    out.print(events)


def status(reference: str, config: ConfigOpt = None) -> None:
    """Exactly what the applicant would be told."""

    a = reading_app(config)
    with Session(a.engine) as session:
        sub = find_submission(session, reference)
        if sub is None:
            raise fail(f"no submission {reference}", EXIT_FAILURE)
        rendered = render("status", status_context(session, sub, a.policy))
    out.print(f"[bold]{rendered.subject}[/]\n")
    out.print(rendered.text, markup=False, highlight=False)


def set_status_cmd(
    reference: str,
    new_status: Annotated[str, typer.Argument(help="under_review | selected | not_selected | withdrawn")],
    note: Annotated[str, typer.Option("--note", help="why (kept in the event log)")] = "",
    config: ConfigOpt = None,
) -> None:
    """Record a staff decision (who and when go into the event log)."""
    a = migrated_app(config)
    actor = Operator().actor()
    with Session(a.engine) as session:
        sub = find_submission(session, reference)
        if sub is None:
            raise fail(f"no submission {reference}", EXIT_FAILURE)
        try:
            decide(session, a.policy, sub, new_status, actor=actor, note=note)
        except StatusError as exc:
            raise fail(str(exc), EXIT_CONFIG) from None
        session.commit()
    out.print(f"{reference}: {STATUS_LABELS.get(new_status, new_status)} (by {actor})")


def correct(
    reference: str,
    field: Annotated[str, typer.Argument(help="unit | uscc | unit_nature | unit_city | direction | task_name | "
                                              "task_types | partners")],
    value: Annotated[str, typer.Argument(help="direction: its number; task_types: theory,technology,application")],
    note: Annotated[str, typer.Option("--note", help="why (kept with the correction)")] = "",
    notify: Annotated[bool, typer.Option("--notify", help="send the applicant the notice as the record now stands")] = False,
    config: ConfigOpt = None,
) -> None:
    """Correct a field as read from the form (kept as a staff override; its rules run again)."""
    a = migrated_app(config)
    actor = Operator().actor()
    # the rules re-run: not at the same time as the service records a new version of it
    with submission_under_lock(a, reference) as (session, sub):
        try:
            done = overrides.correct(session, a.policy, sub, field, overrides.parse_value(a.policy, field, value),
                                     actor=actor, note=note)
        except overrides.OverrideError as exc:
            raise fail(str(exc), EXIT_CONFIG) from None
        if notify:
            queue_corrected_notice(session, a.policy, a.reply_settings, sub, key=str(done.override.id), actor=actor)
        session.commit()
    out.print(f"{sub.reference}: {field} corrected (by {actor})"
              + (f"; resolved {' '.join(done.resolved)}" if done.resolved else "")
              + (f"; opened {' '.join(done.opened)}" if done.opened else ""), markup=False)


def outbox(config: ConfigOpt = None, as_json: JsonOpt = False,
           show: Annotated[int | None, typer.Option("--show", help="print this mail as its recipient reads it")] = None,
           ) -> None:
    """Outgoing mail and its delivery state; `--json`: docs/contracts.md, "Listings"; `--show ID` one mail's text."""
    a = reading_app(config)
    if show is not None:
        with Session(a.engine) as session:
            mail = session.get(OutboxMail, show)
            if mail is None:
                raise fail(f"no outbox mail #{show}", EXIT_FAILURE)
            out.print(f"#{mail.id} {mail.kind} · {mail.state} · {with_offset(mail.created_at)}\n"
                      f"收件人：{', '.join(mail.to_addrs)}\n主题：{mail.subject}\n", markup=False, highlight=False)
            out.print(mail.text_body, markup=False, highlight=False)
        return
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


def resend(mail_id: int, config: ConfigOpt = None) -> None:
    """Put a failed or bounced mail back in the queue (same Message-ID)."""
    a = migrated_app(config)
    with Session(a.engine) as session:
        try:
            resend_mail(session, mail_id)
        except (MailNotFound, InvalidTransition) as exc:
            raise fail(str(exc), EXIT_FAILURE) from None
        session.commit()
    out.print(f"mail {mail_id} queued again")


class _Released(TypedDict):
    """One released (or releasable) answer as `jiebang release --json` prints it."""

    id: int | None
    kind: str
    to: list[str]
    subject: str
    created_at: str


def release(
    kind: Annotated[str | None, typer.Option(help="only answers of this kind (ack, deficiency, status …)")] = None,
    domain: Annotated[str | None, typer.Option(help="only answers to this recipient domain, e.g. 163.com")] = None,
    before: Annotated[str | None, typer.Option(help="only answers written before YYYY-MM-DD[THH:MM]")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="at most this many, oldest first")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what would be released")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Release answers held by the first-contact budget, oldest first (all, or those matching)."""
    a = reading_app(config) if dry_run else migrated_app(config)
    try:
        moment = datetime.fromisoformat(before) if before else None
    except ValueError:
        raise fail(f"--before: not a date or time: {before!r}", EXIT_CONFIG) from None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=a.policy.tz)  # the round's local time, as staff think of it
    which = HeldFilter(kind=kind, domain=domain, before=moment, limit=limit)
    with Session(a.engine) as session:
        if dry_run:
            rows = held_mail(session, which)
        else:
            rows = release_held_answers(session, which, actor=Operator().actor())
            session.commit()
        found: list[_Released] = [{"id": r.id, "kind": r.kind, "to": list(r.to_addrs), "subject": r.subject,
                                   "created_at": r.created_at.isoformat()} for r in rows]
    if as_json:
        _dump(found)
        return
    for r in found:
        out.print(f"#{r['id']} {r['kind']} → {', '.join(r['to'])}  {r['subject']}", markup=False)
    out.print(f"{len(found)} held answer(s) {'would be released' if dry_run else 'released'}")


def requeue(
    ids: Annotated[list[int] | None, typer.Argument(help="message numbers; none = all quarantined")] = None,
    config: ConfigOpt = None,
) -> None:
    """Process quarantined messages again (after a fix or an upgrade)."""

    a = migrated_app(config)
    count = requeue_messages(a.engine, ids or None)
    out.print(f"{count} message(s) queued; `jiebang run --once` processes them")


def _today(value: str | None, catalogue: Catalogue) -> date:
    if value:
        return date.fromisoformat(value)
    return Operator().today or local_today(catalogue)  # JIEBANG_TODAY: rehearsals of the calendar


def remind(
    config: ConfigOpt = None,
    today: Annotated[str | None, typer.Option(help="pretend today is YYYY-MM-DD")] = None,
) -> None:
    """Queue today's deadline reminders (also runs daily in `jiebang run`)."""

    a = migrated_app(config)
    count = Service(a).remind(_today(today, a.policy.catalogue))
    out.print(f"{count} reminder(s) queued")


def send(config: ConfigOpt = None) -> None:
    """Deliver what the outbox holds now (also runs every few seconds in `jiebang run`)."""
    a = migrated_app(config)
    report = a.deliver()
    out.print(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}")


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    """Add this module's commands, in the order `jiebang --help` lists them."""
    app.command("list")(list_)
    app.command()(show)
    app.command()(status)
    app.command("set-status")(set_status_cmd)
    app.command()(correct)
    app.command()(outbox)
    app.command()(resend)
    app.command()(release)
    app.command()(requeue)
    app.command()(remind)
    app.command()(send)
