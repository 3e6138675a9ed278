"""Submissions: the filtered list with counts and exports; one submission; correcting a
field; deciding a status. Every change goes through the records' own functions."""

from __future__ import annotations

from urllib.parse import quote

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from campaign.clock import local_today
from campaign.labels import FIELD_LABELS, STATUS_LABELS
from notifier.models import OutboxMail
from tracker.outreach.corrections import queue_corrected_notice
from tracker.records import assignments, contacts, notes, overrides, saved_filters
from tracker.records.decisions import decide
from tracker.records.events import record
from tracker.records.status import StatusError
from tracker.reports.documents import documents
from tracker.reports.exports import ExportFile, recommendation_file, submissions_file
from tracker.store.locks import records_lock
from tracker.store.tables import (
    DeficiencyRecord,
    Event,
    StoredMessage,
)
from tracker.web import auth, decisions, notices, pages
from tracker.web import listing as submission_list
from tracker.web.auth import Access
from tracker.web.guard import PROVINCE, STAFF, router
from tracker.web.readable import code_titles

ROUTES: list[BaseRoute] = []
route = router(ROUTES)


@route("/submissions", allow=STAFF)
def listing(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    with Session(app.engine) as session:  # one page, sorted, paged and counted in SQL
        context = submission_list.context(session, app.policy, request.query_params,
                                          recommended_by=access.scope.recommended_by,  # a city: what it recommended
                                          user_id=access.user.user_id)
        context["saved_filters"] = saved_filters.saved(session, access.user.user_id)
        context["colleagues"] = [u.name for u in assignments.colleagues(session, city=access.city)] \
            if access.user.may_change else []
    # htmx swaps just the results; a history restore (back button, cache miss) wants the page
    partial = request.headers.get("hx-request") and not request.headers.get("hx-history-restore-request")
    template = "submissions_rows.html" if partial else "submissions.html"
    return pages.render(request, template, **context)


# --- one submission ------------------------------------------------------------------------------
def _detail(request: Request, access: Access, reference: str, *, error: str = "", status_code: int = 200,
            decision: dict[str, str] | None = None) -> Response:
    with Session(auth.jb(request).engine) as session:
        sub = access.submission(session, reference)
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
            field_labels=FIELD_LABELS, may_decide=access.scope.everything,
            staff_statuses=decisions.CHOICES, decision=decision or {}, error=error,
            notes=notes.notes_of(session, sub), linked_messages=pks,
            assignee=assignments.assignees(session, submissions=[sub.id or 0])[0].get(sub.id or 0),
            colleagues=[u.name for u in assignments.colleagues(session, sub, city=access.city)],
        )
        return pages.render(request, "submission.html", status_code=status_code, **context)


@route("/submissions/{reference}", allow=STAFF)
def detail(request: Request, access: Access) -> Response:
    return _detail(request, access, request.path_params["reference"])


@route("/submissions/{reference}/correct", allow=STAFF, methods=["POST"])
def correct(request: Request, access: Access) -> Response:
    reference = request.path_params["reference"]
    app = auth.jb(request)
    # the rules re-run: not at the same time as the service records a new version of it
    with Session(app.engine, expire_on_commit=False) as session, records_lock(session):
        sub = access.submission(session, reference)
        name = access.field("field", 40)
        try:
            value = overrides.parse_value(app.policy, name, access.field("value", 2000))
            done = overrides.correct(session, app.policy, sub, name, value, actor=access.actor,
                                     note=access.field("note"))
        except overrides.OverrideError as exc:
            session.rollback()
            return _detail(request, access, reference, error=str(exc), status_code=400)
        if access.field("notify"):
            queue_corrected_notice(session, app.policy, app.reply_settings, sub, key=str(done.override.id),
                                   actor=access.actor)
        session.commit()
    note = f"已更正{FIELD_LABELS[name]}" + (f"；已解决：{code_titles(done.resolved, '、')}" if done.resolved else "") + \
        (f"；新发现：{code_titles(done.opened, '、')}" if done.opened else "")
    return _back(request, sub.reference, note)


@route("/submissions/{reference}/status", allow=PROVINCE, methods=["POST"])  # selecting is the province's
def set_status(request: Request, access: Access) -> Response:
    reference = request.path_params["reference"]
    app = auth.jb(request)
    asked = decisions.Decision.of(access.field)  # chosen, with a reason, confirmed: or nothing is recorded
    problem = asked.problem()
    if problem:
        return _detail(request, access, reference, error=problem, status_code=400, decision=asked.shown())
    with Session(app.engine) as session:
        sub = access.submission(session, reference)
        try:  # the function `jiebang set-status` calls
            decide(session, app.policy, sub, asked.status, actor=access.actor, note=asked.note)
        except StatusError as exc:
            session.rollback()
            return _detail(request, access, reference, error=str(exc), status_code=400)
        session.commit()
        ref = sub.reference
    return _back(request, ref, f"状态已改为“{STATUS_LABELS.get(asked.status, asked.status)}”")


@route("/submissions/{reference}/contacts/remove", allow=PROVINCE, methods=["POST"])  # who owns a record
def remove_contact(request: Request, access: Access) -> Response:
    reference = request.path_params["reference"]
    app = auth.jb(request)
    address = access.field("address", 320)
    with Session(app.engine, expire_on_commit=False) as session, records_lock(session):
        sub = access.submission(session, reference)
        try:  # as `jiebang contact remove`
            contacts.remove_contact(session, sub, address, actor=access.actor, note=access.field("note"))
        except contacts.ContactError:
            session.rollback()
            return _detail(request, access, reference, error=f"此申报没有联系邮箱 {address}", status_code=400)
        session.commit()
    return _back(request, sub.reference, f"已移除联系邮箱 {address}")


def _back(request: Request, reference: str, note: str) -> Response:
    return notices.redirect(request, f"/submissions/{quote(reference)}", done=note)


# --- exports -------------------------------------------------------------------------------------
def _download(request: Request, access: Access, file: ExportFile) -> Response:
    """The file as an attachment; who took which export goes into the event log."""
    with Session(auth.jb(request).engine) as session:
        record(session, "exported", actor=access.actor, detail=file.name)
        session.commit()
    return Response(file.data, media_type=file.content_type, headers={
        "content-disposition": f"attachment; filename*=UTF-8''{quote(file.name)}"})


@route("/export/submissions.{fmt}", allow=PROVINCE)  # every city's submissions
def export_submissions(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    fmt = request.path_params["fmt"]
    if fmt not in ("xlsx", "csv"):
        raise HTTPException(404)
    # the list's filter (the same query builder), without its pages
    which = submission_list.ListRequest.of(request.query_params).which(recommended_by=access.scope.recommended_by,
                                                                       user_id=access.user.user_id)
    with Session(app.engine) as session:
        built = submissions_file(session, app.policy, fmt, filled_on=local_today(app.policy.catalogue), only=which)
    return _download(request, access, built)


@route("/export/recommendation.{fmt}", allow=STAFF)
def export_recommendation(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    city = access.city or (app.policy.city if app.policy.role == "city" else None) \
        or request.query_params.get("city", "")
    fmt = request.path_params["fmt"]
    if city not in app.policy.catalogue.cities or fmt not in ("xlsx", "docx"):
        raise HTTPException(404, "请选择城市")
    with Session(app.engine) as session:
        built = recommendation_file(session, app.policy, city, fmt, filled_on=local_today(app.policy.catalogue),
                                    blobs=app.blobs)
    return _download(request, access, built)
