"""Every database table of the tracker (SQLModel), in one module.

Intake: messages, their locations, IMAP checkpoints. Records: submissions, versions,
deficiencies, city packages, recommendation rows, events, the city role's rankings.
The outbox table lives with the notifier (``notifier.models``). Schema changes go
through Alembic migrations (``tracker/store/migrations``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from campaign.clock import utcnow
from notifier.dbtypes import UtcDateTime


def _ts(**kw: Any) -> Column[datetime]:
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
    attempts: int = 0  # hand-outs to understanding, counted before each one
    deaths: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    claimed_by: str | None = Field(default=None, max_length=200)  # "host:pid" understanding it now
    claimed_at: datetime | None = Field(default=None, sa_column=_ts())
    processed_at: datetime | None = Field(default=None, sa_column=_ts())
    as_city: str | None = Field(default=None, max_length=20)  # staff vouch: a city's material (山东通)


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


# --- the round's records ------------------------------------------------------------


class SubmissionStatus(StrEnum):
    incomplete = "incomplete"  # open errors
    complete = "complete"
    under_review = "under_review"
    selected = "selected"
    not_selected = "not_selected"
    withdrawn = "withdrawn"


# staff decisions stand until staff change them; the first two follow the deficiencies
STAFF_STATUSES = frozenset(
    {SubmissionStatus.under_review, SubmissionStatus.selected, SubmissionStatus.not_selected,
     SubmissionStatus.withdrawn}
)


class Submission(SQLModel, table=True):
    """One application: (round, lead unit, direction). Its reference never changes."""

    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint("round_code", "lead_key", "direction"),
        # the workspace's list sorts and filters by these in SQL (migration 0009)
        Index("ix_submission_unit", "unit"),
        Index("ix_submission_direction", "direction"),
        Index("ix_submission_city", "city"),
        Index("ix_submission_unit_city", "unit_city"),
        Index("ix_submission_updated_at", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_code: str = Field(max_length=20)
    reference: str = Field(max_length=40, unique=True)
    lead_key: str = Field(max_length=300, index=True)  # USCC, else "name:" + normalised name
    unit: str | None = Field(default=None, sa_column=Column(Text))
    uscc: str | None = Field(default=None, max_length=18)
    unit_nature: str | None = Field(default=None, max_length=20)
    unit_city: str | None = Field(default=None, max_length=20)  # where the lead unit is registered
    direction: int = 0  # 0: not identified
    task_name: str | None = Field(default=None, sa_column=Column(Text))
    task_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    partners: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    channel: str | None = Field(default=None, max_length=20)  # direct | via_city
    city: str | None = Field(default=None, max_length=20)  # the recommending city (via_city)
    status: str = Field(default=SubmissionStatus.incomplete, max_length=20, index=True)
    late: bool = False
    contacts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    versions: int = 0
    standing_version: int = 0  # the version that counts (a late one never replaces a timely one)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class SubmissionVersion(SQLModel, table=True):
    __tablename__ = "submission_version"
    __table_args__ = (UniqueConstraint("submission_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    number: int
    message_pk: int = Field(foreign_key="message.id", index=True)
    received_at: datetime | None = Field(default=None, sa_column=_ts())
    late: bool = False
    channel: str | None = Field(default=None, max_length=20)
    documents: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class DeficiencyState(StrEnum):
    open = "open"
    resolved = "resolved"


class DeficiencyRecord(SQLModel, table=True):
    __tablename__ = "deficiency"
    # a submission's open codes: the list's column and its filter (migration 0009)
    __table_args__ = (Index("ix_deficiency_open", "submission_id", "state", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int | None = Field(default=None, foreign_key="submission.id", index=True)
    package_id: int | None = Field(default=None, foreign_key="city_package.id", index=True)
    message_pk: int | None = Field(default=None, foreign_key="message.id")
    version: int | None = None
    code: str = Field(max_length=40, index=True)
    severity: str = Field(max_length=10)
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    state: str = Field(default=DeficiencyState.open, max_length=10, index=True)
    opened_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    resolved_at: datetime | None = Field(default=None, sa_column=_ts())
    resolution: str | None = Field(default=None, sa_column=Column(Text))


class CityPackage(SQLModel, table=True):
    """A city bureau's recommendation package; a re-sent table supersedes the older one."""

    __tablename__ = "city_package"

    id: int | None = Field(default=None, primary_key=True)
    round_code: str = Field(max_length=20)
    city: str = Field(max_length=20, index=True)
    version: int = 1
    current: bool = True
    message_pk: int = Field(foreign_key="message.id")
    sender: str | None = Field(default=None, max_length=320)
    verified: bool = True  # sent from an address configured for the city
    has_table: bool = True
    late: bool = False
    received_at: datetime | None = Field(default=None, sa_column=_ts())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class RecommendationRow(SQLModel, table=True):
    __tablename__ = "recommendation"

    id: int | None = Field(default=None, primary_key=True)
    package_id: int = Field(foreign_key="city_package.id", index=True)
    rank: int
    direction: int = 0
    unit: str = Field(sa_column=Column(Text, nullable=False))
    task_name: str | None = Field(default=None, sa_column=Column(Text))
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    # a newer table from the same city replaces its older rows for the directions it lists
    current: bool = True


