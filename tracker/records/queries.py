"""Read-only views over the records, for the CLI, the digest and the web workspace's list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, and_, case, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from campaign.policy import RoundPolicy
from tracker.store.tables import (
    DeficiencyRecord,
    DeficiencyState,
    Event,
    ExcellentResult,
    MessageState,
    StoredMessage,
    Submission,
    SubmissionStatus,
    SubmissionVersion,
)


def message_rows(engine: Engine, policy: RoundPolicy, *, state: str | None = None) -> list[dict[str, Any]]:
    """`jiebang messages --json` (docs/contracts.md, "Listings"); a not-yet-understood message counts as processed=False."""
    with Session(engine) as session:
        stmt = select(StoredMessage).order_by(col(StoredMessage.id))
        if state:
            stmt = stmt.where(StoredMessage.state == state)
        rows = session.exec(stmt).all()
    return [
        {
            "message_id": m.message_id,
            "from": m.from_addr,
            "subject": m.subject,
            "received_at": m.received_at.astimezone(policy.tz).isoformat() if m.received_at else None,
            "intent": m.intent,
            "state": m.state if m.state != MessageState.stored else "stored",
            "error": m.error,
            "references": list(m.references or []),
        }
        for m in rows
    ]


def open_codes(session: Session, submission_id: int) -> list[str]:
    return open_codes_of(session, [submission_id]).get(submission_id, [])


def open_codes_of(session: Session, submission_ids: Sequence[int]) -> dict[int, list[str]]:
    """The open deficiency codes of each of *submission_ids* (oldest first), in one query."""
    out: dict[int, list[str]] = {}
    ids = list(submission_ids)
    for start in range(0, len(ids), 900):  # SQLite's limit on bound parameters, with room
        rows = session.exec(
            select(DeficiencyRecord.submission_id, DeficiencyRecord.code)
            .where(col(DeficiencyRecord.submission_id).in_(ids[start:start + 900]),
                   DeficiencyRecord.state == DeficiencyState.open)
            .order_by(col(DeficiencyRecord.id))
        ).all()
        for sid, code in rows:
            codes = out.setdefault(sid or 0, [])
            if code not in codes:
                codes.append(code)
    return out


# --- the staff list: one filter for the list, its counts and its exports ------------------------
@dataclass(frozen=True)
class SubmissionFilter:
    """Which submissions a list or an export holds; empty fields match everything.

    ``city`` matches the recommending city or the lead unit's registered city (the
    province's city filter); ``recommended_by`` only what that city recommended (channel
    via_city, its city: a city account's scope in the web workspace, never province-direct
    applications); ``deficiency`` is an open code, or ``any``; ``text`` is found in the
    unit's name, the credit code or the reference.
    """

    direction: int | None = None
    city: str | None = None
    channel: str | None = None
    status: str | None = None
    deficiency: str | None = None
    late: bool | None = None
    text: str | None = None
    recommended_by: str | None = None

    def apply(self, stmt: Any) -> Any:
        """*stmt* (a select over ``submission``) narrowed to the filter, in SQL."""
        if self.recommended_by is not None:
            stmt = stmt.where(Submission.channel == "via_city", Submission.city == self.recommended_by)
        if self.direction:
            stmt = stmt.where(Submission.direction == self.direction)
        if self.city:
            stmt = stmt.where((col(Submission.city) == self.city) | (col(Submission.unit_city) == self.city))
        if self.channel:
            stmt = stmt.where(Submission.channel == self.channel)
        if self.status:
            stmt = stmt.where(Submission.status == self.status)
        if self.late is not None:
            stmt = stmt.where(Submission.late == self.late)
        if self.deficiency:
            found = select(DeficiencyRecord.id).where(DeficiencyRecord.submission_id == Submission.id,
                                                     DeficiencyRecord.state == DeficiencyState.open)
            if self.deficiency != "any":
                found = found.where(DeficiencyRecord.code == self.deficiency)
            stmt = stmt.where(exists(found))
        needle = (self.text or "").strip().upper()
        if needle:
            stmt = stmt.where(func.upper(col(Submission.unit)).contains(needle, autoescape=True)
                              | col(Submission.uscc).contains(needle, autoescape=True)
                              | col(Submission.reference).contains(needle, autoescape=True))
        return stmt


# the keys a list may be sorted by (anything else: the default); every order ends with the id
SORT_KEYS = ("reference", "unit", "received", "status", "direction", "city", "waiting")
DEFAULT_SORT = "reference"
PER_PAGE, MAX_PER_PAGE = 100, 200
_FIRST = aliased(SubmissionVersion)  # the first version: when the submission was first received


def _received() -> Any:
    return func.coalesce(_FIRST.received_at, Submission.created_at)


def _order(sort: str, descending: bool, cities: Sequence[str]) -> list[Any]:
    """ORDER BY terms: empty values last both ways; then the id, so that pages never overlap."""
    def way(term: Any) -> Any:
        return term.desc() if descending else term.asc()

    shown_city = func.coalesce(Submission.city, Submission.unit_city)
    if sort == "unit":
        terms = [col(Submission.unit).is_(None), way(col(Submission.unit))]
    elif sort == "received":
        terms = [way(_received())]
    elif sort == "status":  # in the order a submission moves through them
        terms = [way(case({s.value: i for i, s in enumerate(SubmissionStatus)}, value=Submission.status, else_=99))]
    elif sort == "direction":  # 0 (not identified) last
        terms = [Submission.direction == 0, way(col(Submission.direction))]
    elif sort == "city":  # in the notice's order of the cities
        terms = [shown_city.is_(None), way(case({c: i for i, c in enumerate(cities)}, value=shown_city, else_=99)),
                 way(shown_city)]
    elif sort == "waiting":
        terms = [way(col(Submission.updated_at))]
    else:
        terms = [way(col(Submission.reference))]
    return [*terms, way(col(Submission.id))]


RowT = TypeVar("RowT")


@dataclass(frozen=True)
class Page(Generic[RowT]):
    """One page of a listing paged in SQL: its rows and where it stands."""

    rows: list[RowT]
    total: int  # how many the filter matches
    page: int  # 1-based, within 1..pages
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The position of the page's first row (1-based; 0 when empty)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0


SubmissionPage = Page[dict[str, Any]]


def _row(sub: Submission, codes: list[str], received: datetime | None = None) -> dict[str, Any]:
    return {
        "reference": sub.reference, "unit": sub.unit, "uscc": sub.uscc,
        "direction": sub.direction or None, "channel": sub.channel, "city": sub.city or sub.unit_city,
        "status": sub.status, "versions": sub.versions, "late": sub.late,
        "deficiencies": codes, "contacts": list(sub.contacts), "formal": sub.formal,
        "acceptance": sub.acceptance,
        **({"received": received, "waiting": sub.updated_at} if received is not None else {}),
    }


def submission_page(session: Session, which: SubmissionFilter = SubmissionFilter(), *, sort: str = DEFAULT_SORT,
                    descending: bool = False, page: int = 1, per_page: int = PER_PAGE,
                    cities: Sequence[str] = ()) -> SubmissionPage:
    """One page of the filtered list, sorted in SQL (LIMIT/OFFSET); *cities* in their
    official order for sorting by city. A page past the last one is the last one."""
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    total = int(session.exec(which.apply(select(func.count()).select_from(Submission))).one())
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    sort = sort if sort in SORT_KEYS else DEFAULT_SORT
    # the ids of the page first: the database sorts narrow rows (an id and its key), not whole records
    stmt = select(Submission.id)
    if sort == "received":
        stmt = stmt.outerjoin(_FIRST, and_(col(_FIRST.submission_id) == Submission.id, col(_FIRST.number) == 1))
    stmt = which.apply(stmt).order_by(*_order(sort, descending, cities))
    ids = [int(i) for i in session.exec(stmt.offset((page - 1) * per_page).limit(per_page)).all()]
    subs = {sub.id: sub for sub in session.exec(select(Submission).where(col(Submission.id).in_(ids))).all()}
    received = dict(session.exec(select(SubmissionVersion.submission_id, SubmissionVersion.received_at).where(
        col(SubmissionVersion.submission_id).in_(ids), SubmissionVersion.number == 1)).all())
    codes = open_codes_of(session, ids)
    rows = [_row(subs[i], codes.get(i, []), received.get(i) or subs[i].created_at) for i in ids if i in subs]
    return SubmissionPage(rows, total, page, per_page)


def submission_counts(session: Session, which: SubmissionFilter = SubmissionFilter()) -> dict[str, Any]:
    """How many the filter matches, per (direction, channel) and per city, counted in SQL."""
    by_direction = which.apply(select(Submission.direction, Submission.channel, func.count())
                               .select_from(Submission)).group_by(Submission.direction, Submission.channel)
    shown_city = func.coalesce(Submission.city, Submission.unit_city)
    by_city = which.apply(select(shown_city, func.count()).select_from(Submission)).group_by(shown_city)
    cells = {(d or 0, ch): int(n) for d, ch, n in session.exec(by_direction).all()}
    return {"cells": cells, "cities": {c: int(n) for c, n in session.exec(by_city).all()},
            "total": sum(cells.values())}


def submission_rows(engine: Engine, *, direction: int | None = None, city: str | None = None,
                    channel: str | None = None, status: str | None = None,
                    has_deficiency: str | None = None, late: bool | None = None,
                    recommended_by: str | None = None) -> list[dict[str, Any]]:
    """`jiebang list --json` (docs/contracts.md, "Listings"), with the staff filters."""
    which = SubmissionFilter(direction=direction, city=city, channel=channel, status=status,
                             deficiency=has_deficiency, late=late, recommended_by=recommended_by)
    with Session(engine) as session:
        subs = session.exec(which.apply(select(Submission)).order_by(Submission.reference)).all()
        codes = open_codes_of(session, [sub.id or 0 for sub in subs])
        chosen = set(session.exec(select(ExcellentResult.submission_id)).all())
        return [{**_row(sub, codes.get(sub.id or 0, [])), "excellent": sub.id in chosen} for sub in subs]


def find_submission(session: Session, reference: str) -> Submission | None:
    return session.exec(select(Submission).where(Submission.reference == reference.strip().upper())).first()


def submission_detail(engine: Engine, reference: str) -> dict[str, Any] | None:
    """Everything staff need about one submission: versions, documents, deficiencies, events."""
    with Session(engine) as session:
        sub = find_submission(session, reference)
        if sub is None:
            return None
        versions = session.exec(select(SubmissionVersion).where(SubmissionVersion.submission_id == sub.id)
                                .order_by(col(SubmissionVersion.number))).all()
        defs = session.exec(select(DeficiencyRecord).where(DeficiencyRecord.submission_id == sub.id)
                            .order_by(col(DeficiencyRecord.id))).all()
        events = session.exec(select(Event).where(Event.submission_id == sub.id).order_by(col(Event.id))).all()
        return {
            "submission": sub.model_dump(),
            "versions": [v.model_dump() for v in versions],
            "deficiencies": [d.model_dump() for d in defs],
            "events": [e.model_dump() for e in events],
        }
