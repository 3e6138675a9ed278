"""The typed, immutable values staff views are made of (digest, chart, workbooks).

Built by ``digest.gather`` and ``recommendation``; laid out by templates, the chart and
the workbook, which import these types and nothing that computes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class DirectionCount:
    direction: int  # 0: not identified
    label: str
    direct: int
    via_city: int
    total: int  # every channel, including a not-yet-known one


@dataclass(frozen=True)
class QuotaCell:
    direction: int
    label: str
    rows: int
    over: bool  # more than CITY_QUOTA rows in the city's current table


@dataclass(frozen=True)
class CityStatus:
    city: str
    received: bool  # a current package exists
    version: int | None
    received_at: datetime | None
    late: bool
    verified: bool
    has_table: bool
    quota: tuple[QuotaCell, ...]  # directions the current table lists
    submissions: int  # via_city submissions recorded for this city


@dataclass(frozen=True)
class SubmissionItem:
    reference: str
    unit: str
    direction_label: str
    channel_label: str
    city: str
    version: int
    received_at: datetime | None


@dataclass(frozen=True)
class DeficiencyCount:
    code: str
    severity: str
    title: str
    count: int


@dataclass(frozen=True)
class LateItem:
    reference: str  # a submission's reference, or the city for a package
    unit: str
    channel_label: str
    received_at: datetime | None
    deadline: date | None
    note: str


@dataclass(frozen=True)
class MessageItem:
    id: int
    from_addr: str
    subject: str
    received_at: datetime | None
    intent_label: str
    error: str


@dataclass(frozen=True)
class MailProblem:
    id: int
    kind_label: str
    to: str
    subject: str
    state_label: str
    error: str


@dataclass(frozen=True)
class DeadlineItem:
    key: str
    label: str
    day: date
    days_left: int  # negative: passed
    text: str  # 还有5天 · 今天截止 · 已截止3天


@dataclass(frozen=True)
class DailyPoint:
    day: date
    direct: int  # cumulative
    via_city: int
    total: int


@dataclass(frozen=True)
class RankedItem:
    """A city's own recommendation (city role)."""

    direction_label: str
    rank: int
    reference: str
    unit: str
    status_label: str


@dataclass(frozen=True)
class Digest:
    owner: str  # whose digest: 山东省大数据局 / 济南市大数据局
    role: str
    city: str | None
    round_code: str
    generated_at: datetime
    today: date
    since: datetime | None  # when the previous digest was written; None: the first one
    submissions: int  # not withdrawn
    incomplete: int  # submissions with open errors
    needs_attention: int  # quarantined + failed/bounced mail + unanswered questions + held answers
    statuses: tuple[Count, ...]
    directions: tuple[DirectionCount, ...]
    direction_total: DirectionCount
    cities: tuple[CityStatus, ...]  # province role: all 16
    messages_since: int
    intents_since: tuple[Count, ...]
    new_submissions: tuple[SubmissionItem, ...]
    new_versions: tuple[SubmissionItem, ...]  # second and later versions
    errors: tuple[DeficiencyCount, ...]
    warnings: tuple[DeficiencyCount, ...]
    late: tuple[LateItem, ...]
    quarantined: tuple[MessageItem, ...]
    mail_problems: tuple[MailProblem, ...]
    unanswered: tuple[MessageItem, ...]
    held: int  # automatic answers held by the first-contact budget, waiting for staff
    held_oldest: datetime | None  # when the oldest of them was written (round's zone)
    deadlines: tuple[DeadlineItem, ...]
    daily: tuple[DailyPoint, ...]
    recommendations: tuple[RankedItem, ...]  # city role
    # after intake (SPEC 6, 7): formal review, objections, acceptance — only what is non-zero
    after_intake: tuple[Count, ...] = ()
