"""The append-only event log: every change to the records, with its cause."""

from __future__ import annotations

from sqlmodel import Session

from tracker.store.tables import CityPackage, Event, StoredMessage, Submission


def record(
    session: Session,
    kind: str,
    *,
    submission: Submission | None = None,
    package: CityPackage | None = None,
    message: StoredMessage | None = None,
    actor: str = "system",
    detail: str = "",
) -> Event:
    event = Event(
        kind=kind,
        actor=actor,
        submission_id=submission.id if submission else None,
        package_id=package.id if package else None,
        message_pk=message.id if message else None,
        detail=detail,
    )
    session.add(event)
    return event
