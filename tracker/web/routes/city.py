"""City: its own intake, its ranked recommendations (at most ``city_quota`` per direction,
enforced by ``records.city``, the functions of `jiebang recommend`) and its 推荐汇总表."""

from __future__ import annotations

from urllib.parse import quote

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tracker.records.city import RecommendError, ranked, recommend, remove
from tracker.records.queries import find_submission, submission_rows
from tracker.reports.workbook import province_tables
from tracker.web import auth, pages


def _city(request: Request) -> str:
    user = auth.require(request)
    policy = auth.jb(request).policy
    city = auth.scope_city(user) or (policy.city if policy.role == "city" else None) \
        or request.query_params.get("city") or ""
    if city not in policy.catalogue.cities:
        raise HTTPException(404, "请选择城市")
    if policy.role == "city" and city != policy.city:
        raise HTTPException(404, "本系统为市级部署，只有本市的推荐")
    return city


def page(request: Request) -> Response:
    user = auth.require(request)
    app = auth.jb(request)
    if not request.query_params.get("city") and not auth.scope_city(user) and app.policy.role != "city":
        return pages.render(request, "city_pick.html", cities=app.policy.catalogue.cities)
    city = _city(request)
    ranking_here = app.policy.role == "city"
    with Session(app.engine) as session:
        ranking = [(rec, sub) for rec, sub in ranked(session, app.policy)] if ranking_here else []
        received = [] if ranking_here else province_tables(session, app.policy).get(city, [])
    rows = submission_rows(app.engine, city=city)
    return pages.render(request, "city.html", city=city, rows=rows, ranking=ranking, received=received,
                        ranking_here=ranking_here, quota=app.policy.catalogue.city_quota,
                        notice=request.query_params.get("done", "")[:200],
                        error=request.query_params.get("error", "")[:400])


async def change(request: Request) -> Response:
    city = _city(request)
    user, form = await auth.posted(request)
    app = auth.jb(request)
    reference = str(form.get("reference") or "")
    with Session(app.engine) as session:
        sub = find_submission(session, reference)
        if sub is None or not auth.can_see(user, sub):
            raise HTTPException(404, f"没有受理编号为 {reference[:40]} 的申报")
        try:  # the quota and the ranks are the records' rules, not this page's
            if form.get("action") == "remove":
                notes = [f"{sub.reference} 已移出推荐"] if remove(session, app.policy, sub, actor=auth.actor(user)) \
                    else [f"{sub.reference} 不在推荐名单中"]
            else:
                rank = int(str(form.get("rank") or "1")) if str(form.get("rank") or "1").isdigit() else 0
                notes = recommend(session, app.policy, sub, rank, actor=auth.actor(user)) or [f"{sub.reference} 未变化"]
        except RecommendError as exc:
            session.rollback()
            return RedirectResponse(f"/city?city={quote(city)}&error={quote(str(exc))}", status_code=303)
        session.commit()
    return RedirectResponse(f"/city?city={quote(city)}&done={quote('；'.join(notes))}", status_code=303)


ROUTES = [
    Route("/city", page, methods=["GET"]),
    Route("/city/recommend", change, methods=["POST"]),
]
