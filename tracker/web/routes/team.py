"""A team's tools: who handles a submission (one, or every row of a filter), internal notes,
and each user's saved filters of the list.

A city account assigns only what its city recommended, to its own city's colleagues; a
bulk assignment acts on exactly the rows the list's filter (and the account's scope)
matches, as the held replies are released by filter.
"""

from __future__ import annotations

from urllib.parse import quote

from sqlmodel import Session, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from tracker.records import assignments, notes, saved_filters
from tracker.store.tables import Submission
from tracker.web import auth, notices
from tracker.web.auth import Access
from tracker.web.guard import STAFF, router
from tracker.web.listing import FILTERS, ListRequest

ROUTES: list[BaseRoute] = []
route = router(ROUTES)

MAX_BULK = 2000  # rows one bulk assignment may touch: a filter that wide is a mistake


def _back(request: Request, reference: str, *, done: str = "", error: str = "") -> Response:
    return notices.redirect(request, f"/submissions/{quote(reference)}", done=done, error=error)


@route("/submissions/{reference}/assign", allow=STAFF, methods=["POST"])
def assign(request: Request, access: Access) -> Response:
    reference = request.path_params["reference"]
    name = access.field("assignee", 100)
    with Session(auth.jb(request).engine) as session:
        sub = access.submission(session, reference)
        if access.city is not None and name and name not in {u.name for u in assignments.colleagues(
                session, sub, city=access.city)}:
            return _back(request, sub.reference, error=f"不能分派给 {name[:40]}：只能分派给本市的同事")
        try:
            changed = assignments.assign_submission(session, sub, name, actor=access.actor)
        except assignments.AssignError as exc:
            return _back(request, sub.reference, error=str(exc))
        session.commit()
        ref = sub.reference
    if not changed:
        return _back(request, ref, done="经办人未变")
    return _back(request, ref, done=f"已分派给 {name}" if name else "已取消分派")


@route("/submissions/{reference}/note", allow=STAFF, methods=["POST"])
def add_note(request: Request, access: Access) -> Response:
    reference = request.path_params["reference"]
    with Session(auth.jb(request).engine) as session:
        sub = access.submission(session, reference)
        try:
            notes.add_note(session, sub, access.field("text", notes.MAX_NOTE + 1), author=access.actor)
        except notes.NoteError as exc:
            return _back(request, sub.reference, error=str(exc))
        session.commit()
        ref = sub.reference
    return notices.redirect(request, f"/submissions/{quote(ref)}#notes", done="已添加内部备注")


@route("/submissions/assign", allow=STAFF, methods=["POST"])
def assign_filtered(request: Request, access: Access) -> Response:
    """Every row the posted filter matches (within the account's scope) to one colleague."""
    asked = ListRequest.of(access.form or {})
    back = f"/submissions?{asked.query()}"
    name = access.field("assignee", 100)
    if not name:
        return notices.redirect(request, back, error="请选择经办人")
    which = asked.which(recommended_by=access.scope.recommended_by, user_id=access.user.user_id)
    with Session(auth.jb(request).engine) as session:
        if access.city is not None and name not in {u.name for u in assignments.colleagues(session, city=access.city)}:
            return notices.redirect(request, back, error=f"不能分派给 {name[:40]}：只能分派给本市的同事")
        subs = list(session.exec(which.apply(select(Submission)).order_by(Submission.reference)
                                 .limit(MAX_BULK + 1)).all())
        if len(subs) > MAX_BULK:
            return notices.redirect(request, back, error=f"符合条件的申报超过 {MAX_BULK} 项，请先缩小筛选范围")
        changed = 0
        try:
            for sub in subs:
                changed += assignments.assign_submission(session, sub, name, actor=access.actor)
        except assignments.AssignError as exc:
            session.rollback()
            return notices.redirect(request, back, error=str(exc))
        session.commit()
    return notices.redirect(request, back, done=f"已将符合条件的 {len(subs)} 项分派给 {name}（其中 {changed} 项经办人有变化）")


# --- saved filters ---------------------------------------------------------------------------------
@route("/filters", allow=STAFF, methods=["POST"], writes=False)  # one's own list view: a viewer's too
def save_filter(request: Request, access: Access) -> Response:
    asked = ListRequest.of(access.form or {})
    query = asked.query()
    if not any(asked.chosen[k] for k in FILTERS):
        return notices.redirect(request, f"/submissions?{query}", error="当前没有任何筛选条件，无需保存")
    with Session(auth.jb(request).engine) as session:
        try:
            row = saved_filters.save(session, access.user.user_id, access.field("name", 100), query,
                                     actor=access.actor)
        except saved_filters.FilterError as exc:
            return notices.redirect(request, f"/submissions?{query}", error=str(exc))
        session.commit()
        name = row.name
    return notices.redirect(request, f"/submissions?{query}", done=f"已保存筛选“{name}”")


@route("/filters/{filter_id:id}/delete", allow=STAFF, methods=["POST"], writes=False)
def delete_filter(request: Request, access: Access) -> Response:
    with Session(auth.jb(request).engine) as session:
        if not saved_filters.delete(session, access.user.user_id, request.path_params["filter_id"]):
            raise HTTPException(404, "没有这个已保存的筛选")
        session.commit()
    return notices.redirect(request, "/submissions", done="已删除筛选")
