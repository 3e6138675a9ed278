"""To confirm: claims (strangers quoting a reference or a credit code) and unverified city
packages — decided by the same functions as `jiebang claim confirm|reject`."""

from __future__ import annotations

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from tracker.records import claims as claim_records
from tracker.store.locks import records_lock
from tracker.web import auth, notices, pages
from tracker.web.auth import Access
from tracker.web.guard import PROVINCE, router

ROUTES: list[BaseRoute] = []
route = router(ROUTES)


@route("/confirm", allow=PROVINCE)
def pending(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    with Session(app.engine) as session:
        rows = claim_records.review(session, app.policy.code)  # what `jiebang claims` lists
    return pages.render(request, "confirm.html", rows=rows)


@route("/confirm/{claim_id:id}/{action:str}", allow=PROVINCE, methods=["POST"])  # confirm | reject
def decide(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    action = request.path_params["action"]
    if action not in ("confirm", "reject"):
        raise HTTPException(404)
    claim_id: int = request.path_params["claim_id"]
    note = access.field("note")
    # confirming records the mail's submissions: numbered under the same lock as the service's
    with Session(app.engine, expire_on_commit=False) as session, records_lock(session):
        try:
            held = claim_records.get(session, claim_id)
            if action == "confirm":  # as `jiebang claim confirm`
                touched = app.applier.confirm(session, held, actor=access.actor, note=note,
                                              transfer=access.field("transfer") == "1")
                done = f"#{claim_id} 已确认：" + ("、".join(s.reference for s, _, _ in touched.versions) or "无新增版本")
            else:
                app.applier.reject(session, held, actor=access.actor, note=note)
                done = f"#{claim_id} 已驳回"
        except claim_records.ClaimError as exc:
            return notices.redirect(request, "/confirm", error=str(exc))
        session.commit()
    return notices.redirect(request, "/confirm", done=done)
