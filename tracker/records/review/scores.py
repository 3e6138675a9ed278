"""Scores: one sheet per (application, expert), each criterion out of its maximum.

Entered by the expert in the workspace or imported by staff from a paper meeting's filled
sheets (``import_sheet``: every row checked first, nothing written unless all pass). A
score is refused — naming why — from an unknown or conflicted expert, an expert not on a
panel of the application's direction, for an application that did not pass formal
review, after the panel closed, or with a mark outside 0…maximum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from campaign.clock import utcnow
from campaign.review import ReviewRules
from tracker.records.events import record
from tracker.records.queries import find_submission
from tracker.records.review import ReviewRefused
from tracker.records.review.experts import conflict_of, expert_named, panels_of
from tracker.store.tables import Panel, Score, StaffUser, Submission

CONFLICT_REFUSED = "{expert} 与 {reference} 存在利益冲突（回避），其评分不予接受"


@dataclass(frozen=True)
class SheetRow:
    """One row of a filled sheet, as read (``line``: its row number in the sheet)."""

    line: int
    reference: str
    expert: str
    marks: Mapping[str, object]  # criterion → the cell as read
    comment: str = ""


def panel_for(session: Session, expert: StaffUser, sub: Submission) -> Panel | None:
    return next((p for p in panels_of(session, expert) if sub.direction in p.directions), None)


def checked_marks(rules: ReviewRules, marks: Mapping[str, object]) -> dict[str, float]:
    """The marks as numbers, every criterion present and within 0…its maximum."""
    out: dict[str, float] = {}
    for criterion in rules.criteria:
        raw = marks.get(criterion.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise ReviewRefused(f"“{criterion.name}”未评分")
        try:
            value = float(str(raw).strip()) if not isinstance(raw, (int, float)) else float(raw)
        except ValueError:
            raise ReviewRefused(f"“{criterion.name}”的分数“{raw}”不是数字") from None
        if math.isnan(value) or value < 0 or value > criterion.max:
            raise ReviewRefused(f"“{criterion.name}”的分数 {raw} 超出 0–{criterion.max:g} 分")
        out[criterion.name] = value
    unknown = [k for k in marks if rules.criterion(k) is None]
    if unknown:
        raise ReviewRefused(f"评分表没有“{unknown[0]}”这一项")
    return out


def check_score(session: Session, expert: StaffUser, sub: Submission) -> None:
    if not expert.active:
        raise ReviewRefused(f"专家 {expert.name} 的账号已停用")
    if sub.formal != "pass":
        raise ReviewRefused(f"{sub.reference} 未通过形式审查，不能评分")
    conflict = conflict_of(session, expert, sub)
    if conflict is not None:
        raise ReviewRefused(CONFLICT_REFUSED.format(expert=expert.name, reference=sub.reference))
    panel = panel_for(session, expert, sub)
    if panel is None:
        raise ReviewRefused(f"专家 {expert.name} 不在 {sub.reference} 所属方向的评审组")
    if panel.closed_at is not None:
        raise ReviewRefused(f"评审组“{panel.name}”已结束评分")


def enter_score(session: Session, rules: ReviewRules, expert: StaffUser, sub: Submission,
                marks: Mapping[str, object], *, comment: str = "", source: str, actor: str) -> Score:
    check_score(session, expert, sub)
    numbers = checked_marks(rules, marks)
    return _write(session, expert, sub, numbers, comment, source, actor)


def _write(session: Session, expert: StaffUser, sub: Submission, numbers: dict[str, float], comment: str,
           source: str, actor: str) -> Score:
    score = session.exec(select(Score).where(Score.submission_id == sub.id, Score.expert_id == expert.id)).first()
    now = utcnow()
    if score is None:
        score = Score(submission_id=sub.id or 0, expert_id=expert.id or 0, source=source, entered_by=actor,
                      created_at=now)
    score.marks, score.total = numbers, round(sum(numbers.values()), 2)
    score.comment, score.source, score.entered_by, score.updated_at = comment[:5000], source, actor, now
    session.add(score)
    session.flush()
    record(session, "score_entered", submission=sub, actor=actor, detail=f"{expert.name}（{'评分表导入' if source == 'sheet' else '在线评分'}）")
    return score


def import_sheet(session: Session, rules: ReviewRules, rows: Sequence[SheetRow], *, actor: str) -> list[str]:
    """Check every row, then write all of them or none. Returns the refusals
    (``第 N 行：why``); when there is any, nothing was written."""
    refused: list[str] = []
    ready: list[tuple[StaffUser, Submission, dict[str, float], str]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        try:
            sub = find_submission(session, row.reference) if row.reference.strip() else None
            if sub is None:
                raise ReviewRefused(f"受理编号“{row.reference}”不存在")
            expert = expert_named(session, row.expert)
            check_score(session, expert, sub)
            numbers = checked_marks(rules, row.marks)
            pair = (sub.reference, expert.name)
            if pair in seen:
                raise ReviewRefused(f"与第 {seen[pair]} 行重复（同一专家对同一申报）")
            seen[pair] = row.line
            ready.append((expert, sub, numbers, row.comment))
        except ReviewRefused as exc:
            refused.append(f"第 {row.line} 行：{exc}")
    if refused:
        return refused
    for expert, sub, numbers, comment in ready:
        _write(session, expert, sub, numbers, comment, "sheet", actor)
    record(session, "scores_imported", actor=actor, detail=f"{len(ready)} 条评分")
    return []


def scores_of(session: Session, sub: Submission) -> list[tuple[StaffUser, Score]]:
    rows = session.exec(select(StaffUser, Score).join(Score, col(Score.expert_id) == StaffUser.id)
                        .where(Score.submission_id == sub.id).order_by(col(StaffUser.name))).all()
    return [(u, s) for u, s in rows]


def close_panel(session: Session, panel: Panel, *, actor: str) -> None:
    panel.closed_at = panel.closed_at or utcnow()
    session.add(panel)
    record(session, "panel_set", actor=actor, detail=f"{panel.name}：评分结束")