class Event(SQLModel, table=True):
    """Append-only log of every change and its cause."""

    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    kind: str = Field(max_length=40, index=True)
    actor: str = Field(default="system", max_length=100)
    submission_id: int | None = Field(default=None, foreign_key="submission.id", index=True)
    package_id: int | None = Field(default=None, foreign_key="city_package.id")
    message_pk: int | None = Field(default=None, foreign_key="message.id")
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class CityRecommendation(SQLModel, table=True):
    """One recommended application and its rank within its direction (migration 0004)."""

    __tablename__ = "city_recommendation"
    __table_args__ = (
        UniqueConstraint("round_code", "submission_id", name="uq_city_recommendation_submission"),
        UniqueConstraint("round_code", "city", "direction", "rank", name="uq_city_recommendation_rank"),
        CheckConstraint("rank >= 1", name="ck_city_recommendation_rank"),  # the quota: catalogue
    )

    id: int | None = Field(default=None, primary_key=True)
    round_code: str = Field(max_length=20)
    city: str = Field(max_length=20)
    direction: int
    rank: int
    submission_id: int = Field(foreign_key="submission.id")
    actor: str = Field(default="system", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


class ClaimState(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    rejected = "rejected"


class Claim(SQLModel, table=True):
    """A mail that would change a record its sender does not own: held until staff decide.

    ``kind``: ``reference`` (it quotes another's reference), ``credit_code`` (it repeats a
    lead unit's credit code or name), ``package`` (an unverified city package).
    ``payload`` is what intake understood, kept so confirming applies exactly that.
    """

    __tablename__ = "claim"

    id: int | None = Field(default=None, primary_key=True)
    round_code: str = Field(max_length=20)
    kind: str = Field(max_length=20)
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    message_pk: int = Field(foreign_key="message.id")
    application: int | None = None  # which application of the mail (None: all of it)
    sender: str | None = Field(default=None, max_length=320)
    city: str | None = Field(default=None, max_length=20)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=ClaimState.pending, max_length=12, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=_ts())
    decided_by: str | None = Field(default=None, max_length=100)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


# --- the staff web workspace (migration 0008) ----------------------------------------


class StaffRole(StrEnum):
    province = "province"  # every record, every action
    city = "city"  # its own city's submissions and recommendations
    viewer = "viewer"  # reads; changes nothing


class StaffUser(SQLModel, table=True):
    """A staff account of the web workspace (``jiebang user add``); never deleted, disabled."""

    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=20)
    city: str | None = Field(default=None, max_length=20)  # a city user's (or viewer's) city
    password_hash: str = Field(sa_column=Column(Text, nullable=False))  # argon2id, never the password
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    disabled_at: datetime | None = Field(default=None, sa_column=_ts())


class WebSession(SQLModel, table=True):
    """A signed-in browser. Only a hash of its cookie is stored: a copy of this table opens nothing."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)  # sha256 hex of the cookie's token
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    csrf_token: str = Field(max_length=64)  # every form of this session carries it
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    expires_at: datetime = Field(sa_column=_ts(nullable=False))
    client_ip: str | None = Field(default=None, max_length=64)


class LoginAttempt(SQLModel, table=True):
    """Every login try, so that several processes agree on the rate limit."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False, index=True))
    username: str = Field(max_length=100, index=True)
    client_ip: str = Field(max_length=64, index=True)
    success: bool = False


class FieldOverride(SQLModel, table=True):
    """A staff correction of a field as read from the form; the latest per field stands."""

    __tablename__ = "field_override"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    field: str = Field(max_length=40)
    old_value: Any = Field(default=None, sa_column=Column(JSON))
    new_value: Any = Field(default=None, sa_column=Column(JSON))
    actor: str = Field(max_length=100)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class DocumentPreview(SQLModel, table=True):
    """A Word/WPS document converted to PDF once, kept in the blob store (both by sha256)."""

    __tablename__ = "document_preview"

    source_sha256: str = Field(max_length=64, primary_key=True)
    pdf_sha256: str | None = Field(default=None, max_length=64)  # None: not converted (kept for a reason)
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
