"""Understand stored messages again (after an upgrade) and say what would change.

Nothing here touches submissions, deficiencies or the outbox: differences there are for
staff to act on. ``apply_changes`` only updates a processed message's intent and
references (idempotent), and logs that it did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from campaign import codes_in
from intake.model import Understanding
from tracker.records.events import record
from tracker.store.blobs import BlobMissing, BlobStore
from tracker.store.tables import (
    DeficiencyRecord,
    MessageState,
    StoredMessage,
    Submission,
    SubmissionVersion,
)

COMPARED_FIELDS = ("unit", "uscc", "unit_nature", "city", "direction", "task_name", "task_types", "partners")
CROSS_MESSAGE_CODES = codes_in("cross")


@dataclass
class Changes:
    msg: StoredMessage
    result: Understanding
    diffs: list[dict[str, str]]

    def row(self) -> dict[str, Any]:
        m = self.msg
        return {"id": m.id, "message_id": m.message_id, "from": m.from_addr, "subject": m.subject,
                "state": m.state, "changes": self.diffs}


def reprocessable(session: Session, ids: Sequence[int] | None = None) -> list[StoredMessage]:
    """Messages understood before (processed or quarantined), optionally only *ids*."""
    stmt = select(StoredMessage).where(StoredMessage.state != MessageState.stored).order_by(col(StoredMessage.id))
    if ids:
        stmt = stmt.where(col(StoredMessage.id).in_(ids))
    return list(session.exec(stmt).all())


def compare(session: Session, blobs: BlobStore, analyse: Callable[[bytes, datetime | None], Understanding],
            msg: StoredMessage) -> Changes | None:
    """Understand *msg* again; None when its raw bytes are gone or nothing would change."""
    try:
        raw = blobs.get(msg.raw_sha256 or "")
    except BlobMissing:
        return None
    result = analyse(raw, msg.received_at)
    diffs = _differences(session, msg, result)
    return Changes(msg, result, diffs) if diffs else None


def _expected_refs(session: Session, msg: StoredMessage, result: Understanding) -> list[str]:
    """The reference the mail quotes, then those its versions were recorded under."""
    assigned = session.exec(select(Submission.reference)
                            .join(SubmissionVersion, col(Submission.id) == col(SubmissionVersion.submission_id))
                            .where(SubmissionVersion.message_pk == msg.id).order_by(col(SubmissionVersion.id))).all()
    return list(dict.fromkeys([*([result.reference] if result.reference else []), *assigned]))


def _differences(session: Session, msg: StoredMessage, result: Understanding) -> list[dict[str, str]]:
    """What understanding the message again would change, field by field (nothing is written)."""
    diffs: list[dict[str, str]] = []

    def add(what: str, before: object, after: object) -> None:
        diffs.append({"what": what, "before": str(before), "after": str(after)})

    if msg.intent != result.intent:
        add("intent", msg.intent, result.intent)
    new_refs = _expected_refs(session, msg, result)
    if list(msg.references or []) != new_refs:
        add("references", " ".join(msg.references or []) or "—", " ".join(new_refs) or "—")
    versions = session.exec(select(SubmissionVersion, Submission)
                            .join(Submission, col(Submission.id) == col(SubmissionVersion.submission_id))
                            .where(SubmissionVersion.message_pk == msg.id).order_by(col(SubmissionVersion.id))).all()
    if result.intent == "submission" and len(versions) != len(result.applications):
        add("applications", len(versions), len(result.applications))
    for (version, sub), application in zip(versions, result.applications, strict=False):
        now = application.contract()
        for name in COMPARED_FIELDS:
            if version.fields.get(name) != now.get(name):
                add(f"{sub.reference} {name}", version.fields.get(name), now.get(name))
    if not versions:  # problems of a mail without a form are answered, not recorded: nothing to compare
        return diffs
    had = set(session.exec(select(DeficiencyRecord.code).where(DeficiencyRecord.message_pk == msg.id)).all())
    ever = set(session.exec(select(DeficiencyRecord.code).where(col(DeficiencyRecord.submission_id).in_(
        [s.id for _, s in versions] or [-1])))) | had
    codes = {d.code for d in result.deficiencies} - CROSS_MESSAGE_CODES
    for code in sorted(codes - ever):
        add("deficiency", "—", code)
    for code in sorted(had - codes - CROSS_MESSAGE_CODES):
        add("deficiency", code, "—")
    return diffs


def apply_changes(session: Session, msg: StoredMessage, changes: Changes, *, actor: str) -> None:
    """Store the new intent and references of a processed message (quarantined ones: requeue)."""
    if msg.state != MessageState.processed:
        return
    result, diffs = changes.result, changes.diffs
    new_refs = _expected_refs(session, msg, result)
    if msg.intent == result.intent and list(msg.references or []) == new_refs:
        return
    detail = "; ".join(f"{d['what']}: {d['before']} → {d['after']}" for d in diffs if d["what"] in ("intent", "references"))
    msg.intent, msg.references = result.intent, new_refs
    session.add(msg)
    record(session, "reprocessed", message=msg, actor=actor, detail=detail)


