"""The ``outbox`` table: every outgoing mail is a row before it is a message.

A row is self-contained (rendered subject and bodies, recipients, threading ids, the
Message-ID fixed at write time) so the sender can (re)build exactly the same message
after a crash. Attachment bytes live in the content-addressed blob store; the row
names them by sha256.

States and who moves them::

    pending --claim--> sending --ok--> sent --DSN--> bounced
       ^                  |  \\--permanent / too many attempts--> failed
       |                  \\--transient--> pending (next_attempt_at later)
       +---- resend (staff) ---- failed | bounced | held
    held: a first contact over the hourly budget (backscatter guard), waiting for staff
       +---- recovery ---------- sending older than a few minutes (crash)
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Index, Text, false
from sqlmodel import Field, SQLModel

from campaign.clock import utcnow
from notifier.dbtypes import UtcDateTime


class OutboxState(StrEnum):
    pending = "pending"
    sending = "sending"  # claimed by one sender; back to pending if it crashed
    sent = "sent"
    failed = "failed"  # permanent error or too many attempts; staff may resend
    bounced = "bounced"  # a DSN came back for this Message-ID
    held = "held"  # over the first-contact budget: staff release it (resend) or let it lie


class MailKind(StrEnum):
    ack = "ack"
    deficiency = "deficiency"
    redirect = "redirect"
    status = "status"
    reminder = "reminder"
    digest = "digest"
    receipt = "receipt"  # a neutral "received, staff will look" (claims, mail held for staff)
    claim_notice = "claim_notice"  # to the addresses on file: someone else sent material
    package_receipt = "package_receipt"  # to a city bureau: its package, application by application
    result = "result"  # after review: an applicant's own result, or a city bureau's list (SPEC 6)
    expert_invite = "expert_invite"  # an expert's invitation or reminder: a sign-in link, no data
    acceptance = "acceptance"  # the answer to an acceptance request (SPEC 7)
    acceptance_reminder = "acceptance_reminder"  # acceptance due, or a rework's date near
    answer = "answer"  # a clerk's answer to a mail that needed a person (the workspace)


# answers to a mail vs. mails we start ourselves (RFC 3834)
AUTO_SUBMITTED = {
    MailKind.ack: "auto-replied",
    MailKind.deficiency: "auto-replied",
    MailKind.redirect: "auto-replied",
    MailKind.status: "auto-replied",
    MailKind.reminder: "auto-generated",
    MailKind.digest: "auto-generated",
    MailKind.receipt: "auto-replied",
    MailKind.claim_notice: "auto-generated",
    MailKind.package_receipt: "auto-replied",
    MailKind.result: "auto-generated",
    MailKind.expert_invite: "auto-generated",
    MailKind.acceptance: "auto-replied",
    MailKind.acceptance_reminder: "auto-generated",
    # written by a clerk but sent by the system: still no auto-answer to it (RFC 3834 leaves
    # humans' mail unmarked; our outbox marks everything it sends, so loops stay impossible)
    MailKind.answer: "auto-replied",
}


def _ts(**kw: Any) -> Column[datetime]:
    return Column(UtcDateTime(), **kw)


class OutboxMail(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_recipient_day", "recipient_key", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    to_addrs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject: str = Field(sa_column=Column(Text, nullable=False))
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str = Field(sa_column=Column(Text, nullable=False))
    reference: str | None = Field(default=None, max_length=40, index=True)
    message_id: str = Field(max_length=250, unique=True)
    in_reply_to: str | None = Field(default=None, max_length=998)
    references: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    auto_submitted: str = Field(default="auto-replied", max_length=20)
    # [{name, content_type, sha256, cid | null}]; the bytes are in the blob store
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=OutboxState.pending, max_length=12)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    claimed_at: datetime | None = Field(default=None, sa_column=_ts())
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_ts())
    dedupe_key: str | None = Field(default=None, max_length=300, unique=True)
    recipient_key: str = Field(default="", max_length=320)
    cause: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # to an address never written to before: the hourly budget against backscatter counts these
    first_contact: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
