"""Writing outbox rows — always inside the caller's transaction, never committing.

Business code calls ``enqueue`` in the same transaction that records what the mail is
about (GOV.UK Notify's persist-first outbox): either both are committed or neither.
The delivery job (``notifier.sender``) later acts on the row by id.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from campaign.clock import as_utc, local_day, utcnow
from notifier.headers import (
    address_domain,
    clean_filename,
    clean_header,
    clean_msgid,
    clean_references,
)
from notifier.loops import allowed_recipient
from notifier.models import AUTO_SUBMITTED, MailKind, OutboxMail, OutboxState
from notifier.render import render

log = logging.getLogger("jiebang.notifier.outbox")

_REFERENCE = re.compile(r"^[A-Z][A-Z0-9]{1,15}-[0-9]{1,8}$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")
_CID = re.compile(r"^[A-Za-z0-9._-]{1,100}(?:@[A-Za-z0-9.-]{1,100})?$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LISTED_STATE = {OutboxState.sending: OutboxState.pending}  # the outbox --json contract (docs/contracts.md, "Listings") has no "sending"


class OutboxError(Exception):
    """Base of the outbox's own errors."""


class InvalidMail(OutboxError, ValueError):
    """The caller asked for a mail that cannot be written (a bug, not bad input)."""


class MailNotFound(OutboxError, LookupError):
    """No outbox row with that id."""


class InvalidTransition(OutboxError):
    """The row's state does not allow the requested change."""


@dataclass(frozen=True)
class Attachment:
    """A file to attach; the bytes are in the blob store under *sha256*.

    With *cid* it is an inline part (``<img src="cid:chart">`` in the HTML).
    """

    name: str
    content_type: str
    sha256: str
    cid: str | None = None

    def to_json(self) -> dict[str, str | None]:
        if not _SHA256.match(self.sha256):
            raise InvalidMail(f"attachment {self.name!r}: sha256 must be 64 lowercase hex digits")
        if self.cid is not None and not _CID.match(self.cid):
            raise InvalidMail(f"attachment {self.name!r}: unusable Content-ID {self.cid!r}")
        ctype = self.content_type.strip().lower()
        return {
            "name": clean_filename(self.name),
            "content_type": ctype if _CONTENT_TYPE.match(ctype) else "application/octet-stream",
            "sha256": self.sha256,
            "cid": self.cid,
        }


def new_message_id(*, reference: str | None, kind: str, sender: str, now: datetime) -> str:
    """``<jb2025-0007.1736301780.a1b2c3d4@shandong.cn>`` — the reference first, for threading."""
    head = reference.lower() if reference else kind
    return f"<{head}.{int(now.timestamp())}.{secrets.token_hex(4)}@{address_domain(sender)}>"


def tagged_subject(subject: str, reference: str | None) -> str:
    tag = f"[{reference}]"
    if reference and tag not in subject:
        subject = f"{tag} {subject}"
    return clean_header(subject)


def _recipients(to: Sequence[str], own: frozenset[str]) -> list[str]:
    kept: list[str] = []
    for raw in to:
        address = (raw or "").strip()
        ok, why = allowed_recipient(address, own)
        if not ok:
            log.info("outbox: not writing to %r: %s", clean_header(address, 80), why)
        elif address.lower() not in (k.lower() for k in kept):
            kept.append(address)
    return kept


def written_to(session: Session, address: str) -> bool:
    """Whether a mail was ever written to *address* and let go (a held one was not: the
    next answer to that address is still a first contact, under the same budget)."""
    query = select(col(OutboxMail.id)).where(col(OutboxMail.recipient_key) == address.strip().lower(),
                                             col(OutboxMail.state) != OutboxState.held).limit(1)
    return session.execute(query).first() is not None


def first_contacts_since(session: Session, since: datetime, *, kinds: Sequence[str] | None = None,
                         domain: str | None = None) -> int:
    """Addresses never written to before that mails were written to since *since*
    (optionally: by mails of these *kinds*, to addresses in this *domain*)."""
    query = select(func.count(func.distinct(col(OutboxMail.recipient_key)))).select_from(OutboxMail).where(
        col(OutboxMail.first_contact).is_(True), col(OutboxMail.created_at) >= as_utc(since))
    if kinds is not None:
        query = query.where(col(OutboxMail.kind).in_(list(kinds)))
    if domain:
        query = query.where(col(OutboxMail.recipient_key).like(f"%@{domain.lower()}"))
    return int(session.execute(query).scalar_one())


# kinds outside the per-address daily cap: the staff digest, and claim notices (limited to one
# per record a day by their own key), so strangers' mail cannot spend an applicant's answers
UNCAPPED = (MailKind.digest, MailKind.claim_notice, MailKind.result)  # result: staff release it, once per application


