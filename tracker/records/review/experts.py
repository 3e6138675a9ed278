"""Experts, panels (评审组) and conflicts of interest (回避).

An expert is an account with role ``expert`` and its unit. A panel covers directions;
each of its experts scores every application of those directions that passed formal
review, unless in conflict. Conflicts are found from the units — the expert's unit (by
credit code, else normalised name) is the application's lead (``lead_unit``) or a partner
(``partner_unit``) — or recorded: declared by the expert (``declared``) or added by staff
(``staff``). Found conflicts are computed each time, so a corrected unit name counts at once;
across the round, an expert's unit is looked up by its keys (``unit_keys``), never compared
with every submission.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from campaign.catalogue import Catalogue
from tracker.records import accounts, unit_keys
from tracker.records.events import record
from tracker.records.review import ReviewRefused
from tracker.records.review.units import matches, units_of
from tracker.store.tables import (
    Panel,
    PanelMember,
    Recusal,
    Score,
    StaffRole,
    StaffUser,
    Submission,
    SubmissionStatus,
    SubmissionUnitKey,
)


@dataclass(frozen=True)
class Conflict:
    expert: str
    reference: str
    reason: str  # lead_unit | partner_unit | declared | staff
    note: str = ""


def add_expert(session: Session, name: str, password: str, *, email: str, unit: str, uscc: str | None,
               actor: str) -> StaffUser:
    email, unit = (email or "").strip(), (unit or "").strip()
    if "@" not in email or any(c.isspace() for c in email):
        raise accounts.AccountError("an expert needs --email (where the invitation goes)")
    if not unit:
        raise accounts.AccountError("an expert needs --unit (their conflicts are found from it)")
    if uscc is not None and (len(uscc.strip()) != 18 or not uscc.strip().isalnum()):
        raise accounts.AccountError("--uscc must be an 18-character unified social credit code")
    user = accounts.add_user(session, name, StaffRole.expert, password, actor=actor)
    user.email, user.unit, user.uscc = email.lower(), unit, (uscc.strip().upper() if uscc else None)
    session.add(user)
    record(session, "expert_added", actor=actor, detail=f"{user.name}（{unit}）")
    return user


def experts(session: Session) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).where(StaffUser.role == StaffRole.expert)
                             .order_by(col(StaffUser.name))).all())


def expert_named(session: Session, name: str) -> StaffUser:
    user = accounts.find_user(session, name)
    if user is None or user.role != StaffRole.expert:
        raise ReviewRefused(f"没有名为“{name}”的评审专家")
    return user


def set_panel(session: Session, catalogue: Catalogue, name: str, directions: Iterable[int],
              expert_names: Iterable[str], *, actor: str) -> Panel:
    """Create the panel *name*, or replace its directions and experts."""
    name = (name or "").strip()
    if not name:
        raise ReviewRefused("评审组需要名称")
    wanted = sorted(set(directions))
    if not wanted or any(not 1 <= d <= len(catalogue.directions) for d in wanted):
        raise ReviewRefused(f"榜单方向须为 1–{len(catalogue.directions)} 之间的编号")
    members = [expert_named(session, n.strip()) for n in expert_names if n.strip()]
    if not members:
        raise ReviewRefused("评审组至少需要一位专家")
    panel = session.exec(select(Panel).where(Panel.name == name)).first() or Panel(name=name)
    panel.directions = wanted
    session.add(panel)
    session.flush()
    keep = {m.id for m in members}
    for old in session.exec(select(PanelMember).where(PanelMember.panel_id == panel.id)).all():
        if old.expert_id not in keep:
            session.delete(old)
    present = {m.expert_id for m in session.exec(select(PanelMember).where(PanelMember.panel_id == panel.id)).all()}
    for member in members:
        if member.id not in present:
            session.add(PanelMember(panel_id=panel.id or 0, expert_id=member.id or 0))
    session.flush()
    record(session, "panel_set", actor=actor,
           detail=f"{name}：方向 {','.join(map(str, wanted))}；专家 {'、'.join(m.name for m in members)}")
    return panel


def panels(session: Session) -> list[Panel]:
    return list(session.exec(select(Panel).order_by(col(Panel.name))).all())


def panel_named(session: Session, name: str) -> Panel:
    panel = session.exec(select(Panel).where(Panel.name == (name or "").strip())).first()
    if panel is None:
        raise ReviewRefused(f"没有名为“{name}”的评审组")
    return panel


def members(session: Session, panel: Panel) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).join(PanelMember, col(PanelMember.expert_id) == StaffUser.id)
                             .where(PanelMember.panel_id == panel.id).order_by(col(StaffUser.name))).all())


def panels_of(session: Session, expert: StaffUser) -> list[Panel]:
    return list(session.exec(select(Panel).join(PanelMember, col(PanelMember.panel_id) == Panel.id)
                             .where(PanelMember.expert_id == expert.id).order_by(col(Panel.name))).all())


def panel_applications(session: Session, panel: Panel) -> list[Submission]:
    """What the panel scores: its directions' applications that passed formal review."""
    return list(session.exec(select(Submission).where(col(Submission.direction).in_(panel.directions),
                                                      Submission.formal == "pass",
                                                      Submission.status != SubmissionStatus.withdrawn)
                             .order_by(col(Submission.reference))).all())


