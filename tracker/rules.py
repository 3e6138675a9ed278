"""Rules across messages: one lead unit, one direction; at most 2 per city per direction.

Each rule recomputes its deficiencies from the records and opens or resolves them,
so re-running after any change (or after a crash) converges to the same state.
"""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, col, select

from tracker.events import record
from tracker.models import StoredMessage, utcnow
from tracker.records_models import (
    CityPackage,
    DeficiencyRecord,
    DeficiencyState,
    Event,
    RecommendationRow,
    Submission,
    SubmissionStatus,
)
from tracker.status import refresh_status

CITY_QUOTA = 2
DIRECTION_NAMES = {
    1: "数据产权保护", 2: "数据治理", 3: "公共数据资源授权运营", 4: "数据流通交易",
    5: "数据收益分配", 6: "数据流通利用技术", 7: "数据产业发展", 8: "数据安全",
}


def _open(session: Session, code: str, **where: object) -> list[DeficiencyRecord]:
    stmt = select(DeficiencyRecord).where(DeficiencyRecord.code == code,
                                          DeficiencyRecord.state == DeficiencyState.open)
    for name, value in where.items():
        stmt = stmt.where(getattr(DeficiencyRecord, name) == value)
    return list(session.exec(stmt).all())


def _reconcile(session: Session, code: str, wanted: dict[tuple[str, int], str],
               cause: StoredMessage | None, scope: list[DeficiencyRecord]) -> set[int]:
    """Make the open ``code`` rows equal ``wanted`` ((owner kind, id) → message)."""
    touched: set[int] = set()
    have = {("sub" if r.submission_id else "pkg", r.submission_id or r.package_id): r for r in scope}
    for owner, row in have.items():
        if owner not in wanted:
            row.state, row.resolved_at, row.resolution = DeficiencyState.resolved, utcnow(), "已不再存在"
            session.add(row)
            _log(session, "deficiency_resolved", owner, code, cause)
            if owner[0] == "sub":
                touched.add(owner[1])
    for owner, message in wanted.items():
        if owner in have:
            continue
        kind, pk = owner
        session.add(DeficiencyRecord(
            submission_id=pk if kind == "sub" else None, package_id=pk if kind == "pkg" else None,
            message_pk=cause.id if cause else None, code=code, severity="error", message=message,
        ))
        _log(session, "deficiency_opened", owner, code, cause)
        if kind == "sub":
            touched.add(pk)
    return touched


def _log(session: Session, kind: str, owner: tuple[str, int], code: str, cause: StoredMessage | None) -> None:
    session.add(Event(kind=kind, submission_id=owner[1] if owner[0] == "sub" else None,
                      package_id=owner[1] if owner[0] == "pkg" else None,
                      message_pk=cause.id if cause else None, detail=code))


def refresh_duplicate_leads(session: Session, round_code: str, cause: StoredMessage | None = None) -> set[int]:
    subs = session.exec(
        select(Submission).where(Submission.round_code == round_code,
                                 Submission.status != SubmissionStatus.withdrawn,
                                 col(Submission.lead_key).not_like("unidentified:%"))
    ).all()
    by_lead: dict[str, list[Submission]] = defaultdict(list)
    for sub in subs:
        by_lead[sub.lead_key].append(sub)
    wanted: dict[tuple[str, int], str] = {}
    for group in by_lead.values():
        directions = {s.direction for s in group}
        if len(directions) > 1:
            refs = "、".join(f"{s.reference}（方向{s.direction}）" for s in group)
            for sub in group:
                wanted[("sub", sub.id)] = f"{sub.unit or '该单位'}作为揭榜单位牵头申报了多个方向：{refs}；每个揭榜单位限牵头申报1个方向。"
    scope = [r for r in _open(session, "DUPLICATE_LEAD") if r.submission_id]
    touched = _reconcile(session, "DUPLICATE_LEAD", wanted, cause, scope)
    _refresh(session, touched, cause)
    return touched


def refresh_city_quota(session: Session, round_code: str, city: str, cause: StoredMessage | None = None) -> set[int]:
    packages = session.exec(
        select(CityPackage).where(CityPackage.round_code == round_code, CityPackage.city == city,
                                  col(CityPackage.current).is_(True))
    ).all()
    rows = session.exec(
        select(RecommendationRow).where(col(RecommendationRow.package_id).in_([p.id for p in packages] or [-1]))
    ).all()
    by_direction: dict[int, list[RecommendationRow]] = defaultdict(list)
    for row in rows:
        by_direction[row.direction].append(row)
    wanted: dict[tuple[str, int], str] = {}
    for direction, group in by_direction.items():
        if direction and len(group) > CITY_QUOTA:
            group.sort(key=lambda r: (r.rank, r.id))
            name = DIRECTION_NAMES.get(direction, str(direction))
            text = f"{city}在“{name}”方向推荐了{len(group)}项，超过每个方向最多推荐{CITY_QUOTA}项的限额。"
            for row in group:
                wanted[("pkg", row.package_id)] = text
            for row in group[CITY_QUOTA:]:
                if row.submission_id:
                    wanted[("sub", row.submission_id)] = text + f"本项排序第{row.rank}，超出限额。"
    city_packages = set(session.exec(select(CityPackage.id).where(CityPackage.city == city)).all())
    scope = [r for r in _open(session, "CITY_QUOTA_EXCEEDED")
             if r.package_id in city_packages or (r.submission_id and _sub_in_city(session, r.submission_id, city))]
    touched = _reconcile(session, "CITY_QUOTA_EXCEEDED", wanted, cause, scope)
    _refresh(session, touched, cause)
    if wanted:
        record(session, "quota_checked", message=cause, detail=f"{city}: over quota")
    return touched


def _sub_in_city(session: Session, sub_id: int, city: str) -> bool:
    sub = session.get(Submission, sub_id)
    return sub is not None and sub.city == city


def _refresh(session: Session, sub_ids: set[int], cause: StoredMessage | None) -> None:
    session.flush()
    for pk in sub_ids:
        sub = session.get(Submission, pk)
        if sub is not None:
            refresh_status(session, sub, cause=cause)
