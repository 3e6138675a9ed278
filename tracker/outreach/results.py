"""Result notices (SPEC section 6), sent only when staff release them: each applicant
whose address is on file gets its own result (a formal fail with its reason), threaded in
its conversation; each city bureau one mail with the results of all its recommendations.
Keys make a second release send nothing new: an application's notice is keyed by its
reference, a city's by the city — released once every recommendation of it is decided.

Once the 公示名单 is published (``publish --to-file``), an application not on it and not
otherwise decided is not selected: release records that (status ``not_selected``, reason
未列入公示名单, with who released) so the notice and the record say the same. Before any
publication only decided applications are told."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from campaign.labels import STATUS_LABELS, direction_name, listing_title
from campaign.policy import RoundPolicy
from notifier.outbox import enqueue
from tracker.outreach.replies import ReplySettings
from tracker.records.events import record
from tracker.records.status import set_status
from tracker.store.tables import (
    Publication,
    StoredMessage,
    Submission,
    SubmissionStatus,
    SubmissionVersion,
)

NOT_LISTED = "未列入公示名单"
OUTCOMES = (SubmissionStatus.selected, SubmissionStatus.not_selected, SubmissionStatus.formal_failed)


@dataclass
class Released:
    applicants: list[str] = field(default_factory=list)  # references whose notice was queued now
    cities: list[str] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)  # passed formal review, no decision yet
    no_address: list[str] = field(default_factory=list)
    cities_waiting: list[str] = field(default_factory=list)  # a recommendation still undecided


def _thread(session: Session, sub: Submission) -> tuple[str | None, list[str]]:
    """The applicant's own messages, oldest first: the notice answers the latest."""
    query = (select(StoredMessage.message_id)
             .join(SubmissionVersion, col(SubmissionVersion.message_pk) == StoredMessage.id)
             .where(SubmissionVersion.submission_id == sub.id).order_by(col(SubmissionVersion.number)))
    ids = [m for m in session.exec(query).all() if m]
    return (ids[-1] if ids else None), ids[-10:]


def _context(sub: Submission, policy: RoundPolicy, notice_ends: Any) -> dict[str, Any]:
    return {"reference": sub.reference, "unit": sub.unit or "", "outcome": sub.status,
            "outcome_label": STATUS_LABELS[sub.status], "reason": sub.formal_reason or "",
            "direction": direction_name(sub.direction, "—", policy.catalogue),
            "list_title": listing_title(policy.catalogue), "notice_ends": notice_ends}


def release_results(session: Session, policy: RoundPolicy, settings: ReplySettings, *, actor: str) -> Released:
    out = Released()
    publication = session.exec(select(Publication).order_by(col(Publication.id).desc())).first()
    notice_ends = publication.notice_ends if publication else None
    subs = list(session.exec(select(Submission).where(Submission.status != SubmissionStatus.withdrawn)
                             .order_by(col(Submission.reference))).all())
    bureaus = {e.lower() for b in policy.cities.values() for e in b.bureau_emails}
    for sub in subs:
        if sub.status not in OUTCOMES and publication is not None:
            # the list is published: what is not on it was not selected — said once, on the record
            set_status(session, sub, SubmissionStatus.not_selected, actor=actor, note=NOT_LISTED)
        if sub.status not in OUTCOMES:
            out.undecided.append(sub.reference)
            continue
        # a city bureau that sent the form is on file too: it gets its city's list instead
        to = [c for c in sub.contacts if c.lower() not in bureaus]
        if not to:
            out.no_address.append(sub.reference)
            continue
        parent, thread = _thread(session, sub)
        row = enqueue(session, kind="result", to=to, template="result",
                      context=_context(sub, policy, notice_ends), reference=sub.reference,
                      in_reply_to=parent, references=thread, sender=settings.sender,
                      dedupe_key=f"result:{policy.code}:{sub.reference}", daily_cap=settings.daily_cap,
                      cause=f"results released by {actor}", own_addresses=settings.own_addresses)
        if row is not None:
            out.applicants.append(sub.reference)
            record(session, "results_released", submission=sub, actor=actor,
                   detail=f"{STATUS_LABELS[sub.status]} → {', '.join(to)}")
    for city, bureau in policy.cities.items():
        mine = [s for s in subs if s.channel == "via_city" and s.city == city]
        if not mine or not bureau.bureau_emails:
            continue
        if any(s.status not in OUTCOMES for s in mine):
            out.cities_waiting.append(city)
            continue
        rows = [{"reference": s.reference, "unit": s.unit or "", "outcome_label": STATUS_LABELS[s.status],
                 "direction": direction_name(s.direction, "—", policy.catalogue),
                 "reason": s.formal_reason if s.status == SubmissionStatus.formal_failed else ""} for s in mine]
        row = enqueue(session, kind="result", to=list(bureau.bureau_emails), template="result_city",
                      context={"city": city, "rows": rows}, sender=settings.sender,
                      dedupe_key=f"result-city:{policy.code}:{city}", daily_cap=settings.daily_cap,
                      cause=f"results released by {actor}", own_addresses=settings.own_addresses)
        if row is not None:
            out.cities.append(city)
            record(session, "results_released", actor=actor, detail=f"{city}：{len(rows)} 项")
    return out
