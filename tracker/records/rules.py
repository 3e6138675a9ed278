"""Rules across messages, as registered ``CrossRule``s: one lead unit, one direction
(DUPLICATE_LEAD); at most ``city_quota`` per city per direction (CITY_QUOTA_EXCEEDED).

Each rule recomputes its deficiencies from the records and opens or resolves them,
so re-running after any change (or after a crash) converges to the same state.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session, col, select

from campaign import DeficiencyCode, code
from campaign.clock import utcnow
from campaign.codes import quota_exceeded_message
from campaign.policy import RoundPolicy
from tracker.records.status import refresh_status
from tracker.store.tables import (
    CityPackage,
    DeficiencyRecord,
    DeficiencyState,
    Event,
    RecommendationRow,
    StoredMessage,
    Submission,
    SubmissionStatus,
)


def _open(session: Session, code: str, **where: object) -> list[DeficiencyRecord]:
    stmt = select(DeficiencyRecord).where(DeficiencyRecord.code == code,
                                          DeficiencyRecord.state == DeficiencyState.open)
    for name, value in where.items():
        stmt = stmt.where(getattr(DeficiencyRecord, name) == value)
    return list(session.exec(stmt).all())


def _reconcile(session: Session, code: str, wanted: dict[tuple[str, int], str],
               cause: StoredMessage | None, scope: list[DeficiencyRecord]) -> set[int]:
    """Make the open ``code`` rows equal ``wanted`` ((owner kind, id) → message)."""
    touched: set[int] = set()
    have = {("sub" if r.submission_id else "pkg", r.submission_id or r.package_id): r for r in scope}
    for owner, row in have.items():
        if owner not in wanted:
            row.state, row.resolved_at, row.resolution = DeficiencyState.resolved, utcnow(), "已不再存在"
            session.add(row)
            _log(session, "deficiency_resolved", owner, code, cause)
            if row.submission_id:  # owner ("sub", its submission_id)
                touched.add(row.submission_id)
    for owner, message in wanted.items():
        if owner in have:
            continue
        kind, pk = owner
        session.add(DeficiencyRecord(
            submission_id=pk if kind == "sub" else None, package_id=pk if kind == "pkg" else None,
            message_pk=cause.id if cause else None, code=code, severity="error", message=message,
        ))
        _log(session, "deficiency_opened", owner, code, cause)
        if kind == "sub":
            touched.add(pk)
    return touched


def _log(session: Session, kind: str, owner: tuple[str, int | None], code: str, cause: StoredMessage | None) -> None:
    session.add(Event(kind=kind, submission_id=owner[1] if owner[0] == "sub" else None,
                      package_id=owner[1] if owner[0] == "pkg" else None,
                      message_pk=cause.id if cause else None, detail=code))


def refresh_duplicate_leads(session: Session, policy: RoundPolicy, cause: StoredMessage | None = None,
                            city: str | None = None, *, leads: set[str] | None = None) -> set[int]:
    """Open or resolve DUPLICATE_LEAD; with *leads*, only where it can have changed.

    A recorded mail changes the groups of the lead units it touched (*leads*: their
    ``lead_key``) and no other; the units that hold an open DUPLICATE_LEAD are looked at
    too (one of them may have left its group: a new version named another unit). Both are
    looked up by the indexed ``lead_key``, so the cost per mail stays flat however many
    submissions the round has. Without *leads* (staff decisions, withdrawals), every unit.
    """
    round_code = policy.code
    scope = [r for r in _open(session, "DUPLICATE_LEAD") if r.submission_id]
    stmt = select(Submission).where(Submission.round_code == round_code,
                                    Submission.status != SubmissionStatus.withdrawn,
                                    col(Submission.lead_key).not_like("unidentified:%"))
    if leads is not None:
        flagged = {r.submission_id for r in scope}
        keys = set(leads) | set(session.exec(
            select(Submission.lead_key).where(col(Submission.id).in_(flagged))).all() if flagged else set())
        if not keys:
            return set()
        stmt = stmt.where(col(Submission.lead_key).in_(keys))
    subs = session.exec(stmt).all()
    by_lead: dict[str, list[Submission]] = defaultdict(list)
    for sub in subs:
        by_lead[sub.lead_key].append(sub)
    wanted: dict[tuple[str, int], str] = {}
    for group in by_lead.values():
        directions = {s.direction for s in group}
        if len(directions) > 1:
            # the notice goes to each submission's own contacts: it names no other
            # submission's reference or direction (staff see them side by side)
            for sub in group:
                assert sub.id is not None  # a stored row
                wanted[("sub", sub.id)] = (f"{sub.unit or '该单位'}作为揭榜单位在本轮申报中牵头了{len(directions)}个方向；"
                                           "每个揭榜单位限牵头申报1个方向。")
    touched = _reconcile(session, "DUPLICATE_LEAD", wanted, cause, scope)
    _refresh(session, touched, cause)
    return touched


@dataclass
class _Entry:
    rank: int
    submission_id: int | None
    package_id: int | None


def _city_entries(session: Session, round_code: str, city: str) -> dict[int, list[_Entry]]:
    """Per direction: the city's current table rows, then its forms that no table lists."""
    all_rows = session.exec(
        select(RecommendationRow).join(CityPackage, col(RecommendationRow.package_id) == col(CityPackage.id)).where(
            CityPackage.round_code == round_code, CityPackage.city == city)
    ).all()
    rows = [r for r in all_rows if r.current]
    # a form the city listed once and left out of a newer table is no longer recommended
    dropped = {r.submission_id for r in all_rows if not r.current and r.submission_id}
    by_direction: dict[int, list[_Entry]] = defaultdict(list)
    listed: set[int] = set()
    for row in sorted(rows, key=lambda r: (r.rank, r.id)):
        by_direction[row.direction].append(_Entry(row.rank, row.submission_id, row.package_id))
        if row.submission_id:
            listed.add(row.submission_id)
    # applications a city forwarded without listing them still count against its quota
    unlisted = session.exec(
        select(Submission).where(Submission.round_code == round_code, Submission.channel == "via_city",
                                 Submission.city == city, Submission.status != SubmissionStatus.withdrawn)
        .order_by(col(Submission.id))
    ).all()
    for sub in unlisted:
        if sub.id not in listed and sub.id not in dropped and sub.direction:
            by_direction[sub.direction].append(_Entry(99, sub.id, None))
    return by_direction


