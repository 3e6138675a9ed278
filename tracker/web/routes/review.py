"""Formal review (形式审查) with the credit checks of every unit, and the expert panels
(评审组): who scores what, conflicts (回避), closing a panel, inviting its experts.

Province staff only; every change goes through the function the CLI calls
(``tracker/cli/review.py``), so a refusal reads the same (``ReviewRefused``, Chinese).
"""

from __future__ import annotations

from urllib.parse import quote

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from campaign.labels import (
    ACCEPTANCE_LABELS,
    CONFLICT_LABELS,
    CREDIT_LABELS,
    CREDIT_SOURCES,
    FORMAL_LABELS,
)
from tracker.outreach.experts import invite_panel
from tracker.records import acceptance
from tracker.records.queries import find_submission
from tracker.records.review import ReviewRefused
from tracker.records.review import credit as credits
from tracker.records.review import experts as panels_
from tracker.records.review.formal import fail_formally, pass_formally
from tracker.records.review.scores import close_panel, scores_of
from tracker.records.review.units import key_of, units_of
from tracker.reports.panels import overview
from tracker.store.locks import records_lock
from tracker.store.tables import CreditCheck, Submission, SubmissionStatus
from tracker.web import auth, notices, pages, uploads
from tracker.web.auth import Access
from tracker.web.guard import PROVINCE, router
from tracker.web.routes.documents import disposition

ROUTES: list[BaseRoute] = []
route = router(ROUTES)
upload = uploads.router(ROUTES)

NEEDS_REASON = "形式审查不通过须写明原因，未作任何更改"


# --- formal review -----------------------------------------------------------------------
@route("/review/formal", allow=PROVINCE)
def formal_list(request: Request, access: Access) -> Response:
    with Session(auth.jb(request).engine) as session:
        subs = session.exec(select(Submission).where(Submission.status != SubmissionStatus.withdrawn)
                            .order_by(col(Submission.reference))).all()
        rows = []
        for sub in subs:  # each unit beside its latest credit result (None: not looked up yet)
            units = units_of(sub)
            checks = credits.latest_checks(session, units)
            rows.append((sub, [(u, checks.get(u.key)) for u in units]))
    return pages.render(request, "review_formal.html", rows=rows, formal_labels=FORMAL_LABELS, results=CREDIT_LABELS,
                        waiting=sum(1 for s, _ in rows if s.formal is None))


def _formal_page(request: Request, access: Access, reference: str) -> Response:
    with Session(auth.jb(request).engine) as session:
        sub = access.submission(session, reference)
        units = units_of(sub)
        checks = credits.latest_checks(session, units)
        return pages.render(request, "review_formal_one.html", sub=sub, formal_labels=FORMAL_LABELS,
                            units=[(u, checks.get(u.key)) for u in units],
                            dishonest=credits.dishonest_units(session, sub),
                            results=CREDIT_LABELS, sources=CREDIT_SOURCES)


@route("/review/formal/{reference}", allow=PROVINCE)
def formal_one(request: Request, access: Access) -> Response:
    return _formal_page(request, access, request.path_params["reference"])


def _back(request: Request, reference: str, *, done: str = "", error: str = "") -> Response:
    return notices.redirect(request, f"/review/formal/{quote(reference)}", done=done, error=error)


@route("/review/formal/{reference}/verdict", allow=PROVINCE, methods=["POST"])
def verdict(request: Request, access: Access) -> Response:
    reference = request.path_params["reference"]
    outcome, reason = access.field("verdict", 10), access.field("reason").strip()
    if outcome not in ("pass", "fail"):
        return _back(request, reference, error="请选择“通过”或“不通过”，未作任何更改")
    if outcome == "fail" and not reason:
        return _back(request, reference, error=NEEDS_REASON)
    with Session(auth.jb(request).engine) as session, records_lock(session):
        sub = access.submission(session, reference)
        try:  # as `jiebang review formal`
            if outcome == "pass":
                pass_formally(session, sub, actor=access.actor, note=reason,
                              dishonest=credits.dishonest_units(session, sub))
            else:
                fail_formally(session, sub, reason, actor=access.actor)
        except ReviewRefused as exc:
            session.rollback()
            return _back(request, reference, error=str(exc))
        session.commit()
    return _back(request, reference, done="形式审查：" + ("通过" if outcome == "pass" else f"不通过（{reason}）"))


@upload("/review/formal/{reference}/credit", allow=PROVINCE)
def credit(request: Request, access: Access) -> Response:
    """One unit's credit result, with its evidence file (a screenshot or the PDF of the query)."""
    reference = request.path_params["reference"]
    app = auth.jb(request)
    try:
        evidence = uploads.uploaded(access)
    except ValueError as exc:
        return _back(request, reference, error=str(exc))
    digest = app.blobs.put(evidence[1]) if evidence else None  # stored before the row that names it
    with Session(app.engine) as session, records_lock(session):
        sub = access.submission(session, reference)
        wanted = access.field("unit", 300)
        unit = next((u for u in units_of(sub) if u.key == wanted), None)
        if unit is None:
            raise HTTPException(404, "此申报没有这个单位")
        try:  # as `jiebang credit record`: the lead by its code, a partner by its name
            who = unit.name if unit.key.startswith("name:") else (unit.uscc or unit.name)
            done = credits.record_credit(session, who, access.field("result", 20),
                                         access.field("source", 20), actor=access.actor,
                                         note=access.field("note").strip(), evidence_sha256=digest,
                                         evidence_name=evidence[0] if evidence else None)
        except ReviewRefused as exc:
            session.rollback()
            return _back(request, reference, error=str(exc))
        said = f"已记录{unit.name or unit.uscc}的信用查询结果：{CREDIT_LABELS[done.check.result]}"
        session.commit()
    if done.failed:
        said += f"；因严重失信，形式审查不通过：{'、'.join(done.failed)}"
    return _back(request, reference, done=said)


