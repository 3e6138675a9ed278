"""Credit checks (notice 三, 条件5): the lead unit and every partner are looked up in 信用中国
/ 信用山东; staff record what they found, per unit, with the evidence file. The latest
record of a unit counts. A unit recorded dishonest fails every application it leads or
joins at once (formal review, with the reason); the applicant hears of it only when staff
release the results."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from campaign.labels import CREDIT_LABELS, CREDIT_SOURCES
from tracker.records import unit_keys
from tracker.records.events import record
from tracker.records.review import ReviewRefused
from tracker.records.review.formal import fail_formally
from tracker.records.review.units import Unit, key_of, matches, units_of
from tracker.store.tables import CreditCheck, CreditResult, Submission, SubmissionStatus


@dataclass(frozen=True)
class Recorded:
    check: CreditCheck
    failed: list[str]  # references failed by this record
    concerned: list[str]  # every application the unit leads or joins


def _is_uscc(text: str) -> bool:
    return len(text) == 18 and text.isalnum() and text.isascii()


def record_credit(session: Session, who: str, result: str, source: str, *, actor: str, note: str = "",
                  evidence_sha256: str | None = None, evidence_name: str | None = None) -> Recorded:
    """Record one unit's credit result; *who* is its credit code or its name."""
    who = (who or "").strip()
    if not who:
        raise ReviewRefused("请给出单位名称或统一社会信用代码")
    if result not in {r.value for r in CreditResult}:
        raise ReviewRefused("查询结果只能是：" + "、".join(CREDIT_LABELS.values()))
    if source not in CREDIT_SOURCES:
        raise ReviewRefused("查询来源只能是：" + "、".join(CREDIT_SOURCES))
    uscc = who.upper() if _is_uscc(who) else None
    name = None if uscc else who
    concerned = _applications_of(session, name, uscc)
    if uscc and name is None:  # the name, from an application that gives this code
        name = next((u.name for s in concerned for u in units_of(s) if u.uscc and u.uscc.upper() == uscc), None)
    check = CreditCheck(unit_key=key_of(name, uscc), unit=name, uscc=uscc, result=result, source=source,
                        note=note, evidence_sha256=evidence_sha256, evidence_name=evidence_name, recorded_by=actor)
    session.add(check)
    session.flush()
    label = f"{name or uscc}：{CREDIT_LABELS[result]}（{source}）"
    failed: list[str] = []
    for sub in concerned:
        record(session, "credit_recorded", submission=sub, actor=actor, detail=label)
        if result == CreditResult.dishonest and sub.status != SubmissionStatus.withdrawn:
            role = next((u.role for u in units_of(sub) if matches(u, name, uscc)), "lead_unit")
            who_is = "揭榜单位" if role == "lead_unit" else "联合单位"
            fail_formally(session, sub, f"{who_is}{name or uscc}经{source}查询存在严重失信记录，不符合申报条件5",
                          actor=actor)
            failed.append(sub.reference)
    if not concerned:
        record(session, "credit_recorded", actor=actor, detail=label)
    return Recorded(check, failed, [s.reference for s in concerned])


def _applications_of(session: Session, name: str | None, uscc: str | None) -> list[Submission]:
    """Every application *name*/*uscc* leads or joins (partners are matched by name): those
    holding one of its keys (``unit_keys``), compared exactly — never every submission."""
    if uscc:  # a partner known only by name: learn the name from an application it leads
        led = unit_keys.submissions_holding(session, unit_keys.keys_of(None, uscc))
        names: set[str | None] = {s.unit for s in led if s.uscc and s.uscc.upper() == uscc and s.unit}
        wanted = set().union(*(unit_keys.keys_of(n, uscc) for n in names or {None}))
        return [s for s in unit_keys.submissions_holding(session, wanted)
                if any(matches(u, n, uscc) for u in units_of(s) for n in (names or {None}))]
    return [s for s in unit_keys.submissions_holding(session, unit_keys.keys_of(name, None))
            if any(matches(u, name, None) for u in units_of(s))]


def latest_checks(session: Session, units: list[Unit]) -> dict[str, CreditCheck | None]:
    """The latest credit record of each unit (by its key; a partner by name), or None."""
    out: dict[str, CreditCheck | None] = {}
    for unit in units:
        keys = {unit.key, key_of(unit.name, None)}
        out[unit.key] = session.exec(select(CreditCheck).where(col(CreditCheck.unit_key).in_(keys))
                                     .order_by(col(CreditCheck.id).desc())).first()
    return out


def dishonest_units(session: Session, sub: Submission) -> list[str]:
    """The names of *sub*'s units whose latest credit record is dishonest."""
    units = units_of(sub)
    checks = latest_checks(session, units)
    return [u.name or u.uscc or "" for u in units
            if (c := checks.get(u.key)) is not None and c.result == CreditResult.dishonest]
