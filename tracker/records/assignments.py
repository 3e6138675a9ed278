"""Who handles what: a submission or an incoming mail assigned to one colleague.

One row per submission or mail (the current assignee); every change is an event, so the
history is the event log's. Only an active account that may change records and may see
the item can be assigned it: a province account anything, a city account only what its
city recommended (never a province-direct application), never a viewer or an expert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists
from sqlmodel import Session, col, select

from campaign.clock import utcnow
from tracker.records.accounts import find_user
from tracker.records.events import record
from tracker.records.queries import SubmissionFilter
from tracker.store.tables import Assignment, StaffRole, StaffUser, StoredMessage, Submission


class AssignError(Exception):
    """The assignment cannot be made as asked; one line, in Chinese."""


@dataclass(frozen=True)
class AssignedFilter(SubmissionFilter):
    """The list's filter, and (``assignee_id``) only what that account was assigned: 我的."""

    assignee_id: int | None = None

    def apply(self, stmt: Any) -> Any:
        stmt = super().apply(stmt)
        if self.assignee_id is not None:
            mine = select(Assignment.id).where(Assignment.submission_id == Submission.id,
                                               Assignment.assignee_id == self.assignee_id)
            stmt = stmt.where(exists(mine))
        return stmt


def may_handle(user: StaffUser, sub: Submission | None) -> bool:
    """Whether *user* may be given *sub* (None: an incoming mail, the province's)."""
    if not user.active or user.role not in (StaffRole.province, StaffRole.city):
        return False
    if user.role == StaffRole.province:
        return True
    return sub is not None and sub.channel == "via_city" and bool(user.city) and sub.city == user.city


def colleagues(session: Session, sub: Submission | None = None, *, city: str | None = None) -> list[StaffUser]:
    """Who may be given *sub* (None: a mail, or rows of the list), by name. *city*: a city
    account assigns within its own bureau only, its city's accounts (that may handle *sub*)."""
    found = session.exec(select(StaffUser).where(col(StaffUser.active).is_(True)).order_by(col(StaffUser.name))).all()
    if city is not None:
        return [u for u in found if u.role == StaffRole.city and u.city == city and (sub is None or may_handle(u, sub))]
    return [u for u in found if may_handle(u, sub)]


def _assignee(session: Session, name: str, sub: Submission | None) -> StaffUser:
    user = find_user(session, name)
    if user is None or not may_handle(user, sub):
        raise AssignError(f"不能分派给 {name[:40]}：没有此账号，或该账号无权处理此事项")
    return user


def _set(session: Session, row: Assignment | None, user: StaffUser | None, *, actor: str,
         submission_id: int | None = None, message_pk: int | None = None) -> bool:
    """Write the assignment; False when nothing changed."""
    if user is None:
        if row is None:
            return False
        session.delete(row)
        return True
    if row is not None and row.assignee_id == user.id:
        return False
    row = row or Assignment(submission_id=submission_id, message_pk=message_pk, assignee_id=user.id or 0,
                            actor=actor[:100])
    row.assignee_id, row.actor, row.at = user.id or 0, actor[:100], utcnow()
    session.add(row)
    return True


def assign_submission(session: Session, sub: Submission, name: str, *, actor: str) -> bool:
    """Give *sub* to the account *name* (empty: to nobody); False when it already was. Flushed."""
    user = _assignee(session, name, sub) if name else None
    row = session.exec(select(Assignment).where(Assignment.submission_id == sub.id)).first()
    changed = _set(session, row, user, actor=actor, submission_id=sub.id)
    if changed:
        record(session, "assigned" if user else "unassigned", submission=sub, actor=actor,
               detail=f"经办人：{user.name}" if user else "")
    session.flush()
    return changed


def assign_message(session: Session, msg: StoredMessage, name: str, *, actor: str) -> bool:
    """Give the incoming mail *msg* to *name* (empty: to nobody); False when it already was."""
    user = _assignee(session, name, None) if name else None
    row = session.exec(select(Assignment).where(Assignment.message_pk == msg.id)).first()
    changed = _set(session, row, user, actor=actor, message_pk=msg.id)
    if changed:
        record(session, "assigned" if user else "unassigned", message=msg, actor=actor,
               detail=f"来信 #{msg.id} 经办人：{user.name}" if user else f"来信 #{msg.id}")
    session.flush()
    return changed


def assignees(session: Session, *, submissions: Sequence[int] = (), messages: Sequence[int] = ()
              ) -> tuple[dict[int, str], dict[int, str]]:
    """The assignee's name per submission id and per message id asked for."""
    if not submissions and not messages:
        return {}, {}
    stmt = select(Assignment.submission_id, Assignment.message_pk, StaffUser.name).join(
        StaffUser, col(StaffUser.id) == Assignment.assignee_id)
    stmt = stmt.where(col(Assignment.submission_id).in_(list(submissions) or [-1])
                      | col(Assignment.message_pk).in_(list(messages) or [-1]))
    by_sub: dict[int, str] = {}
    by_msg: dict[int, str] = {}
    for sid, pk, name in session.exec(stmt).all():
        if sid is not None:
            by_sub[sid] = name
        if pk is not None:
            by_msg[pk] = name
    return by_sub, by_msg


def assignees_by_reference(session: Session, references: Sequence[str]) -> dict[str, str]:
    """The assignee's name per submission reference (a page of the list)."""
    if not references:
        return {}
    stmt = (select(Submission.reference, StaffUser.name)
            .join(Assignment, col(Assignment.submission_id) == Submission.id)
            .join(StaffUser, col(StaffUser.id) == Assignment.assignee_id)
            .where(col(Submission.reference).in_(list(references))))
    return {ref: name for ref, name in session.exec(stmt).all()}
