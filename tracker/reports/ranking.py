"""The ranking per direction (SPEC section 6): each application that passed formal review,
its number of scores, final score, rank, spread and disagreement flag, the city's own
recommendation rank beside it. The arithmetic is ``campaign.review``'s, once."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlmodel import Session, col, select

from campaign.review import ReviewRules, final_of, ranks
from tracker.store.tables import CityRecommendation, Score, Submission, SubmissionStatus


def ranking(session: Session, rules: ReviewRules, *, direction: int | None = None) -> list[dict[str, Any]]:
    """Rows ordered by direction, then rank (unscored last), then reference."""
    query = select(Submission).where(Submission.formal == "pass", Submission.status != SubmissionStatus.withdrawn)
    if direction is not None:
        query = query.where(Submission.direction == direction)
    subs = list(session.exec(query.order_by(col(Submission.reference))).all())
    ids = [s.id for s in subs]
    totals: dict[int, list[float]] = defaultdict(list)
    for sub_id, total in session.exec(select(Score.submission_id, Score.total).where(col(Score.submission_id).in_(ids))):
        totals[sub_id].append(total)
    city_rank = {r.submission_id: r.rank for r in
                 session.exec(select(CityRecommendation).where(col(CityRecommendation.submission_id).in_(ids)))}
    rows: list[dict[str, Any]] = []
    for sub in subs:
        final = final_of(totals.get(sub.id or 0, []), rules)
        rows.append({"reference": sub.reference, "unit": sub.unit, "direction": sub.direction or None,
                     "scores": final.scores, "final": final.final, "rank": None, "spread": final.spread,
                     "flag": final.flag, "trimmed": final.trimmed, "status": sub.status,
                     "city": sub.city if sub.channel == "via_city" else None,
                     "city_rank": city_rank.get(sub.id or 0)})
    by_direction: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_direction[row["direction"]].append(row)
    for group in by_direction.values():
        ranked = ranks({r["reference"]: r["final"] for r in group})
        for row in group:
            row["rank"] = ranked[row["reference"]]
    return sorted(rows, key=lambda r: (r["direction"] or 0, r["rank"] is None, r["rank"] or 0, r["reference"]))
