"""City: its own intake, its ranked recommendations (at most ``city_quota`` per direction,
enforced by ``records.city``, the functions of `jiebang recommend`) and its 推荐汇总表.

A city account sees here only what its city recommended (``Scope``), never province-direct
applications of units registered in the city."""

from __future__ import annotations

from urllib.parse import quote

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from tracker.records.city import RecommendError, ranked, recommend, remove
from tracker.records.queries import submission_rows
from tracker.reports.workbook import province_tables
from tracker.web import auth, notices, pages
from tracker.web.auth import Access
from tracker.web.guard import STAFF, router, small_int

ROUTES: list[BaseRoute] = []
route = router(ROUTES)


def _city(request: Request, access: Access) -> str:
    policy = auth.jb(request).policy
    city = access.city or (policy.city if policy.role == "city" else None) \
        or request.query_params.get("city") or ""
    if city not in policy.catalogue.cities:
        raise HTTPException(404, "请选择城市")
    if policy.role == "city" and city != policy.city:
        raise HTTPException(404, "本系统为市级部署，只有本市的推荐")
    return city


@route("/city", allow=STAFF)
def page(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    if not request.query_params.get("city") and not access.city and app.policy.role != "city":
        return pages.render(request, "city_pick.html", cities=app.policy.catalogue.cities)
    city = _city(request, access)
    ranking_here = app.policy.role == "city"
    with Session(app.engine) as session:
        ranking = [(rec, sub) for rec, sub in ranked(session, app.policy)
                   if access.scope.sees(sub)] if ranking_here else []
        received = [] if ranking_here else province_tables(session, app.policy).get(city, [])
    rows = submission_rows(app.engine, city=city, recommended_by=access.scope.recommended_by)
    return pages.render(request, "city.html", city=city, rows=rows, ranking=ranking, received=received,
                        ranking_here=ranking_here, quota=app.policy.catalogue.city_quota)


@route("/city/recommend", allow=STAFF, methods=["POST"])
def change(request: Request, access: Access) -> Response:
    city = _city(request, access)
    app = auth.jb(request)
    back = f"/city?city={quote(city)}"
    with Session(app.engine) as session:
        sub = access.submission(session, access.field("reference", 40))
        try:  # the quota and the ranks are the records' rules, not this page's
            if access.field("action") == "remove":
                notes = [f"{sub.reference} 已移出推荐"] if remove(session, app.policy, sub, actor=access.actor) \
                    else [f"{sub.reference} 不在推荐名单中"]
            else:
                rank = small_int(access.field("rank") or "1", 3) or 0
                notes = recommend(session, app.policy, sub, rank, actor=access.actor) or [f"{sub.reference} 未变化"]
        except RecommendError as exc:
            session.rollback()
            return notices.redirect(request, back, error=str(exc))
        session.commit()
    return notices.redirect(request, back, done="；".join(notes))
