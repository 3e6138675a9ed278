"""The round's records: submissions, versions, deficiencies, city packages, events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from tracker.models import _ts, utcnow


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
    __table_args__ = (UniqueConstraint("round_code", "lead_key", "direction"),)

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
    fields: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class DeficiencyState(StrEnum):
    open = "open"
    resolved = "resolved"


class DeficiencyRecord(SQLModel, table=True):
    __tablename__ = "deficiency"

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
