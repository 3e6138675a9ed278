"""Database tables (SQLModel). Schema changes go through Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from notifier.dbtypes import UtcDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kw: object) -> Column:
    return Column(UtcDateTime(), **kw)


class MessageState(StrEnum):
    stored = "stored"  # committed, not yet understood
    processed = "processed"
    quarantined = "quarantined"  # processing raised, or the message could not be fetched


class StoredMessage(SQLModel, table=True):
    """One distinct incoming message, stored exactly once (keyed by ``content_key``)."""

    __tablename__ = "message"

    id: int | None = Field(default=None, primary_key=True)
    content_key: str = Field(max_length=80, unique=True)
    raw_sha256: str | None = Field(default=None, max_length=64, index=True)
    size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    message_id: str | None = Field(default=None, max_length=998, index=True)
    from_addr: str | None = Field(default=None, max_length=320)
    subject: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    source: str = Field(max_length=300)
    folder: str | None = Field(default=None, max_length=300)
    uidvalidity: int | None = Field(default=None, sa_column=Column(BigInteger))
    uid: int | None = Field(default=None, sa_column=Column(BigInteger))
    received_at: datetime | None = Field(default=None, sa_column=_ts())
    header_date: datetime | None = Field(default=None, sa_column=_ts())
    stored_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    state: str = Field(default=MessageState.stored, max_length=20, index=True)
    error: str | None = Field(default=None, sa_column=Column(Text))
    intent: str | None = Field(default=None, max_length=20)
    references: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    processed_at: datetime | None = Field(default=None, sa_column=_ts())


class MessageLocation(SQLModel, table=True):
    """Every place a message was seen (re-deliveries, copies in other folders)."""

    __tablename__ = "message_location"
    __table_args__ = (UniqueConstraint("source", "folder", "uidvalidity", "uid", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    message_pk: int = Field(foreign_key="message.id", index=True)
    source: str = Field(max_length=300)
    folder: str = Field(default="", max_length=300)
    uidvalidity: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    uid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    key: str = Field(default="", max_length=300)  # maildir file key or pipe digest
    seen_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class MailboxCheckpoint(SQLModel, table=True):
    """Per-folder IMAP checkpoint: everything up to ``last_uid`` is committed."""

    __tablename__ = "mailbox_checkpoint"
    __table_args__ = (UniqueConstraint("source", "folder"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=300)
    folder: str = Field(max_length=300)
    uidvalidity: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_uid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