def sent_today(session: Session, recipient_key: str, now: datetime) -> int:
    """Automatic mails written to *recipient_key* on *now*'s day in the round's zone."""
    start, end = local_day(now)
    query = select(func.count()).select_from(OutboxMail).where(
        col(OutboxMail.recipient_key) == recipient_key,
        col(OutboxMail.kind).not_in(UNCAPPED),
        col(OutboxMail.created_at) >= start,
        col(OutboxMail.created_at) < end,
    )
    return int(session.execute(query).scalar_one())


def enqueue(
    session: Session,
    *,
    kind: str,
    to: list[str],
    template: str,
    context: Mapping[str, Any],
    reference: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    dedupe_key: str | None = None,
    attachments: Sequence[Attachment] = (),
    sender: str,
    now: datetime | None = None,
    daily_cap: int = 20,
    cause: str = "",
    own_addresses: frozenset[str] = frozenset(),
    auto_submitted: str | None = None,
    first_contact: bool = False,
    hold: bool = False,
) -> OutboxMail | None:
    """Render *template* and add one outbox row to *session* (flushed, not committed).

    Returns None — and logs why — when the mail must not be written: a row with
    *dedupe_key* exists, no recipient is allowed (loops), or the first recipient
    already got *daily_cap* automatic mails today (digests are exempt).
    *to* holds bare addresses (``a@b.cn``); *own_addresses* (the bureau mailbox …)
    and *sender* are never written to. *now* must be timezone-aware. Rows count
    towards the cap whatever becomes of them (sent, failed, bounced).
    *auto_submitted* overrides the kind's default (answers ``auto-replied``,
    reminders and digests ``auto-generated``). *first_contact* marks a mail to an
    address never written to before (see :func:`first_contacts_since`); *hold* writes
    it ``held``: it waits for staff (``resend``) instead of going out.
    """
    try:
        kind = MailKind(kind)
    except ValueError:
        raise InvalidMail(f"unknown mail kind {kind!r}") from None
    auto_submitted = auto_submitted or AUTO_SUBMITTED[kind]
    if auto_submitted not in ("auto-replied", "auto-generated"):
        raise InvalidMail(f"Auto-Submitted must be auto-replied or auto-generated, not {auto_submitted!r}")
    if reference is not None and not _REFERENCE.match(reference):
        raise InvalidMail(f"reference {reference!r} is not like JB2025-0007")
    moment = as_utc(now or utcnow())
    if dedupe_key is not None:
        dedupe_key = clean_header(dedupe_key, 300)
        existing = select(col(OutboxMail.id)).where(col(OutboxMail.dedupe_key) == dedupe_key)
        if session.execute(existing).first():
            log.info("outbox: %s already written (dedupe %s)", kind, dedupe_key)
            return None
    own = frozenset({sender.strip().lower(), *own_addresses})
    recipients = _recipients(to, own)
    if not recipients:
        log.info("outbox: %s for %s not written: no allowed recipient", kind, reference or "-")
        return None
    recipient_key = recipients[0].lower()
    if kind not in UNCAPPED and sent_today(session, recipient_key, moment) >= daily_cap:
        log.warning("outbox: %s to %s not written: daily cap of %d reached", kind, recipient_key, daily_cap)
        return None
    rendered = render(template, context)
    parent = clean_msgid(in_reply_to)
    thread = clean_references([*references, parent] if parent else list(references))
    row = OutboxMail(
        kind=kind,
        to_addrs=recipients,
        subject=tagged_subject(rendered.subject, reference),
        text_body=rendered.text,
        html_body=rendered.html,
        reference=reference,
        message_id=new_message_id(reference=reference, kind=kind, sender=sender, now=moment),
        in_reply_to=parent,
        references=thread,
        auto_submitted=auto_submitted,
        attachments=[a.to_json() for a in attachments],
        state=OutboxState.held if hold else OutboxState.pending,
        next_attempt_at=moment,
        first_contact=first_contact,
        created_at=moment,
        dedupe_key=dedupe_key,
        recipient_key=recipient_key,
        cause=clean_header(cause, 500),
    )
    return _insert(session, row)


def _insert(session: Session, row: OutboxMail) -> OutboxMail | None:
    """Flush the row; a concurrent writer of the same dedupe_key makes this a no-op.

    The savepoint is PostgreSQL-only: pysqlite's SAVEPOINT outside an explicit BEGIN
    would commit on RELEASE, and SQLite serialises writers anyway.
    """
    if session.get_bind().dialect.name != "postgresql" or row.dedupe_key is None:
        session.add(row)
        session.flush()
        return row
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        log.info("outbox: %s already written by another worker (dedupe %s)", row.kind, row.dedupe_key)
        return None
    return row


