"""A user's saved filters of the submission list: a name and the list's query string.

What is kept is only the query string the list itself reads (checked again, like any URL,
when it is used), so a saved filter never widens what its owner may see.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from tracker.records.events import record
from tracker.store.tables import SavedFilter

MAX_FILTERS = 30  # per user


class FilterError(Exception):
    """The filter cannot be saved; one line, in Chinese."""


def saved(session: Session, user_id: int) -> list[SavedFilter]:
    return list(session.exec(select(SavedFilter).where(SavedFilter.user_id == user_id)
                             .order_by(col(SavedFilter.name))).all())


def save(session: Session, user_id: int, name: str, query: str, *, actor: str) -> SavedFilter:
    """Save (or replace, by name) one of *user_id*'s filters."""
    name = " ".join(name.split())[:60]
    if not name:
        raise FilterError("请为筛选起一个名称")
    row = session.exec(select(SavedFilter).where(SavedFilter.user_id == user_id, SavedFilter.name == name)).first()
    if row is None:
        if len(saved(session, user_id)) >= MAX_FILTERS:
            raise FilterError(f"最多保存 {MAX_FILTERS} 个筛选，请先删除不用的")
        row = SavedFilter(user_id=user_id, name=name, query="")
    row.query = query[:2000]
    session.add(row)
    record(session, "filter_saved", actor=actor, detail=name)
    session.flush()
    return row


def delete(session: Session, user_id: int, filter_id: int) -> bool:
    """Remove one of *user_id*'s own filters; False when it has none of that id."""
    row = session.get(SavedFilter, filter_id)
    if row is None or row.user_id != user_id:
        return False
    session.delete(row)
    session.flush()
    return True
