"""Staff corrections of fields as read from a form (``field_override``).

A correction is kept beside what was read — who, when, old and new value — and the
latest one per field stands: it is laid over the submission now and again after every
later version (``reapply``), and reprocessing never rewrites submissions, so it survives
``jiebang reprocess`` too.

After a correction the per-message rules that depend only on that field run again —
the same rule objects intake runs (``intake.checks.RULES``), over the corrected fields —
and their deficiencies are opened or resolved; then status and the rules across
messages follow, as after any change. Rules that need the document itself (an outcome
the text promises, a scan) are left as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from campaign.clock import utcnow
from campaign.labels import FIELD_LABELS, NATURE_LABELS
from campaign.policy import RoundPolicy
from intake.checks import RULES as FORM_RULES
from intake.checks import Facts, run_checks
from intake.extract import uscc as uscc_mod
from intake.extract.fields import FormReading
from intake.model import Application
from tracker.records import unit_keys
from tracker.records.events import record
from tracker.records.rules import refresh_all
from tracker.records.status import refresh_status
from tracker.store.tables import (
    DeficiencyRecord,
    DeficiencyState,
    FieldOverride,
    Submission,
)

# field → the per-message codes that this field alone decides
DECIDES: dict[str, frozenset[str]] = {
    "unit": frozenset(),
    "uscc": frozenset({"USCC_INVALID", "NOT_IN_SHANDONG"}),
    "unit_nature": frozenset({"UNKNOWN_UNIT_NATURE", "WRONG_CHANNEL"}),
    "unit_city": frozenset({"NOT_IN_SHANDONG"}),
    "direction": frozenset({"DIRECTION_MISSING", "MULTIPLE_DIRECTIONS"}),
    "task_name": frozenset(),
    "task_types": frozenset({"TASK_TYPE_MISSING"}),
    "partners": frozenset({"CONSORTIUM_TOO_LARGE"}),
}
NATURES = ("central", "provincial", "other")
UNIT_FIELDS = frozenset({"unit", "uscc", "partners"})  # what credit checks and conflicts find a unit by


class OverrideError(Exception):
    """The correction cannot be made as asked; the message is one line, in Chinese."""


@dataclass(frozen=True)
class Correction:
    """What one correction did: the field, its values, and the deficiencies it moved."""

    override: FieldOverride
    opened: list[str]
    resolved: list[str]


# --- values from the form staff typed ------------------------------------------------------------
def parse_value(policy: RoundPolicy, name: str, text: str) -> Any:
    """The typed value of field *name* from what staff entered (OverrideError if it is not one)."""
    text = text.strip()
    if name not in DECIDES:
        raise OverrideError(f"不能更正字段“{name}”")
    catalogue = policy.catalogue
    if name == "direction":
        named = {catalogue.direction_label(n): n for n in range(1, catalogue.direction_count + 1)}
        named |= {catalogue.direction_name(n): n for n in range(1, catalogue.direction_count + 1)}
        try:
            number = named[text] if text in named else int(text)
        except ValueError:
            raise OverrideError("榜单方向应为方向编号或名称") from None
        if not 1 <= number <= catalogue.direction_count:
            raise OverrideError(f"榜单方向应为 1–{catalogue.direction_count}")
        return number
    if name == "task_types":  # keys or names (理论研究), separated by commas or 、
        by_label = {t.label: t.key for t in catalogue.task_types}
        words = [w for w in (p.strip() for p in text.replace("，", ",").replace("、", ",").split(",")) if w]
        keys = [by_label.get(w, w) for w in words]
        unknown = [w for w, k in zip(words, keys, strict=True) if catalogue.task_type(k) is None]
        if unknown:
            raise OverrideError(f"未知任务类别：{'、'.join(unknown)}（应为 {'、'.join(by_label)}）")
        return list(dict.fromkeys(keys))
    if name == "partners":
        return [p.strip() for p in text.replace("，", "\n").replace("、", "\n").splitlines() if p.strip()]
    if name == "unit_nature":  # a key or its name (中央驻鲁)
        text = {label: key for key, label in NATURE_LABELS.items()}.get(text, text)
        if text and text not in NATURES:
            raise OverrideError(f"单位性质应为 {' / '.join(NATURE_LABELS[k] for k in NATURES)}")
    if name == "unit_city" and text and text not in policy.catalogue.cities:
        raise OverrideError(f"“{text}”不是山东省的设区市")
    if name == "uscc":
        text = uscc_mod.normalize(text) or text.upper()
    if name == "unit" and not text:
        raise OverrideError("揭榜单位不能为空")
    return text or None


# --- reading the standing corrections ----------------------------------------------------------
def history(session: Session, sub: Submission) -> list[FieldOverride]:
    return list(session.exec(select(FieldOverride).where(FieldOverride.submission_id == sub.id)
                             .order_by(col(FieldOverride.id))).all())


def standing(session: Session, sub: Submission) -> dict[str, FieldOverride]:
    """The latest correction of each field."""
    return {o.field: o for o in history(session, sub)}


def corrected_from(session: Session, round_code: str, lead_key: str, direction: int) -> Submission | None:
    """The lead unit's submission whose direction staff corrected away from *direction*:
    the applicant's next mail, still naming the old direction, belongs to it."""
    stmt = (select(Submission, FieldOverride).join(FieldOverride, col(FieldOverride.submission_id) == Submission.id)
            .where(Submission.round_code == round_code, Submission.lead_key == lead_key,
                   FieldOverride.field == "direction").order_by(col(FieldOverride.id).desc()))
    # the old value is JSON: compared here rather than in SQL (the same on SQLite and PostgreSQL)
    return next((sub for sub, override in session.exec(stmt).all() if override.old_value == direction), None)


