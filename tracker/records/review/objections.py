"""Objections (异议) to the published list, while its 公示期 runs: each mail that objects
becomes a staff item tied to the application it names (by reference, else by a listed
unit's name in the sender's words); one naming none is still kept, for staff to place."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from campaign.catalogue import Catalogue
from campaign.clock import local_today
from intake.model import Understanding
from tracker.records.events import record
from tracker.records.review import ReviewRefused
from tracker.records.submissions import unit_key
from tracker.store.tables import Objection, Publication, StoredMessage, Submission


def open_publication(session: Session, catalogue: Catalogue, today: date | None = None) -> Publication | None:
    """The latest published list whose 公示期 includes *today* (the round's calendar day)."""
    latest = session.exec(select(Publication).order_by(col(Publication.id).desc())).first()
    if latest is None:
        return None
    today = today or local_today(catalogue)
    published = local_today(catalogue, latest.published_at)
    return latest if published <= today <= latest.notice_ends else None


def receive(session: Session, catalogue: Catalogue, msg: StoredMessage, result: Understanding) -> Objection | None:
    """Keep *msg* as an objection when a 公示期 is open (None: none is, or it is kept)."""
    publication = open_publication(session, catalogue)
    if publication is None or not result.objection:
        return None
    if session.exec(select(Objection).where(Objection.message_pk == msg.id)).first() is not None:
        return None
    listed = list(session.exec(select(Submission).where(col(Submission.reference).in_(publication.references))).all())
    words = unit_key(result.objection)
    target = next((s for s in listed if result.reference == s.reference), None) or next(
        (s for s in listed if s.unit and len(s.unit) >= 4 and unit_key(s.unit) in words), None)
    objection = Objection(submission_id=target.id if target else None, message_pk=msg.id or 0,
                          sender=(msg.from_addr or "")[:320] or None)
    session.add(objection)
    session.flush()
    record(session, "objection_received", submission=target, message=msg,
           detail=f"来自 {msg.from_addr or '（发件人不明）'}" + ("" if target else "（未能对应到公示名单中的申报）"))
    return objection


def handle(session: Session, objection_id: int, *, note: str, actor: str) -> Objection:
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise ReviewRefused(f"没有编号为 {objection_id} 的异议")
    if not note.strip():
        raise ReviewRefused("处理异议须写明处理意见（--note）")
    objection.state, objection.note, objection.handled_by = "handled", note.strip(), actor
    session.add(objection)
    sub = session.get(Submission, objection.submission_id) if objection.submission_id else None
    record(session, "objection_handled", submission=sub, actor=actor, detail=note.strip())
    return objection


def objections(session: Session) -> list[tuple[Objection, Submission | None, StoredMessage | None]]:
    out = []
    for o in session.exec(select(Objection).order_by(col(Objection.id))).all():
        out.append((o, session.get(Submission, o.submission_id) if o.submission_id else None,
                    session.get(StoredMessage, o.message_pk)))
    return out


