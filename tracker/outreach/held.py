"""Answers held by the first-contact budget: a staff queue, released in bulk.

The budget holds automatic answers to never-seen addresses that our server did not
verify (``notify.new_address_hourly_cap``). Staff look at them in the workspace (/mail) or
with `jiebang release --dry-run` and release them together — all, or those of one kind,
one recipient domain or written before a moment — oldest first. The CLI and the web call
:func:`release`, so both leave the same event.
"""

from __future__ import annotations

from sqlmodel import Session

from campaign.labels import MAIL_KIND_LABELS
from notifier.models import OutboxMail
from notifier.outbox import HeldFilter, release_held
from tracker.records.events import record


def describe(which: HeldFilter) -> str:
    """The filter in words for the event log (staff read it)."""
    parts = []
    if which.kind:
        parts.append(MAIL_KIND_LABELS.get(which.kind, "其他"))
    if which.domain:
        parts.append(f"收件域 {which.domain}")
    if which.before is not None:
        parts.append(f"{which.before.isoformat(timespec='minutes')} 之前")
    if which.limit:
        parts.append(f"最早的 {which.limit} 封")
    return "、".join(parts) or "全部"


def release(session: Session, which: HeldFilter, *, actor: str) -> list[OutboxMail]:
    """Release the held answers *which* selects (pending again, oldest first); one event."""
    rows = release_held(session, which)
    if rows:
        record(session, "held_released", actor=actor,
               detail=f"释放暂扣的答复 {len(rows)} 封（{describe(which)}）：#" + "、#".join(str(r.id) for r in rows[:50])
               + ("…" if len(rows) > 50 else ""))
    return rows
