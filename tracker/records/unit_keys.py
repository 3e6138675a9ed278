"""The keys a submission's units are looked up by (table ``submission_unit_key``, 0014).

Credit checks and experts' conflicts ask "which applications does this unit lead or
join?" and compare units by credit code when both sides have one, else by normalised name
(``review.units.matches``). Comparing with every submission reads the whole round per
question (10,000+ rows in a national one). So each submission's units are kept under
every key they can be matched by — the lead's credit code and its name, each partner's
name — and a lookup reads only the submissions that share a key with the question; the
exact comparison then runs on those few, so the answer is the one a full read gives.

The keys follow the units: written whenever a submission's fields change, by a new
version (``submissions``) or a staff correction (``overrides``). Partners live in a JSON
list, which neither SQLite nor PostgreSQL can index alike or match by normalised name:
hence rows of their own rather than a LIKE over the stored text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from tracker.store.tables import Submission, SubmissionUnitKey

KEY_LENGTH = 300  # the column's; a longer name is cut, and the comparison after the lookup decides
LEAD, PARTNER = "lead_unit", "partner_unit"


def unit_key(name: str) -> str:
    """A unit's name as compared: NFKC, no white space, ASCII brackets, lower case."""
    text = unicodedata.normalize("NFKC", name)
    text = re.sub(r"\s+", "", text).replace("（", "(").replace("）", ")")
    return text.lower()


def _name_key(name: str) -> str:
    return ("name:" + unit_key(name))[:KEY_LENGTH]


def keys_of(name: str | None, uscc: str | None) -> set[str]:
    """The keys a unit given as (*name*, *uscc*) can match by: its credit code when it has 18
    characters, and its normalised name (as ``review.units.matches`` compares them)."""
    keys = {uscc.upper()} if uscc and len(uscc) == 18 else set()
    return keys | ({_name_key(name)} if name else set())


def _wanted(sub: Submission) -> set[tuple[str, str]]:
    """(role, key) of every unit of *sub* (``review.units.units_of``'s units). A unit's name
    is kept even when empty: an unnamed lead is still compared by name when codes cannot be."""
    wanted: set[tuple[str, str]] = set()
    if sub.unit or sub.uscc:
        wanted |= {(LEAD, k) for k in keys_of(None, sub.uscc) | {_name_key(sub.unit or "")}}
    return wanted | {(PARTNER, _name_key(p)) for p in sub.partners if p and p.strip()}


def keep(session: Session, sub: Submission) -> None:
    """Make the stored keys of *sub* (a stored row) those of its units now."""
    assert sub.id is not None  # flushed by the caller
    wanted = _wanted(sub)
    stored = session.exec(select(SubmissionUnitKey).where(SubmissionUnitKey.submission_id == sub.id)).all()
    for row in stored:
        if (row.role, row.key) not in wanted:
            session.delete(row)
    for role, key in sorted(wanted - {(row.role, row.key) for row in stored}):
        session.add(SubmissionUnitKey(submission_id=sub.id, role=role, key=key))
    session.flush()


def holding(keys: Iterable[str]) -> SelectOfScalar[int]:
    """The ids of the submissions with a unit under any of *keys* (a subquery)."""
    return select(SubmissionUnitKey.submission_id).where(col(SubmissionUnitKey.key).in_(sorted(set(keys))))


def submissions_holding(session: Session, keys: Iterable[str]) -> list[Submission]:
    """The submissions with a unit under any of *keys*, by reference: the candidates a
    comparison of units then decides on."""
    return list(session.exec(select(Submission).where(col(Submission.id).in_(holding(keys)))
                             .order_by(col(Submission.reference))).all())
