"""The year after (SPEC section 7): the selected applications and where their acceptance
(验收) stands — what the latest request sent, what promised outcome it lacks —, staff's
result (passed, or rework with a reason and a date), and the excellent results (优秀成果).
Province staff only; every change through ``tracker.records.acceptance``, as the CLI."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from campaign.labels import ACCEPTANCE_LABELS, OUTCOME_LABELS
from tracker.records import acceptance as records
from tracker.records.events import record
from tracker.reports import excellent as listing
from tracker.store.tables import ExcellentResult, Submission, SubmissionStatus
from tracker.web import auth, notices, pages
from tracker.web.auth import Access
from tracker.web.guard import PROVINCE, router

ROUTES: list[BaseRoute] = []
route = router(ROUTES)


@route("/acceptance", allow=PROVINCE)
def overview(request: Request, access: Access) -> Response:
    with Session(auth.jb(request).engine) as session:
        subs = session.exec(select(Submission).where(Submission.status == SubmissionStatus.selected)
                            .order_by(col(Submission.direction), col(Submission.reference))).all()
        chosen = {e.submission_id: e for e in session.exec(select(ExcellentResult)).all()}
        rows: list[dict[str, Any]] = [{"sub": s, "request": records.latest_request(session, s),
                                       "decision": records.latest_decision(session, s),
                                       "excellent": chosen.get(s.id or 0)} for s in subs]
    return pages.render(request, "review_acceptance.html", rows=rows, labels=ACCEPTANCE_LABELS,
                        outcomes=OUTCOME_LABELS, excellent=sum(1 for r in rows if r["excellent"]))


def _back(request: Request, *, done: str = "", error: str = "") -> Response:
    return notices.redirect(request, "/acceptance", done=done, error=error)


@route("/acceptance/{reference}/decide", allow=PROVINCE, methods=["POST"])
def decide(request: Request, access: Access) -> Response:
    reference = request.path_params["reference"]
    result, reason, until = access.field("result", 10), access.field("reason", 2000).strip(), access.field("until", 10)
    if result not in ("passed", "rework"):
        return _back(request, error=f"{reference}：请选择“验收通过”或“限期整改”，未作任何更改")
    if not reason:
        return _back(request, error=f"{reference}：验收结论须写明理由，未作任何更改")
    try:
        day = date.fromisoformat(until) if until else None
    except ValueError:
        return _back(request, error=f"{reference}：整改期限的日期格式不正确，未作任何更改")
    if result == "rework" and day is None:
        return _back(request, error=f"{reference}：限期整改须给出整改期限，未作任何更改")
    with Session(auth.jb(request).engine) as session:
        sub = access.submission(session, reference)
        try:  # as `jiebang acceptance decide`
            records.decide(session, sub, result, reason=reason, until=day, actor=access.actor)
        except records.AcceptanceError as exc:
            session.rollback()
            return _back(request, error=str(exc))
        session.commit()
    return _back(request, done=f"{reference}：{ACCEPTANCE_LABELS[result]}" + (f"（期限 {day.isoformat()}）"
                                                                             if day and result == "rework" else ""))


@route("/acceptance/{reference}/excellent", allow=PROVINCE, methods=["POST"])
def excellent(request: Request, access: Access) -> Response:
    reference = request.path_params["reference"]
    mark = access.field("mark", 5) == "1"
    with Session(auth.jb(request).engine) as session:
        sub = access.submission(session, reference)
        try:  # as `jiebang excellent mark` / `unmark`: who and when are kept
            if mark:
                records.mark_excellent(session, sub, note=access.field("note").strip(), actor=access.actor)
            else:
                records.unmark_excellent(session, sub, actor=access.actor)
        except records.AcceptanceError as exc:
            session.rollback()
            return _back(request, error=str(exc))
        session.commit()
    return _back(request, done=f"{reference}：" + ("已评为优秀成果" if mark else "已移出优秀成果"))


@route("/acceptance/excellent.{fmt}", allow=PROVINCE)
def export(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    fmt = request.path_params["fmt"]
    if fmt not in ("docx", "xlsx"):
        raise HTTPException(404)
    with Session(app.engine) as session:
        listed = listing.rows(session, app.policy.catalogue)
        name = f"{listing.title(app.policy.catalogue)}.{fmt}"
        record(session, "exported", actor=access.actor, detail=name)
        session.commit()
    data = listing.document(listed, app.policy.catalogue) if fmt == "docx" else listing.workbook(listed)
    kind = "application/vnd.openxmlformats-officedocument." + (
        "wordprocessingml.document" if fmt == "docx" else "spreadsheetml.sheet")
    return Response(data, media_type=kind, headers={
        "content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
