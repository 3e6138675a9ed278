"""Internal notes on a submission: for staff only (never in a mail, an export or the
applicant's status answer), kept for good, each one an event."""

from __future__ import annotations

from sqlmodel import Session, col, select

from tracker.records.events import record
from tracker.store.tables import StaffNote, Submission

MAX_NOTE = 2000


class NoteError(Exception):
    """The note cannot be added; one line, in Chinese."""


def add_note(session: Session, sub: Submission, text: str, *, author: str) -> StaffNote:
    text = text.strip()
    if not text:
        raise NoteError("备注为空")
    if len(text) > MAX_NOTE:
        raise NoteError(f"备注不能超过 {MAX_NOTE} 字")
    note = StaffNote(submission_id=sub.id or 0, author=author[:100], text=text)
    session.add(note)
    # the log says a note was added, not what it says: the note itself is the record
    record(session, "note_added", submission=sub, actor=author, detail=f"{len(text)} 字")
    session.flush()
    return note


def notes_of(session: Session, sub: Submission) -> list[StaffNote]:
    return list(session.exec(select(StaffNote).where(StaffNote.submission_id == sub.id)
                             .order_by(col(StaffNote.id))).all())
