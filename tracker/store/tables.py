"""Every database table of the tracker (SQLModel), in one module.

Intake: messages, their locations, IMAP checkpoints. Records: submissions, versions,
deficiencies, city packages, recommendation rows, events, the city role's rankings.
The outbox table lives with the notifier (``notifier.models``). Schema changes go
through Alembic migrations (``tracker/store/migrations``).
"""

from __future__ import annotations

from datetime import date, datetime
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
    text,
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


class MessageOcr(SQLModel, table=True):
    """The 今日 page's OCR queue, for a mail whose parts are pictures or PDFs: what their
    headers said when it was stored (intake.glance.ocr_hint) and, once it is understood,
    whether a document was a scan. A table of its own, not columns of ``message``: a
    command reading an older database still reads its messages."""

    __tablename__ = "message_ocr"

    message_pk: int = Field(foreign_key="message.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    hint: str = Field(max_length=10)  # pictures | pdf
    scanned: bool | None = None


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
    formal_failed = "formal_failed"  # failed formal review (形式审查), with its reason


# staff decisions stand until staff change them; the first two follow the deficiencies
STAFF_STATUSES = frozenset(
    {SubmissionStatus.under_review, SubmissionStatus.selected, SubmissionStatus.not_selected,
     SubmissionStatus.withdrawn, SubmissionStatus.formal_failed}
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
        # the next reference: the last entry, longest then greatest (migration 0015)
        Index("ix_submission_reference_order", "round_code", text("length(reference)"), "reference"),
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
    formal: str | None = Field(default=None, max_length=10)  # 形式审查: None | pass | fail (0010)
    formal_reason: str | None = Field(default=None, sa_column=Column(Text))
    acceptance: str | None = Field(default=None, max_length=20)  # None | requested | passed | rework (0012)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class SubmissionUnitKey(SQLModel, table=True):
    """A key one of a submission's units is found by (0014): the lead's credit code and name,
    each partner's name (tracker/records/unit_keys.py), so that credit checks and conflicts
    look a unit up instead of reading every submission."""

    __tablename__ = "submission_unit_key"
    # its index, led by submission_id, also serves rewriting one submission's keys
    __table_args__ = (UniqueConstraint("submission_id", "role", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id")
    role: str = Field(max_length=20)  # lead_unit | partner_unit
    key: str = Field(max_length=300, index=True)  # USCC, else "name:" + normalised name


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
    __table_args__ = (Index("ix_deficiency_open", "submission_id", "state", "code"),
                      # a rule across mails finds its open rows by code (0013): flat as the round grows
                      Index("ix_deficiency_code_state", "code", "state"))

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
    expert = "expert"  # scores its panels' applications; sees nothing else (migration 0010)


class StaffUser(SQLModel, table=True):
    """A staff account of the web workspace (``jiebang user add``); never deleted, disabled."""

    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=20)
    city: str | None = Field(default=None, max_length=20)  # a city user's (or viewer's) city
    password_hash: str = Field(sa_column=Column(Text, nullable=False))  # argon2id, never the password
    # an expert's (0010): where invitations go, and the unit its conflicts are found from
    email: str | None = Field(default=None, max_length=320)
    unit: str | None = Field(default=None, sa_column=Column(Text))
    uscc: str | None = Field(default=None, max_length=18)
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


# --- the team's workspace: two-factor sign-in, assignments, notes, saved filters (migration 0011) --


class StaffTwoFactor(SQLModel, table=True):
    """An account's TOTP secret (RFC 6238); present once enrolled (``jiebang user 2fa``)."""

    __tablename__ = "staff_two_factor"

    user_id: int = Field(foreign_key="staff_user.id", primary_key=True)
    secret: str = Field(max_length=64)  # base32; the server must compute codes, so not a hash
    enrolled_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    # the last time step whose code was accepted: a code (or an earlier one) never works twice
    last_step: int | None = Field(default=None, sa_column=Column(BigInteger))


class RecoveryCode(SQLModel, table=True):
    """One single-use recovery code of an enrolled account, as its sha256 only."""

    __tablename__ = "staff_recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = Field(default=None, sa_column=_ts())


class LoginChallenge(SQLModel, table=True):
    """A password accepted, the second factor not yet: a half-signed-in browser is no session.

    The browser holds a random token in a cookie; only its sha256 is kept here."""

    __tablename__ = "login_challenge"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    expires_at: datetime = Field(sa_column=_ts(nullable=False))
    client_ip: str | None = Field(default=None, max_length=64)
    failures: int = 0  # wrong codes; the challenge ends after a few


class Assignment(SQLModel, table=True):
    """Who handles a submission or an incoming mail now (one row each; history in the events)."""

    __tablename__ = "assignment"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int | None = Field(default=None, foreign_key="submission.id", unique=True)
    message_pk: int | None = Field(default=None, foreign_key="message.id", unique=True)
    assignee_id: int = Field(foreign_key="staff_user.id", index=True)
    actor: str = Field(max_length=100)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class StaffNote(SQLModel, table=True):
    """An internal note on a submission: staff read it, applicants never do."""

    __tablename__ = "staff_note"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    author: str = Field(max_length=100)
    text: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class SavedFilter(SQLModel, table=True):
    """A named filter of the list, one user's own."""

    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_filter_name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    name: str = Field(max_length=60)
    query: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class MailHandled(SQLModel, table=True):
    """An incoming mail that needed a person (需人工答复) and was dealt with."""

    __tablename__ = "mail_handled"

    message_pk: int = Field(foreign_key="message.id", primary_key=True)
    actor: str = Field(max_length=100)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    outbox_id: int | None = None  # the answer, when one was sent from the page


# --- review: credit checks, panels, conflicts, scores, publication (migration 0010) ---


class CreditResult(StrEnum):
    clean = "clean"  # 信用良好
    dishonest = "dishonest"  # 失信: fails the units' applications (条件5)
    abnormal = "abnormal"  # 经营异常: staff decide


class CreditCheck(SQLModel, table=True):
    """One look-up of a unit in 信用中国 / 信用山东, as staff recorded it; the latest counts."""

    __tablename__ = "credit_check"

    id: int | None = Field(default=None, primary_key=True)
    unit_key: str = Field(max_length=300, index=True)  # USCC, else "name:" + normalised name
    unit: str | None = Field(default=None, sa_column=Column(Text))
    uscc: str | None = Field(default=None, max_length=18)
    result: str = Field(max_length=20)
    source: str = Field(max_length=20)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    evidence_sha256: str | None = Field(default=None, max_length=64)  # the screenshot / PDF, in the store
    evidence_name: str | None = Field(default=None, max_length=255)
    recorded_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Panel(SQLModel, table=True):
    """A 评审组: its experts score every formally passed application of its directions."""

    __tablename__ = "panel"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    directions: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=_ts())  # scores visible to the panel after
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class PanelMember(SQLModel, table=True):
    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("panel_id", "expert_id"),)

    id: int | None = Field(default=None, primary_key=True)
    panel_id: int = Field(foreign_key="panel.id", index=True)
    expert_id: int = Field(foreign_key="staff_user.id", index=True)
    invited_at: datetime | None = Field(default=None, sa_column=_ts())
    reminded_at: datetime | None = Field(default=None, sa_column=_ts())


class Recusal(SQLModel, table=True):
    """A conflict of interest (回避) that was not found from the units: declared by the
    expert or added by staff. Found ones (lead/partner unit) are computed, never stored."""

    __tablename__ = "recusal"
    __table_args__ = (UniqueConstraint("expert_id", "submission_id"),)

    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="staff_user.id", index=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    reason: str = Field(max_length=20)  # declared | staff
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    recorded_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Score(SQLModel, table=True):
    """One expert's score sheet for one application (criterion name → points)."""

    __tablename__ = "score"
    __table_args__ = (UniqueConstraint("submission_id", "expert_id"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    expert_id: int = Field(foreign_key="staff_user.id", index=True)
    marks: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    total: float = 0
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    source: str = Field(max_length=20)  # workspace | sheet
    entered_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Publication(SQLModel, table=True):
    """The 公示名单 as published: when, by whom, and when its 公示期 ends."""

    __tablename__ = "publication"

    id: int | None = Field(default=None, primary_key=True)
    round_code: str = Field(max_length=20)
    published_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    notice_ends: date
    estimated: bool = False  # the end date counted beyond the holiday calendar's years
    references: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    published_by: str = Field(max_length=100)


class Objection(SQLModel, table=True):
    """A mail objecting (异议) to a published application during its 公示期: a staff item."""

    __tablename__ = "objection"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int | None = Field(default=None, foreign_key="submission.id", index=True)
    message_pk: int = Field(foreign_key="message.id", unique=True)
    sender: str | None = Field(default=None, max_length=320)
    state: str = Field(default="open", max_length=20)  # open | handled
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    handled_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


# --- the year after: acceptance and excellent results (migration 0012) -------------------


class AcceptanceRequest(SQLModel, table=True):
    """A selected unit's request for acceptance (验收), checked against what its form promised."""

    __tablename__ = "acceptance_request"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    message_pk: int = Field(foreign_key="message.id", unique=True)
    # [{"name": file, "outcomes": [kind, …]}] and the promised outcome labels not found
    received: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    missing: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class AcceptanceDecision(SQLModel, table=True):
    """Staff's result: passed, or rework with a reason and a date (the latest counts)."""

    __tablename__ = "acceptance_decision"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    result: str = Field(max_length=20)  # passed | rework
    reason: str = Field(sa_column=Column(Text, nullable=False))
    until: date | None = None  # rework: the date the unit must be done by
    reminded_at: datetime | None = Field(default=None, sa_column=_ts())
    decided_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class ExcellentResult(SQLModel, table=True):
    """A passed application chosen among the excellent results (优秀成果), who and when."""

    __tablename__ = "excellent_result"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", unique=True)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    marked_by: str = Field(max_length=100)
    marked_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