# --- correcting ----------------------------------------------------------------------------------
def correct(session: Session, policy: RoundPolicy, sub: Submission, name: str, value: Any, *,
            actor: str, note: str = "") -> Correction:
    """Correct field *name* of *sub* to *value* (already parsed), re-run the rules it decides."""
    if name not in DECIDES:
        raise OverrideError(f"不能更正字段“{name}”")
    if name == "direction" and value != sub.direction:
        clash = session.exec(select(Submission).where(
            Submission.round_code == sub.round_code, Submission.lead_key == sub.lead_key,
            Submission.direction == value, Submission.id != sub.id)).first()
        if clash is not None:
            raise OverrideError(f"该揭榜单位在此方向已有申报 {clash.reference}，请直接处理该申报")
    override = FieldOverride(submission_id=sub.id or 0, field=name, old_value=getattr(sub, name),
                             new_value=value, actor=actor[:100], note=note)
    session.add(override)
    setattr(sub, name, value)
    sub.updated_at = utcnow()
    session.add(sub)
    session.flush()
    if name in UNIT_FIELDS:  # a corrected unit counts at once in credit checks and conflicts
        unit_keys.keep(session, sub)
    record(session, "field_corrected", submission=sub, actor=actor,
           detail=f"{FIELD_LABELS[name]}：{_shown(override.old_value)} → {_shown(value)}" + (f"：{note}" if note else ""))
    opened, resolved = _rerun(session, policy, sub, DECIDES[name], actor=actor)
    refresh_status(session, sub)
    session.flush()
    refresh_all(session, policy)
    return Correction(override, opened, resolved)


def reapply(session: Session, policy: RoundPolicy, sub: Submission) -> None:
    """Lay the standing corrections over fields a new version has just taken from its form."""
    codes: set[str] = set()
    for name, override in standing(session, sub).items():
        if getattr(sub, name) != override.new_value:
            setattr(sub, name, override.new_value)
        codes |= DECIDES[name]
    if codes:
        session.add(sub)
        session.flush()
        _rerun(session, policy, sub, frozenset(codes), actor="system")


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(map(str, value)) or "（空）"
    return "（空）" if value in (None, "", 0) else str(value)


def _reading(policy: RoundPolicy, sub: Submission) -> FormReading:
    """The submission's fields as a form reading, for the per-message rules."""
    # the columns hold the values of intake's Literal types, typed plain str in the table (ignores)
    app = Application(unit=sub.unit, uscc=sub.uscc, unit_nature=sub.unit_nature,  # type: ignore[arg-type]
                      city=sub.unit_city, direction=sub.direction or None, task_name=sub.task_name,
                      task_types=list(sub.task_types), partners=list(sub.partners))  # type: ignore[arg-type]
    in_shandong = uscc_mod.in_shandong(sub.uscc)
    if in_shandong is None and sub.unit_city in policy.catalogue.cities:
        in_shandong = True  # registered in one of the 16 cities
    return FormReading(application=app, directions={sub.direction} if sub.direction else set(),
                       uscc_raw=sub.uscc, in_shandong=in_shandong, has_content=True)


def _rerun(session: Session, policy: RoundPolicy, sub: Submission, codes: frozenset[str], *,
           actor: str) -> tuple[list[str], list[str]]:
    """Run the rules deciding *codes* over the fields; open and resolve rows to match."""
    if not codes:
        return [], []
    # channel: "direct" | "via_city" (or None), a plain str column
    facts = Facts(policy=policy, intent="submission", channel=sub.channel,  # type: ignore[arg-type]
                  city=sub.city, forms=[_reading(policy, sub)])
    found = {d.code: d for d in run_checks(facts, [r for r in FORM_RULES if r.code.code in codes]).deficiencies}
    rows = session.exec(select(DeficiencyRecord).where(
        DeficiencyRecord.submission_id == sub.id, DeficiencyRecord.state == DeficiencyState.open,
        col(DeficiencyRecord.code).in_(codes))).all()
    have = {row.code for row in rows}
    resolved = []
    for row in rows:
        if row.code not in found:
            row.state, row.resolved_at, row.resolution = DeficiencyState.resolved, utcnow(), f"{actor} 更正字段后不再存在"
            session.add(row)
            record(session, "deficiency_resolved", submission=sub, actor=actor, detail=row.code)
            resolved.append(row.code)
    opened = []
    for code_, d in found.items():
        if code_ not in have:
            session.add(DeficiencyRecord(submission_id=sub.id, version=sub.standing_version, code=code_,
                                         severity=d.severity, message=d.message))
            record(session, "deficiency_opened", submission=sub, actor=actor, detail=code_)
            opened.append(code_)
    session.flush()
    return opened, resolved
