"""A review expert's own pages: the applications of their panels that passed formal review
and are not in conflict with them, each with its documents (download and preview) and
the score form of ``review.criteria``; declaring a conflict (申明回避).

What an expert may open is decided here, by ``reports.panels.assignment``, never by the
staff's scope: anything else — another panel's application, one in conflict, one that
failed formal review, its documents — answers 404, as if it did not exist. Other experts'
scores are shown only once the panel is closed (each expert judges alone until then).
"""

from __future__ import annotations

from urllib.parse import quote

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from campaign.labels import FIELD_LABELS
from tracker.records.review import ReviewRefused
from tracker.records.review.experts import add_recusal
from tracker.records.review.scores import enter_score, scores_of
from tracker.reports.documents import DocumentRef, attachment, documents
from tracker.reports.panels import Assigned, assigned, assignment
from tracker.store.tables import StaffUser, StoredMessage, SubmissionVersion
from tracker.web import auth, notices, pages
from tracker.web.auth import Access
from tracker.web.guard import EXPERT, router
from tracker.web.routes.documents import NOT_ATTACHED, disposition, preview

ROUTES: list[BaseRoute] = []
route = router(ROUTES)

NOT_YOURS = "没有这份需要您评审的申报"


def _expert(session: Session, access: Access) -> StaffUser:
    user = session.get(StaffUser, access.user.user_id)
    if user is None:  # the session outlived its account: nothing to show
        raise HTTPException(404, NOT_YOURS)
    return user


def _assigned(session: Session, access: Access, reference: str) -> tuple[StaffUser, Assigned]:
    expert = _expert(session, access)
    found = assignment(session, expert, reference)
    if found is None:
        raise HTTPException(404, NOT_YOURS)
    return expert, found


@route("/expert", allow=EXPERT)
def mine(request: Request, access: Access) -> Response:
    with Session(auth.jb(request).engine) as session:
        rows = assigned(session, _expert(session, access))
        return pages.render(request, "expert_list.html", rows=rows,
                            left=sum(1 for r in rows if r.score is None and r.panel.closed_at is None))


def _page(request: Request, access: Access, reference: str, *, error: str = "", status_code: int = 200,
          entered: dict[str, str] | None = None) -> Response:
    app = auth.jb(request)
    with Session(app.engine) as session:
        expert, found = _assigned(session, access, reference)
        sub = found.sub
        versions = [(v, docs) for v, docs in documents(session, sub.id or 0) if v.number == sub.standing_version]
        closed = found.panel.closed_at is not None
        others = [(u.name, s.total) for u, s in scores_of(session, sub) if u.id != expert.id] if closed else []
        mine = found.score
        shown = entered if entered is not None else (
            {k: f"{v:g}" for k, v in mine.marks.items()} | {"comment": mine.comment} if mine else {})
        return pages.render(request, "expert_application.html", status_code=status_code, error=error, sub=sub,
                            panel=found.panel, closed=closed, score=mine, others=others, versions=versions,
                            criteria=app.policy.catalogue.review.criteria, entered=shown,
                            field_labels=FIELD_LABELS)


@route("/expert/{reference}", allow=EXPERT)
def application(request: Request, access: Access) -> Response:
    return _page(request, access, request.path_params["reference"])


@route("/expert/{reference}/score", allow=EXPERT, methods=["POST"])
def score(request: Request, access: Access) -> Response:
    reference = request.path_params["reference"]
    app = auth.jb(request)
    criteria = app.policy.catalogue.review.criteria
    marks: dict[str, object] = {c.name: access.field(f"mark-{i}", 20) for i, c in enumerate(criteria)}
    comment = access.field("comment", 5000).strip()
    with Session(app.engine) as session:
        expert, found = _assigned(session, access, reference)
        try:  # the function `jiebang review score` and the sheet import use
            done = enter_score(session, app.policy.catalogue.review, expert, found.sub, marks, comment=comment,
                               source="workspace", actor=access.user.name)
        except ReviewRefused as exc:
            session.rollback()
            entered = {c.name: str(marks[c.name]) for c in criteria} | {"comment": comment}
            return _page(request, access, reference, error=f"评分未保存：{exc}", status_code=400, entered=entered)
        total = done.total
        session.commit()
    return notices.redirect(request, f"/expert/{quote(reference)}", done=f"评分已保存，总分 {total:g} 分")


@route("/expert/{reference}/recuse", allow=EXPERT, methods=["POST"])
def recuse(request: Request, access: Access) -> Response:
    reference = request.path_params["reference"]
    if access.field("confirm") != "1":
        return notices.redirect(request, f"/expert/{quote(reference)}",
                                error="请勾选“确认申明回避”后再提交，未作任何更改")
    with Session(auth.jb(request).engine) as session:
        expert, found = _assigned(session, access, reference)
        try:
            add_recusal(session, expert, found.sub, reason="declared", note=access.field("note").strip(),
                        actor=access.user.name)
        except ReviewRefused as exc:
            session.rollback()
            return notices.redirect(request, f"/expert/{quote(reference)}", error=str(exc))
        session.commit()
    return notices.redirect(request, "/expert", done=f"已申明回避 {reference}，该申报不再由您评分")


# --- documents: only those of an application the expert scores ------------------------------
def _document(request: Request, access: Access) -> tuple[DocumentRef, bytes]:
    app = auth.jb(request)
    name = request.query_params.get("name", "")
    number: int = request.path_params["version"]
    with Session(app.engine) as session:
        _, found = _assigned(session, access, request.path_params["reference"])
        version = session.exec(select(SubmissionVersion).where(
            SubmissionVersion.submission_id == found.sub.id, SubmissionVersion.number == number)
            .order_by(col(SubmissionVersion.id))).first()
        if version is None or name not in version.documents:
            raise HTTPException(404, NOT_ATTACHED)
        msg = session.get(StoredMessage, version.message_pk)
        raw_sha = msg.raw_sha256 if msg is not None else None
    data = attachment(app.blobs, raw_sha, name)  # the stored mail is parsed without a session
    if data is None:
        raise HTTPException(404, NOT_ATTACHED)
    return DocumentRef(number, name), data


@route("/expert/{reference}/v{version:id}/file", allow=EXPERT)
def original(request: Request, access: Access) -> Response:
    ref, data = _document(request, access)
    return Response(data, media_type="application/octet-stream",
                    headers={"content-disposition": disposition("attachment", ref.name)})


@route("/expert/{reference}/v{version:id}/preview", allow=EXPERT)
async def expert_preview(request: Request, access: Access) -> Response:
    """Awaits only, as the staff's preview (the same queue and per-account slots)."""
    return await preview(request, access, _document)
