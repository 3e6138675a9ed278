"""Read-only views over the records, for the CLI and the digest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from intake.policy import RoundPolicy
from tracker.models import MessageState, StoredMessage


def message_rows(engine: Engine, policy: RoundPolicy, *, state: str | None = None) -> list[dict[str, Any]]:
    """`jiebang messages --json` (SPEC §4); a not-yet-understood message counts as processed=False."""
    with Session(engine) as session:
        stmt = select(StoredMessage).order_by(StoredMessage.id)
        if state:
            stmt = stmt.where(StoredMessage.state == state)
        rows = session.exec(stmt).all()
    return [
        {
            "message_id": m.message_id,
            "from": m.from_addr,
            "subject": m.subject,
            "received_at": m.received_at.astimezone(policy.tz).isoformat() if m.received_at else None,
            "intent": m.intent,
            "state": m.state if m.state != MessageState.stored else "stored",
            "error": m.error,
            "references": list(m.references or []),
        }
        for m in rows
    ]
