"""Submissions: the filtered list with counts and exports; one submission; correcting a
field; deciding a status. Every change goes through the records' own functions."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import quote

from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from campaign import CODES
from campaign.clock import local_today
from campaign.labels import FIELD_LABELS
from notifier.models import OutboxMail
from tracker.outreach.corrections import queue_corrected_notice
from tracker.records import contacts, overrides
from tracker.records.decisions import decide
from tracker.records.events import record
from tracker.records.queries import find_submission, submission_rows
from tracker.records.status import StatusError
from tracker.reports.documents import documents
from tracker.reports.exports import ExportFile, recommendation_file, submissions_file
from tracker.store.locks import records_lock
from tracker.store.tables import (
    STAFF_STATUSES,
    DeficiencyRecord,
    Event,
    StoredMessage,
    Submission,
    SubmissionStatus,
)
from tracker.web import auth, pages

FILTERS = ("direction", "city", "channel", "status", "deficiency", "late", "q")


def _filters(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip()[:100] for k in FILTERS}


def _rows(request: Request, chosen: dict[str, str]) -> list[dict[str, Any]]:
    user = auth.require(request)
    city = auth.scope_city(user) or chosen["city"] or None
    direction = int(chosen["direction"]) if chosen["direction"].isdigit() else None
    late = {"1": True, "0": False}.get(chosen["late"])
    rows = submission_rows(auth.jb(request).engine, direction=direction, city=city,
                           channel=chosen["channel"] or None, status=chosen["status"] or None,
                           has_deficiency=chosen["deficiency"] or None, late=late)
    needle = chosen["q"].upper()
    if needle:
        rows = [r for r in rows if needle in (r["unit"] or "").upper() or needle in (r["uscc"] or "")
                or needle in r["reference"]]
    return rows


def _counts(rows: list[dict[str, Any]], directions: int) -> dict[str, Any]:
    """Per direction (直报 / 市推荐 / 合计) and per city, as the digest counts them."""
    cells = Counter((r["direction"] or 0, r["channel"]) for r in rows)
    by_direction = []
    for d in [*range(1, directions + 1), 0]:
        total = sum(n for (dd, _), n in cells.items() if dd == d)
        if d or total:
            by_direction.append({"direction": d, "direct": cells[(d, "direct")], "via_city": cells[(d, "via_city")],
                                 "total": total})
    by_city = sorted(Counter(r["city"] or "未知" for r in rows).items())
    return {"directions": by_direction, "cities": by_city, "total": len(rows)}


def listing(request: Request) -> Response:
    user = auth.require(request)
    chosen = _filters(request)
    rows = _rows(request, chosen)
    policy = auth.jb(request).policy
    # htmx swaps just the results; a history restore (back button, cache miss) wants the page
    partial = request.headers.get("hx-request") and not request.headers.get("hx-history-restore-request")
    template = "submissions_rows.html" if partial else "submissions.html"
    return pages.render(request, template, rows=rows, chosen=chosen, counts=_counts(rows, policy.catalogue.direction_count),
                        statuses=list(SubmissionStatus), codes=sorted(CODES),
                        cities=[auth.scope_city(user)] if auth.scope_city(user) else list(policy.catalogue.cities))


# --- one submission ------------------------------------------------------------------------------
def _visible(request: Request, session: Session, reference: str) -> Submission:
    user = auth.require(request)
    sub = find_submission(session, reference)
    if sub is None or not auth.can_see(user, sub):
        raise HTTPException(404, f"没有受理编号为 {reference[:40]} 的申报")
    return sub


def _detail(request: Request, reference: str, *, error: str = "", status_code: int = 200) -> Response:
    with Session(auth.jb(request).engine) as session:
        sub = _visible(request, session, reference)
        versions = documents(session, sub.id or 0)
        events = session.exec(select(Event).where(Event.submission_id == sub.id).order_by(col(Event.id))).all()
        outgoing = session.exec(select(OutboxMail).where(OutboxMail.reference == sub.reference)
                                .order_by(col(OutboxMail.id))).all()
        # mail in: its versions, whatever its events name, and what our answers replied to
        pks = {v.message_pk for v, _ in versions} | {e.message_pk for e in events if e.message_pk}
        answered = [o.in_reply_to for o in outgoing if o.in_reply_to]
        wanted = col(StoredMessage.id).in_(sorted(pks) or [-1]) | col(StoredMessage.message_id).in_(answered or ["-"])
        msgs = {m.id: m for m in session.exec(select(StoredMessage).where(wanted).order_by(col(StoredMessage.id))).all()}
        context = dict(
            sub=sub, versions=versions, messages=msgs, incoming=list(msgs.values()),
            standing=overrides.standing(session, sub), corrections=overrides.history(session, sub),
            deficiencies=session.exec(select(DeficiencyRecord).where(DeficiencyRecord.submission_id == sub.id)
                                      .order_by(col(DeficiencyRecord.state).desc(), col(DeficiencyRecord.id))).all(),
            events=events, outgoing=outgoing,
            field_labels=FIELD_LABELS, may_decide=not (auth.scope_city(auth.require(request))
                                                                 and auth.jb(request).policy.role != "city"), staff_statuses=sorted(s.value for s in STAFF_STATUSES),
            error=error, notice=request.query_params.get("done", "")[:200],
        )
        return pages.render(request, "submission.html", status_code=status_code, **context)


def detail(request: Request) -> Response:
    return _detail(request, request.path_params["reference"])


async def correct(request: Request) -> Response:
    user, form = await auth.posted(request)
    reference = request.path_params["reference"]
    app = auth.jb(request)
    # the rules re-run: not at the same time as the service records a new version of it
    with Session(app.engine, expire_on_commit=False) as session, records_lock(session):
        sub = _visible(request, session, reference)
        name = str(form.get("field") or "")
        try:
            value = overrides.parse_value(app.policy, name, str(form.get("value") or ""))
            done = overrides.correct(session, app.policy, sub, name, value, actor=auth.actor(user),
                                     note=str(form.get("note") or "")[:500])
        except overrides.OverrideError as exc:
            session.rollback()
            return _detail(request, reference, error=str(exc), status_code=400)
        if form.get("notify"):
            queue_corrected_notice(session, app.policy, app.reply_settings, sub, key=str(done.override.id),
                                   actor=auth.actor(user))
        session.commit()
    note = f"已更正{FIELD_LABELS[name]}" + (f"；解决 {' '.join(done.resolved)}" if done.resolved else "") + \
        (f"；新增 {' '.join(done.opened)}" if done.opened else "")
    return _back(sub.reference, note)


async def remove_contact(request: Request) -> Response:
    auth.require_province(request)  # who owns a record is the province's decision
    user, form = await auth.posted(request)
    reference = request.path_params["reference"]
    app = auth.jb(request)
    address = str(form.get("address") or "")[:320]
    with Session(app.engine, expire_on_commit=False) as session, records_lock(session):
        sub = _visible(request, session, reference)
        try:  # as `jiebang contact remove`
            contacts.remove_contact(session, sub, address, actor=auth.actor(user), note=str(form.get("note") or "")[:500])
        except contacts.ContactError:
            session.rollback()
            return _detail(request, reference, error=f"此申报没有联系邮箱 {address}", status_code=400)
        session.commit()
    return _back(sub.reference, f"已移除联系邮箱 {address}")


async def set_status(request: Request) -> Response:
    auth.require_province(request)  # selecting is the province's decision, not a city's
    user, form = await auth.posted(request)
    reference = request.path_params["reference"]
    app = auth.jb(request)
    with Session(app.engine) as session:
        sub = _visible(request, session, reference)
        try:  # the function `jiebang set-status` calls
            decide(session, app.policy, sub, str(form.get("status") or ""), actor=auth.actor(user),
                   note=str(form.get("note") or "")[:500])
        except StatusError as exc:
            session.rollback()
            return _detail(request, reference, error=str(exc), status_code=400)
        session.commit()
        ref = sub.reference
    return _back(ref, "状态已更新")


def _back(reference: str, note: str) -> Response:
    return RedirectResponse(f"/submissions/{quote(reference)}?done={quote(note)}", status_code=303)


# --- exports -------------------------------------------------------------------------------------
def _download(request: Request, file: ExportFile) -> Response:
    """The file as an attachment; who took which export goes into the event log."""
    with Session(auth.jb(request).engine) as session:
        record(session, "exported", actor=auth.actor(auth.require(request)), detail=file.name)
        session.commit()
    return Response(file.data, media_type=file.content_type, headers={
        "content-disposition": f"attachment; filename*=UTF-8''{quote(file.name)}"})


async def export_submissions(request: Request) -> Response:
    user = auth.require(request)
    app = auth.jb(request)
    if auth.scope_city(user) and app.policy.role != "city":
        raise HTTPException(403, "汇总导出包含所有城市的申报，仅限省级工作人员")
    fmt = request.path_params["fmt"]
    if fmt not in ("xlsx", "csv"):
        raise HTTPException(404)
    today = local_today(app.policy.catalogue)

    def build() -> ExportFile:
        with Session(app.engine) as session:
            return submissions_file(session, app.policy, fmt, filled_on=today)

    return _download(request, await run_in_threadpool(build))


async def export_recommendation(request: Request) -> Response:
    user = auth.require(request)
    app = auth.jb(request)
    city = auth.scope_city(user) or (app.policy.city if app.policy.role == "city" else None) \
        or request.query_params.get("city", "")
    fmt = request.path_params["fmt"]
    if city not in app.policy.catalogue.cities or fmt not in ("xlsx", "docx"):
        raise HTTPException(404, "请选择城市")
    today = local_today(app.policy.catalogue)

    def build() -> ExportFile:
        with Session(app.engine) as session:
            return recommendation_file(session, app.policy, city, fmt, filled_on=today, blobs=app.blobs)

    return _download(request, await run_in_threadpool(build))


ROUTES = [
    Route("/submissions", listing, methods=["GET"]),
    Route("/submissions/{reference}", detail, methods=["GET"]),
    Route("/submissions/{reference}/correct", correct, methods=["POST"]),
    Route("/submissions/{reference}/status", set_status, methods=["POST"]),
    Route("/submissions/{reference}/contacts/remove", remove_contact, methods=["POST"]),
    Route("/export/submissions.{fmt}", export_submissions, methods=["GET"]),
    Route("/export/recommendation.{fmt}", export_recommendation, methods=["GET"]),
]