@route("/review/formal/{reference}/credit/{check:id}/evidence", allow=PROVINCE)
def evidence_file(request: Request, access: Access) -> Response:
    """A credit check's evidence, from the page of an application of that unit."""
    app = auth.jb(request)
    with Session(app.engine) as session:
        sub = access.submission(session, request.path_params["reference"])
        row = session.get(CreditCheck, request.path_params["check"])
        keys = {u.key for u in units_of(sub)} | {key_of(u.name, None) for u in units_of(sub)}
        if row is None or not row.evidence_sha256 or row.unit_key not in keys:
            raise HTTPException(404, "没有这份查询凭证")
        digest, name = row.evidence_sha256, row.evidence_name or "信用查询凭证"
    return Response(app.blobs.get(digest), media_type="application/octet-stream",
                    headers={"content-disposition": disposition("attachment", name)})


# --- panels ------------------------------------------------------------------------------
@route("/review/panels", allow=PROVINCE)
def panels(request: Request, access: Access) -> Response:
    with Session(auth.jb(request).engine) as session:
        rows = overview(session)
        conflicts = panels_.all_conflicts(session)
        people = [e.name for e in panels_.experts(session)]
    return pages.render(request, "review_panels.html", rows=rows, conflicts=conflicts, experts=people,
                        conflict_labels=CONFLICT_LABELS)


def _to_panels(request: Request, *, done: str = "", error: str = "") -> Response:
    return notices.redirect(request, "/review/panels", done=done, error=error)


@route("/review/conflicts", allow=PROVINCE, methods=["POST"])
def add_conflict(request: Request, access: Access) -> Response:
    reference, name = access.field("reference", 40).strip(), access.field("expert", 100)
    with Session(auth.jb(request).engine) as session, records_lock(session):
        sub = find_submission(session, reference) if reference else None
        if sub is None:
            return _to_panels(request, error=f"没有受理编号为“{reference}”的申报，未作任何更改")
        reference = sub.reference
        try:  # as `jiebang review conflict`: a score already given is withdrawn
            expert = panels_.expert_named(session, name)
            name = expert.name
            panels_.add_recusal(session, expert, sub, reason="staff", note=access.field("note").strip(),
                                actor=access.actor)
        except ReviewRefused as exc:
            session.rollback()
            return _to_panels(request, error=str(exc))
        session.commit()
    return _to_panels(request, done=f"已指定 {name} 回避 {reference}")


@route("/review/panels/close", allow=PROVINCE, methods=["POST"])
def close(request: Request, access: Access) -> Response:
    if access.field("confirm") != "1":
        return _to_panels(request, error="请勾选“确认结束评分”后再提交，未作任何更改")
    with Session(auth.jb(request).engine) as session:
        try:
            panel = panels_.panel_named(session, access.field("panel", 100))
            close_panel(session, panel, actor=access.actor)
        except ReviewRefused as exc:
            return _to_panels(request, error=str(exc))
        name = panel.name
        session.commit()
    return _to_panels(request, done=f"评审组“{name}”已结束评分")


@route("/review/panels/invite", allow=PROVINCE, methods=["POST"])
def invite(request: Request, access: Access) -> Response:
    app = auth.jb(request)
    remind = access.field("remind") == "1"
    web = app.settings.web
    with Session(app.engine) as session:
        try:  # as `jiebang review invite`: a sign-in link, never an application's data
            panel = panels_.panel_named(session, access.field("panel", 100))
            sent = invite_panel(session, app.policy, app.reply_settings, panel,
                                sign_in=web.public_url or f"http://{web.host}:{web.port}/login",
                                remind=remind, actor=access.actor)
        except ReviewRefused as exc:
            session.rollback()
            return _to_panels(request, error=str(exc))
        name = panel.name
        session.commit()
    what = "提醒" if remind else "邀请"
    if not sent:
        return _to_panels(request, done=f"评审组“{name}”：没有需要发送{what}的专家（已发送过或均已评完）")
    return _to_panels(request, done=f"评审组“{name}”：已向 {'、'.join(sent)} 发送{what}邮件")


# --- on a submission's page ----------------------------------------------------------------
@route("/submissions/{reference}/after-intake", allow=PROVINCE)
def after_intake(request: Request, access: Access) -> Response:
    """What happened after intake, for the submission's page (loaded into it by htmx):
    formal review, credit results, the experts' scores, acceptance."""
    with Session(auth.jb(request).engine) as session:
        sub = access.submission(session, request.path_params["reference"])
        units = units_of(sub)
        checks = credits.latest_checks(session, units)
        return pages.render(request, "_after_intake.html", sub=sub, formal_labels=FORMAL_LABELS,
                            credit_labels=CREDIT_LABELS, units=[(u, checks.get(u.key)) for u in units],
                            scores=scores_of(session, sub), acceptance_labels=ACCEPTANCE_LABELS,
                            request_=acceptance.latest_request(session, sub),
                            decision=acceptance.latest_decision(session, sub))
