"""Who owns a record: the addresses on file, which staff can correct.

The first sender of a unit's form is put on file; a stranger who filed first (a
squatter) stays on file until staff act. Staff remove an address, or — confirming the
real applicant's claim — transfer the record to the claim's sender: every other address
leaves the file. Both are logged with who, when and why.
"""

from __future__ import annotations

from sqlmodel import Session

from campaign.clock import utcnow
from tracker.records.events import record
from tracker.store.tables import Submission


class ContactError(Exception):
    """The change cannot be made as asked (one line, for staff)."""


def remove_contact(session: Session, sub: Submission, address: str, *, actor: str, note: str = "") -> None:
    wanted = address.strip().lower()
    if wanted not in sub.contacts:
        raise ContactError(f"{sub.reference} has no contact {address!r}")
    sub.contacts = [c for c in sub.contacts if c != wanted]
    sub.updated_at = utcnow()
    session.add(sub)
    record(session, "contact_removed", submission=sub, actor=actor,
           detail=f"移除联系邮箱 {wanted}" + (f"：{note}" if note else ""))


def transfer(session: Session, sub: Submission, to: str, *, actor: str, note: str = "") -> list[str]:
    """*to* becomes the only address on file; the addresses it replaced are returned."""
    owner = to.strip().lower()
    if not owner:
        raise ContactError(f"{sub.reference}: no address to transfer the record to")
    removed = [c for c in sub.contacts if c != owner]
    sub.contacts = [owner]
    sub.updated_at = utcnow()
    session.add(sub)
    record(session, "ownership_transferred", submission=sub, actor=actor,
           detail=f"联系邮箱改为 {owner}" + (f"，移除 {'、'.join(removed)}" if removed else "")
           + (f"：{note}" if note else ""))
    return removed
