"""City role: a city bureau ranks the applications it recommends.

The notice (四.（二）) has each city recommend at most ``city_quota`` applications per
direction (2 in 2025), in ranked order. Ranks are unique per direction in the database,
so two staff at once can never store the same place twice; the quota itself comes from
the catalogue. The 推荐汇总表 these rankings make is in ``tracker.reports.recommendation``.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from campaign.policy import RoundPolicy
from tracker.records.events import record
from tracker.store.tables import CityRecommendation, Submission, SubmissionStatus


class RecommendError(Exception):
    """Staff asked for a recommendation the rules do not allow; the message is one line."""


class QuotaExceeded(RecommendError):
    """A third application in one direction."""


def _city(policy: RoundPolicy) -> str:
    if policy.role != "city" or not policy.city:
        raise RecommendError("推荐排序仅用于市级部署（config: role: city）/ recommendations need role: city")
    return policy.city


def ranked(session: Session, policy: RoundPolicy) -> list[tuple[CityRecommendation, Submission]]:
    """The city's recommendations by direction and rank."""
    stmt = (select(CityRecommendation, Submission).join(Submission, col(Submission.id) == col(CityRecommendation.submission_id))
            .where(CityRecommendation.round_code == policy.code, CityRecommendation.city == (policy.city or ""))
            .order_by(col(CityRecommendation.direction), col(CityRecommendation.rank)))
    return list(session.exec(stmt).all())


def _quota_message(label: str, direction: int, peers: list[tuple[CityRecommendation, str]], quota: int) -> str:
    names = "、".join(f"{ref}（第{r.rank}位）" for r, ref in peers)
    refs = ", ".join(f"{ref} (rank {r.rank})" for r, ref in peers)
    return (f"每个榜单方向每市最多推荐{quota}项：{label}已推荐 {names}，"
            f"请先移除一项（jiebang recommend REF --remove）/ At most {quota} recommendations per "
            f"direction: direction {direction} already has {refs}; remove one first.")


def recommend(session: Session, policy: RoundPolicy, sub: Submission, rank: int, *, actor: str) -> list[str]:
    """Put *sub* at *rank* in its direction; the other one there moves to the free rank.

    Returns what changed, in Chinese; raises RecommendError / QuotaExceeded (nothing written).
    """
    city = _city(policy)
    quota = policy.catalogue.city_quota
    if rank not in range(1, quota + 1):
        raise RecommendError(f"推荐顺序只能是1或{quota} / rank must be 1..{quota}")
    if not sub.direction:
        raise RecommendError(f"{sub.reference} 未识别榜单方向，无法推荐 / {sub.reference} has no direction yet")
    if sub.status == SubmissionStatus.withdrawn:
        raise RecommendError(f"{sub.reference} 已撤回，不能推荐 / {sub.reference} is withdrawn")
    assert sub.id is not None  # a stored submission
    rows = session.exec(select(CityRecommendation).where(
        CityRecommendation.round_code == policy.code, CityRecommendation.city == city,
        (CityRecommendation.direction == sub.direction) | (CityRecommendation.submission_id == sub.id))).all()
    peers = [r for r in rows if r.submission_id != sub.id and r.direction == sub.direction]
    if len(peers) >= quota:
        refs = [(r, session.get(Submission, r.submission_id).reference) for r in peers]  # type: ignore[union-attr]  # a foreign key: it exists
        raise QuotaExceeded(_quota_message(policy.catalogue.direction_label(sub.direction), sub.direction, sorted(refs, key=lambda x: x[0].rank), quota))
    wanted = {sub.id: rank} | {p.submission_id: (quota + 1 - rank) if p.rank == rank else p.rank for p in peers}
    before = {r.submission_id: (r.direction, r.rank) for r in rows}
    for r in rows:  # delete, then insert: the unique (direction, rank) never sees two at once
        session.delete(r)
    session.flush()
    notes = []
    for sid, new_rank in sorted(wanted.items(), key=lambda kv: kv[1]):
        session.add(CityRecommendation(round_code=policy.code, city=city, direction=sub.direction, rank=new_rank,
                                       submission_id=sid, actor=actor))
        if before.get(sid) != (sub.direction, new_rank):
            other = sub if sid == sub.id else session.get(Submission, sid)
            note = f"{other.reference} {policy.catalogue.direction_label(sub.direction)} 第{new_rank}位"  # type: ignore[union-attr]  # a foreign key: it exists
            record(session, "recommended", submission=other, actor=actor, detail=note)
            notes.append(note)
    session.flush()
    return notes


def remove(session: Session, policy: RoundPolicy, sub: Submission, *, actor: str) -> bool:
    """Withdraw the city's recommendation of *sub*; the one ranked after it moves up."""
    city = _city(policy)
    row = session.exec(select(CityRecommendation).where(CityRecommendation.round_code == policy.code,
                                                        CityRecommendation.submission_id == sub.id)).first()
    if row is None:
        return False
    direction, rank = row.direction, row.rank
    session.delete(row)
    session.flush()
    record(session, "recommendation_removed", submission=sub, actor=actor,
           detail=f"{policy.catalogue.direction_label(direction)} 原第{rank}位")
    for later in session.exec(select(CityRecommendation).where(
            CityRecommendation.round_code == policy.code, CityRecommendation.city == city,
            CityRecommendation.direction == direction, CityRecommendation.rank > rank)).all():
        later.rank -= 1
        session.add(later)
    session.flush()
    return True
