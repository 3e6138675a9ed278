"""The ranking and the decisions on it, the published list (公示名单), the result notices and
the objections (异议) to the list. Province staff only; each step through the function the
CLI calls (``set-status``, ``publish``, ``review objection``)."""

from __future__ import annotations

from datetime import date
from itertools import groupby
from typing import Any
from urllib.parse import quote

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from campaign.clock import local_today
from campaign.labels import STATUS_LABELS, listing_title
from campaign.workdays import working_period_end
from tracker.outreach.results import release_results
from tracker.records.decisions import decide
from tracker.records.events import record
from tracker.records.queries import find_submission
from tracker.records.review import ReviewRefused
from tracker.records.review.objections import handle, objections
from tracker.records.status import StatusError
from tracker.reports import publication
from tracker.reports.ranking import ranking as ranking_rows
from tracker.store.locks import records_lock
from tracker.store.tables import Publication
from tracker.web import auth, decisions, notices, pages
from tracker.web.auth import Access
from tracker.web.guard import PROVINCE, router

ROUTES: list[BaseRoute] = []
route = router(ROUTES)

OUTCOMES = ("selected", "not_selected")


# --- ranking and decisions ---------------------------------------------------------------
def _ranking_page(request: Request, *, error: str = "", status_code: int = 200,
                  asked: dict[str, Any] | None = None) -> Response:
    app = auth.jb(request)
    with Session(app.engine) as session:
        rows = ranking_rows(session, app.policy.catalogue.review)
    groups = [(d, list(g)) for d, g in groupby(rows, key=lambda r: r["direction"])]
    return pages.render(request, "review_ranking.html", status_code=status_code, error=error, groups=groups,
                        outcomes=OUTCOMES, asked=asked or {}, rules=app.policy.catalogue.review)


@route("/review/ranking", allow=PROVINCE)
def ranking(request: Request, access: Access) -> Response:
    return _ranking_page(request)


@route("/review/decide", allow=PROVINCE, methods=["POST"])
def decide_checked(request: Request, access: Access) -> Response:
    """Selected / not selected for every checked row, with one reason, confirmed: all or none."""
    app = auth.jb(request)
    refs = list(dict.fromkeys(r[:40] for r in (access.form.getlist("reference") if access.form else [])
                              if isinstance(r, str)))[:500]
    asked = decisions.Decision.of(access.field)
    shown: dict[str, Any] = asked.shown() | {"references": refs}
    problem = None
    if not refs:
        problem = "请先勾选要决定的申报，未作任何更改"
    elif asked.status not in OUTCOMES:
        problem = "请选择“已入选”或“未入选”，未作任何更改"
    else:
        problem = asked.problem()  # a reason and the confirmation, as on a submission's page
    if problem:
        return _ranking_page(request, error=problem, status_code=400, asked=shown)
    with Session(app.engine) as session, records_lock(session):
        for ref in refs:
            sub = find_submission(session, ref)
            if sub is None or sub.formal != "pass":
                session.rollback()
                return _ranking_page(request, error=f"{ref} 未通过形式审查，不能作出评审决定，未作任何更改",
                                     status_code=400, asked=shown)
            try:  # the function `jiebang set-status` calls
                decide(session, app.policy, sub, asked.status, actor=access.actor, note=asked.note)
            except StatusError:
                session.rollback()
                return _ranking_page(request, error=f"{ref} 不能设为“{STATUS_LABELS[asked.status]}”，未作任何更改",
                                     status_code=400, asked=shown)
        session.commit()
    return notices.redirect(request, "/review/ranking",
                            done=f"已将 {len(refs)} 项设为“{STATUS_LABELS[asked.status]}”：{'、'.join(refs)}")


# --- the published list and the result notices -------------------------------------------
def _latest(session: Session) -> Publication | None:
    return session.exec(select(Publication).order_by(col(Publication.id).desc())).first()


