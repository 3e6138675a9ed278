"""How far each panel has come: per expert, the applications left to score (conflicts left
out) and those scored; and, for one expert, what they may score. `jiebang panel list`,
the staff's panel page and the expert's own page read it here, so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from tracker.records.review.experts import (
    conflict_of,
    members,
    panel_applications,
    panels,
    panels_of,
)
from tracker.store.tables import Panel, Score, StaffUser, Submission


@dataclass(frozen=True)
class Assigned:
    """One application an expert is to score, in one of their panels, and their score of it."""

    panel: Panel
    sub: Submission
    score: Score | None


def _mine(session: Session, expert: StaffUser, apps: list[Submission]) -> list[Submission]:
    return [s for s in apps if conflict_of(session, expert, s) is None]


def _scores(session: Session, expert: StaffUser, subs: list[Submission]) -> dict[int, Score]:
    ids = [s.id for s in subs]
    rows = session.exec(select(Score).where(Score.expert_id == expert.id, col(Score.submission_id).in_(ids))).all()
    return {r.submission_id: r for r in rows}


def overview(session: Session) -> list[dict[str, Any]]:
    """Every panel: its directions, applications, whether closed, and per expert
    ``{"expert", "unit", "to_score", "scored"}``."""
    rows: list[dict[str, Any]] = []
    for panel in panels(session):
        apps = panel_applications(session, panel)
        people: list[dict[str, Any]] = []
        for expert in members(session, panel):
            mine = _mine(session, expert, apps)
            people.append({"expert": expert.name, "unit": expert.unit, "to_score": len(mine),
                           "scored": len(_scores(session, expert, mine))})
        rows.append({"panel": panel.name, "directions": panel.directions, "applications": len(apps),
                     "closed": panel.closed_at is not None, "experts": people})
    return rows


def assigned(session: Session, expert: StaffUser) -> list[Assigned]:
    """What *expert* scores: their panels' formally passed applications, conflicts left out."""
    out: list[Assigned] = []
    for panel in panels_of(session, expert):
        mine = _mine(session, expert, panel_applications(session, panel))
        scored = _scores(session, expert, mine)
        out.extend(Assigned(panel, s, scored.get(s.id or 0)) for s in mine)
    return out


def assignment(session: Session, expert: StaffUser, reference: str) -> Assigned | None:
    """*reference* as *expert* may see it; None when it is not theirs to score (another
    panel's, not formally passed, or in conflict)."""
    return next((a for a in assigned(session, expert) if a.sub.reference == reference), None)
