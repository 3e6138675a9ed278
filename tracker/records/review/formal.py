"""Formal review (形式审查): pass, or fail with a reason. A pass puts the application under
review (experts score only those); a fail sets status ``formal_failed``. Decisions taken
later (selected / not selected) are not undone by a repeated pass."""

from __future__ import annotations

from sqlmodel import Session

from tracker.records.events import record
from tracker.records.review import ReviewRefused
from tracker.store.tables import Submission, SubmissionStatus

DECIDED = frozenset({SubmissionStatus.selected, SubmissionStatus.not_selected})


def pass_formally(session: Session, sub: Submission, *, actor: str, note: str = "",
                  dishonest: list[str] | None = None) -> None:
    if sub.status == SubmissionStatus.withdrawn:
        raise ReviewRefused(f"{sub.reference} 已撤回，不能通过形式审查")
    if dishonest:
        raise ReviewRefused(f"{sub.reference} 的{'、'.join(dishonest)}有严重失信记录，不能通过形式审查"
                            "（如信用记录有误，请先记录新的查询结果）")
    sub.formal, sub.formal_reason = "pass", (note or None)
    if sub.status not in DECIDED:
        sub.status = SubmissionStatus.under_review
    session.add(sub)
    record(session, "formal_review", submission=sub, actor=actor, detail="通过" + (f"：{note}" if note else ""))


def fail_formally(session: Session, sub: Submission, reason: str, *, actor: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise ReviewRefused("形式审查不通过须写明原因（--reason）")
    sub.formal, sub.formal_reason = "fail", reason
    sub.status = SubmissionStatus.formal_failed
    session.add(sub)
    record(session, "formal_review", submission=sub, actor=actor, detail=f"不通过：{reason}")
