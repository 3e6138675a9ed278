"""To confirm: claims (strangers quoting a reference or a credit code) and unverified city
packages — decided by the same functions as `jiebang claim confirm|reject`."""

from __future__ import annotations

from urllib.parse import quote

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tracker.records import claims as claim_records
from tracker.store.locks import records_lock
from tracker.web import auth, pages


def pending(request: Request) -> Response:
    auth.require_province(request)
    app = auth.jb(request)
    with Session(app.engine) as session:
        rows = claim_records.review(session, app.policy.code)  # what `jiebang claims` lists
    return pages.render(request, "confirm.html", rows=rows, notice=request.query_params.get("done", "")[:200],
                        error=request.query_params.get("error", "")[:300])


async def decide(request: Request) -> Response:
    auth.require_province(request)
    user, form = await auth.posted(request)
    app = auth.jb(request)
    action = request.path_params["action"]
    if action not in ("confirm", "reject"):
        raise HTTPException(404)
    claim_id = int(request.path_params["claim_id"])
    note = str(form.get("note") or "")[:500]
    # confirming records the mail's submissions: numbered under the same lock as the service's
    with Session(app.engine, expire_on_commit=False) as session, records_lock(session):
        try:
            held = claim_records.get(session, claim_id)
            if action == "confirm":  # as `jiebang claim confirm`
                touched = app.applier.confirm(session, held, actor=auth.actor(user), note=note,
                                              transfer=form.get("transfer") == "1")
                done = f"#{claim_id} 已确认：" + ("、".join(s.reference for s, _, _ in touched.versions) or "无新增版本")
            else:
                app.applier.reject(session, held, actor=auth.actor(user), note=note)
                done = f"#{claim_id} 已驳回"
        except claim_records.ClaimError as exc:
            return RedirectResponse(f"/confirm?error={quote(str(exc))}", status_code=303)
        session.commit()
    return RedirectResponse(f"/confirm?done={quote(done)}", status_code=303)


ROUTES = [
    Route("/confirm", pending, methods=["GET"]),
    Route("/confirm/{claim_id:int}/{action:str}", decide, methods=["POST"]),  # confirm | reject
]