# --- conflicts ---------------------------------------------------------------------------
def found_conflict(expert: StaffUser, sub: Submission) -> str | None:
    """``lead_unit`` / ``partner_unit`` when the expert's unit is one of *sub*'s, else None."""
    if not (expert.unit or expert.uscc):
        return None
    for unit in units_of(sub):
        if matches(unit, expert.unit, expert.uscc):
            return unit.role
    return None


def conflict_of(session: Session, expert: StaffUser, sub: Submission) -> Conflict | None:
    found = found_conflict(expert, sub)
    if found:
        return Conflict(expert.name, sub.reference, found)
    recusal = session.exec(select(Recusal).where(Recusal.expert_id == expert.id,
                                                 Recusal.submission_id == sub.id)).first()
    return Conflict(expert.name, sub.reference, recusal.reason, recusal.note) if recusal else None


def _holding(session: Session, keys: set[str]) -> dict[str, list[Submission]]:
    """The applications (withdrawn ones aside) with a unit under each of *keys*, in one query."""
    by_key: dict[str, list[Submission]] = defaultdict(list)
    if keys:
        stmt = (select(SubmissionUnitKey.key, Submission)
                .join(Submission, col(Submission.id) == col(SubmissionUnitKey.submission_id))
                .where(col(SubmissionUnitKey.key).in_(sorted(keys)), Submission.status != SubmissionStatus.withdrawn))
        for key, sub in session.exec(stmt).all():
            by_key[key].append(sub)
    return by_key


def _sharing_a_unit(session: Session, people: list[StaffUser]) -> list[tuple[StaffUser, Submission]]:
    """Each expert with the applications holding a key of the expert's unit: the candidates
    ``found_conflict`` decides on (instead of every application of the round)."""
    wanted = {e.id: unit_keys.keys_of(e.unit, e.uscc) for e in people}
    by_key = _holding(session, set().union(*wanted.values()))
    pairs = []
    for e in people:
        # once each: an application may hold two of the expert's keys (its code and its name)
        shared = {s.id: s for key in wanted[e.id] for s in by_key[key]}
        pairs += [(e, s) for s in shared.values()]
    return pairs


def all_conflicts(session: Session) -> list[Conflict]:
    """Every conflict of every expert with every application (withdrawn ones aside)."""
    people = experts(session)
    names = {e.id: e.name for e in people}
    out = [Conflict(e.name, s.reference, reason) for e, s in _sharing_a_unit(session, people)
           if (reason := found_conflict(e, s)) is not None]
    found = {(c.expert, c.reference) for c in out}
    recorded = session.exec(select(Recusal, Submission).join(Submission, col(Submission.id) == col(Recusal.submission_id))
                            .where(Submission.status != SubmissionStatus.withdrawn).order_by(col(Recusal.id))).all()
    for r, sub in recorded:
        if r.expert_id in names and (names[r.expert_id], sub.reference) not in found:
            out.append(Conflict(names[r.expert_id], sub.reference, r.reason, r.note))
    return sorted(out, key=lambda c: (c.expert, c.reference))


def add_recusal(session: Session, expert: StaffUser, sub: Submission, *, reason: str, note: str,
                actor: str) -> None:
    """A declared (by the expert) or staff conflict; a score already given is withdrawn."""
    if reason not in ("declared", "staff"):
        raise ReviewRefused("回避只能由专家申明或工作人员指定")
    if conflict_of(session, expert, sub) is not None:
        return
    session.add(Recusal(expert_id=expert.id or 0, submission_id=sub.id or 0, reason=reason, note=note,
                        recorded_by=actor))
    for score in session.exec(select(Score).where(Score.expert_id == expert.id, Score.submission_id == sub.id)):
        session.delete(score)
    record(session, "conflict_added", submission=sub, actor=actor,
           detail=f"{expert.name}：{'本人申明' if reason == 'declared' else '工作人员指定'}" + (f"（{note}）" if note else ""))