def _get(session: Session, mail_id: int) -> OutboxMail:
    row = session.get(OutboxMail, mail_id)
    if row is None:
        raise MailNotFound(f"no outbox mail #{mail_id}")
    return row


def mark_bounced(session: Session, message_id: str, reason: str) -> OutboxMail | None:
    """Record a DSN for one of our Message-IDs; None if it is not ours.

    A row that is pending again (staff resent it) keeps its state: the DSN is about
    the earlier attempt, and only its reason is kept.
    """
    wanted = clean_msgid(message_id) or f"<{message_id.strip().strip('<>')}>"
    row: OutboxMail | None = session.execute(
        select(OutboxMail).where(func.lower(OutboxMail.message_id) == wanted.lower())
    ).scalar_one_or_none()
    if row is None:
        return None
    row.last_error = clean_header(f"bounced: {reason}", 1000)
    if row.state != OutboxState.pending:
        row.state = OutboxState.bounced
    session.add(row)
    session.flush()
    log.info("outbox #%s %s marked bounced: %s", row.id, row.message_id, row.last_error)
    return row


def resend(session: Session, mail_id: int, *, now: datetime | None = None) -> OutboxMail:
    """Staff command: a failed, bounced or held mail goes back to pending (same Message-ID)."""
    row = _get(session, mail_id)
    if row.state not in (OutboxState.failed, OutboxState.bounced, OutboxState.held):
        raise InvalidTransition(
            f"outbox mail #{mail_id} is {row.state}; only failed, bounced or held mail can be resent")
    row.state = OutboxState.pending
    row.attempts = 0
    row.next_attempt_at = as_utc(now or utcnow())
    row.claimed_at = None
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class HeldFilter:
    """Which held mails staff release together: by kind, by the recipient's domain, by age.

    Empty fields match everything; *limit* takes the oldest first.
    """

    kind: str | None = None
    domain: str | None = None  # the first recipient's domain, e.g. ``163.com``
    before: datetime | None = None  # written before this moment
    limit: int | None = None

    def _where(self, query: Any) -> Any:
        query = query.where(col(OutboxMail.state) == OutboxState.held)
        if self.kind:
            query = query.where(col(OutboxMail.kind) == self.kind)
        if self.domain:
            query = query.where(col(OutboxMail.recipient_key).like(f"%@{self.domain.strip().lower().lstrip('@')}"))
        if self.before is not None:
            query = query.where(col(OutboxMail.created_at) < as_utc(self.before))
        return query

    def query(self) -> Any:
        query = self._where(select(OutboxMail)).order_by(col(OutboxMail.created_at), col(OutboxMail.id))
        return query.limit(self.limit) if self.limit else query

    def count(self) -> Any:
        """How many it matches (its limit aside)."""
        return self._where(select(func.count()).select_from(OutboxMail))


def held_mail(session: Session, which: HeldFilter = HeldFilter()) -> list[OutboxMail]:
    """Held mails (the first-contact budget's queue), oldest first."""
    return list(session.execute(which.query()).scalars())


def held_count(session: Session, which: HeldFilter = HeldFilter()) -> int:
    """Held mails *which* matches (all held mails by default)."""
    return int(session.execute(which.count()).scalar_one())


def release_held(session: Session, which: HeldFilter = HeldFilter(), *, now: datetime | None = None
                 ) -> list[OutboxMail]:
    """Staff release held mails in bulk, oldest first: each goes back to pending, as
    :func:`resend` does one (flushed, not committed)."""
    moment = as_utc(now or utcnow())
    rows = held_mail(session, which)
    for row in rows:
        row.state = OutboxState.pending
        row.attempts = 0
        # oldest first also on the wire: the sender takes due rows by next_attempt_at
        row.next_attempt_at = moment
        row.claimed_at = None
        session.add(row)
    session.flush()
    return rows


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def outbox_rows(session: Session) -> list[dict[str, Any]]:
    """``jiebang outbox --json`` objects (docs/contracts.md, "Listings"), oldest first (plus a few extra keys)."""
    rows = session.execute(select(OutboxMail).order_by(col(OutboxMail.id))).scalars()
    return [
        {
            "kind": row.kind,
            "to": list(row.to_addrs),
            "subject": row.subject,
            "reference": row.reference,
            "state": str(_LISTED_STATE.get(row.state, row.state)),
            "attempts": row.attempts,
            "id": row.id,
            "message_id": row.message_id,
            "last_error": row.last_error,
            "created_at": _iso(row.created_at),
            "sent_at": _iso(row.sent_at),
        }
        for row in rows
    ]
