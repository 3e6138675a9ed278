"""The units of an application, as conflicts and credit checks compare them: the lead by
its credit code (else its normalised name) and every partner by its normalised name (a
form gives partners' names only)."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.records.submissions import unit_key
from tracker.store.tables import Submission


@dataclass(frozen=True)
class Unit:
    name: str
    uscc: str | None
    role: str  # lead_unit | partner_unit

    @property
    def key(self) -> str:
        return key_of(self.name, self.uscc)


def key_of(name: str | None, uscc: str | None) -> str:
    """One unit's key: its 18-character credit code, else ``name:`` and its normalised name."""
    if uscc and len(uscc.strip()) == 18:
        return uscc.strip().upper()
    return "name:" + unit_key(name or "")


def units_of(sub: Submission) -> list[Unit]:
    lead = [Unit(sub.unit or "", sub.uscc, "lead_unit")] if sub.unit or sub.uscc else []
    return lead + [Unit(p, None, "partner_unit") for p in sub.partners if p and p.strip()]


def matches(unit: Unit, name: str | None, uscc: str | None) -> bool:
    """Is (name, uscc) this unit? By credit code when both have one, else by name."""
    if uscc and unit.uscc and len(uscc) == 18 and len(unit.uscc) == 18:
        return uscc.upper() == unit.uscc.upper()
    return bool(name) and unit_key(name or "") == unit_key(unit.name or "")
