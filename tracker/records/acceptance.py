"""The year after (SPEC section 7): acceptance requests checked against what each form
promised, staff's result, and the excellent results.

A form promises an outcome per task category (notice 三.3: 理论研究 → 研究报告, 技术创新 →
创新成果, 应用实践 → 应用场景或实践案例). A request whose documents show no outcome of a
promised category is missing it (ACCEPTANCE_OUTCOME_MISSING, kept on the request: it never
reopens the application's completeness). Only a selected application's contact may ask;
anyone else's request is a claim for staff (``tracker.pipeline.apply``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from campaign.catalogue import Catalogue, TaskType
from campaign.clock import utcnow
from campaign.labels import ACCEPTANCE_LABELS
from intake.model import Document, Understanding
from tracker.records.events import record
from tracker.records.submissions import sender_doubt
from tracker.store.tables import (
    AcceptanceDecision,
    AcceptanceRequest,
    ExcellentResult,
    StoredMessage,
    Submission,
    SubmissionStatus,
)


class AcceptanceError(Exception):
    """Not allowed as asked; one line (Chinese: staff read it in the CLI and the workspace)."""


@dataclass(frozen=True)
class Checked:
    received: list[dict[str, object]]  # [{"name", "outcomes"}] of the request's files
    missing: list[TaskType]  # promised categories with no outcome among them


def promised(sub: Submission, catalogue: Catalogue) -> list[TaskType]:
    return [t for t in catalogue.task_types if t.key in (sub.task_types or [])]


def check(sub: Submission, documents: Sequence[Document], catalogue: Catalogue) -> Checked:
    files = [d for d in documents if d.part_of is None]
    received: list[dict[str, object]] = [{"name": d.name, "outcomes": list(d.outcomes)} for d in files]
    found = {kind for d in files for kind in d.outcomes}
    return Checked(received, [t for t in promised(sub, catalogue) if not (t.outcomes & found)])


def find_for_sender(session: Session, sender: str | None) -> list[Submission]:
    """The selected applications *sender* is a contact of (the contacts are few per row)."""
    if not sender:
        return []
    rows = session.exec(select(Submission).where(Submission.status == SubmissionStatus.selected)).all()
    return [s for s in rows if sender.lower() in (c.lower() for c in s.contacts)]


def record_request(session: Session, sub: Submission, msg: StoredMessage, checked: Checked) -> AcceptanceRequest:
    request = session.exec(select(AcceptanceRequest).where(AcceptanceRequest.message_pk == msg.id)).first()
    if request is None:
        request = AcceptanceRequest(submission_id=sub.id or 0, message_pk=msg.id or 0)
    request.received, request.missing = checked.received, [t.outcome for t in checked.missing]
    session.add(request)
    if sub.acceptance != "passed":  # a passed one stays passed; staff see the new mail
        sub.acceptance = "requested"
        session.add(sub)
    session.flush()
    record(session, "acceptance_requested", submission=sub, message=msg,
           detail=f"{len(checked.received)} 个文件" + (f"；缺少{'、'.join(request.missing)}" if request.missing else ""))
    return request


def latest_request(session: Session, sub: Submission) -> AcceptanceRequest | None:
    return session.exec(select(AcceptanceRequest).where(AcceptanceRequest.submission_id == sub.id)
                        .order_by(col(AcceptanceRequest.id).desc())).first()


def latest_decision(session: Session, sub: Submission) -> AcceptanceDecision | None:
    return session.exec(select(AcceptanceDecision).where(AcceptanceDecision.submission_id == sub.id)
                        .order_by(col(AcceptanceDecision.id).desc())).first()


def decide(session: Session, sub: Submission, result: str, *, reason: str, until: date | None,
           actor: str) -> AcceptanceDecision:
    if sub.status != SubmissionStatus.selected:
        raise AcceptanceError(f"{sub.reference} 未入选，没有验收")
    if result not in ("passed", "rework"):
        raise AcceptanceError("验收结论只能是 passed（通过）或 rework（限期整改）")
    if not reason.strip():
        raise AcceptanceError("验收结论须写明理由（--reason）")
    if result == "rework" and until is None:
        raise AcceptanceError("限期整改须给出整改期限（--until YYYY-MM-DD）")
    decision = AcceptanceDecision(submission_id=sub.id or 0, result=result, reason=reason.strip(),
                                  until=until if result == "rework" else None, decided_by=actor)
    session.add(decision)
    sub.acceptance = result
    session.add(sub)
    if result != "passed":  # no longer passed: no longer an excellent result
        unmark_excellent(session, sub, actor=actor, quiet=True)
    record(session, "acceptance_decided", submission=sub, actor=actor,
           detail=f"{ACCEPTANCE_LABELS[result]}：{reason.strip()}" + (f"（期限 {until.isoformat()}）" if until else ""))
    return decision


def mark_excellent(session: Session, sub: Submission, *, note: str, actor: str) -> ExcellentResult:
    if sub.acceptance != "passed":
        raise AcceptanceError(f"{sub.reference} 尚未通过验收，不能评为优秀成果")
    row = session.exec(select(ExcellentResult).where(ExcellentResult.submission_id == sub.id)).first()
    if row is None:
        row = ExcellentResult(submission_id=sub.id or 0, marked_by=actor, note=note)
        session.add(row)
        record(session, "excellent_marked", submission=sub, actor=actor, detail=note)
    return row


def unmark_excellent(session: Session, sub: Submission, *, actor: str, quiet: bool = False) -> bool:
    row = session.exec(select(ExcellentResult).where(ExcellentResult.submission_id == sub.id)).first()
    if row is None:
        if quiet:
            return False
        raise AcceptanceError(f"{sub.reference} 不在优秀成果中")
    session.delete(row)
    record(session, "excellent_unmarked", submission=sub, actor=actor)
    return True


def excellent(session: Session) -> list[tuple[Submission, ExcellentResult]]:
    rows = session.exec(select(Submission, ExcellentResult)
                        .join(ExcellentResult, col(ExcellentResult.submission_id) == Submission.id)
                        .order_by(col(Submission.direction), col(Submission.reference))).all()
    return [(s, e) for s, e in rows]


def overdue_rework(session: Session, today: date) -> list[tuple[Submission, AcceptanceDecision]]:
    subs = session.exec(select(Submission).where(Submission.acceptance == "rework")).all()
    out = []
    for sub in subs:
        decision = latest_decision(session, sub)
        if decision is not None and decision.until is not None and decision.until < today:
            out.append((sub, decision))
    return out


def mark_reminded(session: Session, decision: AcceptanceDecision) -> None:
    decision.reminded_at = utcnow()
    session.add(decision)


def acceptance_target(session: Session, msg: StoredMessage, result: Understanding
                      ) -> tuple[Submission | None, str | None]:
    """The application an acceptance request is for, and why its sender may not speak for
    it (None: it may). The quoted reference decides, else the sender's one selected
    application; several, none, or a sender not on file is a claim for staff."""
    sender = (msg.from_addr or "").lower()
    sub: Submission | None = None
    if result.reference:
        sub = session.exec(select(Submission).where(Submission.reference == result.reference)).first()
    if sub is None:
        mine = find_for_sender(session, sender)
        if len(mine) > 1:
            return None, "发件人是多个入选申报的联系人，来信未注明受理编号"
        sub = mine[0] if mine else None
    if sub is None:
        return None, "来信未对应到任何入选申报（受理编号不明，发件人也不是入选申报的联系人）"
    doubt = sender_doubt(msg, result)
    if doubt:
        return sub, doubt
    if sender not in (c.lower() for c in sub.contacts):
        return sub, "发件人不是该申报登记的联系邮箱"
    if sub.status != SubmissionStatus.selected:
        return sub, "该申报未入选，无需验收"
    return sub, None
