"""How the round's applications are judged (notice 四（三）), as data and pure rules.

The score form (``criteria``), when a final score drops its extremes (``trim_from``), what
counts as experts disagreeing (``spread_flag``), how long the published list is open to
objections (``notice_working_days``) — a round's config, not code. The arithmetic lives
here, once, so the CLI, the workspace and the exported ranking cannot disagree:

- a final score is the mean of the experts' totals, after dropping one highest and one
  lowest (去掉一个最高分和一个最低分) when there are at least ``trim_from`` totals;
- finals are compared at two decimals (rounded half up, as a person reads a score sheet)
  and equal finals share a rank, the next rank skipped (1, 1, 3: competition ranking).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Criterion:
    """One line of the score form: its name and its maximum."""

    name: str
    max: float


DEFAULT_CRITERIA: tuple[Criterion, ...] = (
    Criterion("创新性", 30), Criterion("可行性", 30), Criterion("预期成果", 20), Criterion("团队与条件", 20),
)


@dataclass(frozen=True)
class ReviewRules:
    criteria: tuple[Criterion, ...] = DEFAULT_CRITERIA
    trim_from: int = 5  # this many totals or more: drop one highest and one lowest
    notice_working_days: int = 5  # the 公示期, in Chinese working days
    spread_flag: float = 20  # totals further apart than this are flagged for staff

    @property
    def total_max(self) -> float:
        return sum(c.max for c in self.criteria)

    def criterion(self, name: str) -> Criterion | None:
        wanted = header_name(name)
        return next((c for c in self.criteria if c.name == wanted), None)


@dataclass(frozen=True)
class AcceptanceRules:
    """The year after (notice 五.1): when a selected unit's tasks are due for acceptance,
    and how many working days before a rework date the unit is reminded."""

    due: str | None = None  # ISO date; None: no reminders until staff set the round's end
    remind_working_days: int = 5


@dataclass(frozen=True)
class Final:
    scores: int
    final: float | None  # None: no score yet
    spread: float | None
    flag: bool
    trimmed: bool = field(default=False)


def two_places(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def final_of(totals: Sequence[float], rules: ReviewRules) -> Final:
    """The final score of one application from its experts' totals."""
    if not totals:
        return Final(0, None, None, False)
    ordered = sorted(totals)
    trimmed = len(ordered) >= rules.trim_from and len(ordered) > 2
    kept = ordered[1:-1] if trimmed else ordered
    mean = sum(Decimal(str(t)) for t in kept) / len(kept)
    spread = float(two_places(ordered[-1] - ordered[0]))
    return Final(len(ordered), float(two_places(float(mean))), spread, spread > rules.spread_flag, trimmed)


def ranks(finals: Mapping[str, float | None]) -> dict[str, int | None]:
    """Competition ranking of *finals* (key → final): highest first, equal finals share a
    rank and the next is skipped; an application without a final has no rank."""
    scored = sorted(((two_places(v), k) for k, v in finals.items() if v is not None), key=lambda p: -p[0])
    out: dict[str, int | None] = {k: None for k, v in finals.items() if v is None}
    previous: Decimal | None = None
    rank = 0
    for position, (value, key) in enumerate(scored, start=1):
        if value != previous:
            rank, previous = position, value
        out[key] = rank
    return out


def header_name(text: str) -> str:
    """A criterion as a sheet's header writes it: ``创新性（30分）`` and ``创新性 (满分30)`` are
    ``创新性``."""
    text = (text or "").strip()
    for opening in ("（", "("):
        if opening in text:
            text = text.split(opening, 1)[0]
    return text.strip()