def refresh_city_quota(session: Session, policy: RoundPolicy, cause: StoredMessage | None = None,
                       city: str | None = None, *, leads: set[str] | None = None) -> set[int]:
    """One city's quota (*city*), or every city that has sent a package (*leads* unused:
    a city's entries are looked up by the city)."""
    if city is None:
        touched: set[int] = set()
        for name in _package_cities(session, policy.code):
            touched |= refresh_city_quota(session, policy, cause, name)
        return touched
    quota, round_code = policy.catalogue.city_quota, policy.code
    wanted: dict[tuple[str, int], str] = {}
    for direction, group in _city_entries(session, round_code, city).items():
        if not direction or len(group) <= quota:
            continue
        text = quota_exceeded_message(city, policy.catalogue.direction_label(direction), len(group), quota)
        for entry in group:
            if entry.package_id:
                wanted[("pkg", entry.package_id)] = text
        for position, entry in enumerate(group[quota:], start=quota + 1):
            if entry.submission_id:
                wanted[("sub", entry.submission_id)] = text + f"本项位列第{position}，超出限额。"
    city_packages = set(session.exec(select(CityPackage.id).where(CityPackage.city == city)).all())
    scope = [r for r in _open(session, "CITY_QUOTA_EXCEEDED")
             if r.package_id in city_packages or (r.submission_id and _sub_in_city(session, r.submission_id, city))]
    touched = _reconcile(session, "CITY_QUOTA_EXCEEDED", wanted, cause, scope)
    _refresh(session, touched, cause)
    return touched


def _sub_in_city(session: Session, sub_id: int, city: str) -> bool:
    sub = session.get(Submission, sub_id)
    return sub is not None and sub.city == city


def _refresh(session: Session, sub_ids: set[int], cause: StoredMessage | None) -> None:
    session.flush()
    for pk in sub_ids:
        sub = session.get(Submission, pk)
        if sub is not None:
            refresh_status(session, sub, cause=cause)


def _package_cities(session: Session, round_code: str) -> set[str]:
    return set(session.exec(select(CityPackage.city).where(CityPackage.round_code == round_code)).all())


class Refresh(Protocol):
    """*leads*: the lead units (``lead_key``) a recorded mail touched, so that a rule may
    look at those alone; None: everything (after a staff decision)."""

    def __call__(self, session: Session, policy: RoundPolicy, cause: StoredMessage | None = None,
                 city: str | None = None, *, leads: set[str] | None = None) -> set[int]: ...


@dataclass(frozen=True)
class CrossRule:
    """A rule over many messages: its declared code and how to bring its rows up to date.

    ``refresh(session, policy, cause, city)`` returns the submissions whose deficiencies
    changed; *city* narrows a per-city rule to one city (None: all of them).
    """

    code: DeficiencyCode
    refresh: Refresh
    per_city: bool = False  # only a city's own package can change it


CROSS_RULES: tuple[CrossRule, ...] = (
    CrossRule(code("DUPLICATE_LEAD"), refresh_duplicate_leads),
    CrossRule(code("CITY_QUOTA_EXCEEDED"), refresh_city_quota, per_city=True),
)


def refresh_all(session: Session, policy: RoundPolicy, cause: StoredMessage | None = None,
                city: str | None = None) -> set[int]:
    """Re-run every rule across messages (after a new mail, or a staff decision such as a withdrawal)."""
    touched: set[int] = set()
    for rule in CROSS_RULES:
        touched |= rule.refresh(session, policy, cause, city)
    return touched