@route("/review/publication", allow=PROVINCE)
def publication_page(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    with Session(app.engine) as session:
        listed = publication.selected(session, app.policy.catalogue)
        latest = _latest(session)
        rows = objections(session)
    return pages.render(request, "review_publication.html", listed=listed, latest=latest, objections=rows,
                        today=local_today(app.policy.catalogue).isoformat(),
                        days=app.policy.catalogue.review.notice_working_days)


@route("/review/publication/list.{fmt}", allow=PROVINCE)
def download(request: Request, access: Access) -> Response:
    """The list as published (its dates), or, before it is, as it would be published today."""
    app = auth.jb(request)
    catalogue = app.policy.catalogue
    fmt = request.path_params["fmt"]
    if fmt not in ("docx", "xlsx"):
        raise HTTPException(404)
    with Session(app.engine) as session:
        rows = publication.selected(session, catalogue)
        latest = _latest(session)
        if latest is not None:
            day, ends = local_today(catalogue, latest.published_at), latest.notice_ends
        else:
            day = local_today(catalogue)
            ends = working_period_end(day, catalogue.review.notice_working_days).end
        name = f"{listing_title(catalogue)}.{fmt}"
        record(session, "exported", actor=access.actor, detail=name)
        session.commit()
    data = publication.document(rows, catalogue, published=day, notice_ends=ends) if fmt == "docx" \
        else publication.workbook(rows, catalogue)
    kind = "application/vnd.openxmlformats-officedocument." + (
        "wordprocessingml.document" if fmt == "docx" else "spreadsheetml.sheet")
    return Response(data, media_type=kind, headers={
        "content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def _to_publication(request: Request, *, done: str = "", error: str = "") -> Response:
    return notices.redirect(request, "/review/publication", done=done, error=error)


@route("/review/publication/publish", allow=PROVINCE, methods=["POST"])
def publish(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    if access.field("confirm") != "1":
        return _to_publication(request, error="请勾选“确认发布公示”后再提交，未作任何更改")
    try:
        day = date.fromisoformat(access.field("date", 10)) if access.field("date", 10) else \
            local_today(app.policy.catalogue)
    except ValueError:
        return _to_publication(request, error="公示日期格式不正确，未作任何更改")
    with Session(app.engine) as session:
        done = publication.publish(session, app.policy.catalogue, day, actor=access.actor)  # as `jiebang publish`
        session.commit()
    return _to_publication(request, done=f"已发布公示：{len(done.rows)} 项，公示期 {day.isoformat()} 至 "
                           f"{done.notice_ends.isoformat()}" + ("（节假日安排尚未公布，按周末推算）" if done.estimated else ""))


@route("/review/publication/release", allow=PROVINCE, methods=["POST"])
def release(request: Request, access: Access) -> Response:
    """Queue the result notices: each applicant and each city bureau once (a second release
    sends nothing new)."""
    app = auth.jb(request)
    if access.field("confirm") != "1":
        return _to_publication(request, error="请勾选“确认发送结果通知”后再提交，未作任何更改")
    with Session(app.engine) as session, records_lock(session):
        done = release_results(session, app.policy, app.reply_settings, actor=access.actor)
        session.commit()
    said = f"结果通知：本次发送申报单位 {len(done.applicants)} 家、设区市 {len(done.cities)} 个"
    if done.undecided:
        said += f"；尚未作出评审决定（未发送）：{'、'.join(done.undecided)}"
    if done.no_address:
        said += f"；没有联系邮箱：{'、'.join(done.no_address)}"
    if done.cities_waiting:
        said += f"；推荐尚未全部决定的设区市（未发送）：{'、'.join(done.cities_waiting)}"
    return _to_publication(request, done=said)


@route("/review/objections/{objection:id}", allow=PROVINCE, methods=["POST"])
def handle_objection(request: Request, access: Access) -> Response:
    note = access.field("note", 2000).strip()
    if not note:
        return _to_publication(request, error="处理异议须写明处理意见，未作任何更改")
    with Session(auth.jb(request).engine) as session:
        try:  # as `jiebang review objection`
            handle(session, request.path_params["objection"], note=note, actor=access.actor)
        except ReviewRefused as exc:
            return _to_publication(request, error=str(exc))
        session.commit()
    return _to_publication(request, done=f"异议 {request.path_params['objection']} 已处理")
