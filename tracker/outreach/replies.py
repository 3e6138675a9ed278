"""Which mails a processed message causes, written to the outbox in the same transaction.

Business code never opens SMTP: it calls :func:`notifier.outbox.enqueue`, which renders
the template and stores a row the sender job delivers later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from campaign.policy import RoundPolicy
from intake.model import Understanding
from notifier.outbox import enqueue, first_contacts_since, written_to
from notifier.wording import applicant_items
from tracker.records.events import record
from tracker.records.queries import open_codes
from tracker.records.submissions import Touched
from tracker.reports.labels import CHANNEL_LABELS, STATUS_LABELS, TASK_TYPE_LABELS, direction_name
from tracker.store.tables import (
    DeficiencyRecord,
    DeficiencyState,
    RecommendationRow,
    StoredMessage,
    Submission,
    SubmissionVersion,
    utcnow,
)

log = logging.getLogger("jiebang.replies")


@dataclass(frozen=True)
class ReplySettings:
    sender: str
    daily_cap: int = 20
    own_addresses: frozenset[str] = frozenset()
    new_address_hourly_cap: int = 120  # first contacts per hour; beyond it, replies are held


def open_items(session: Session, sub: Submission) -> list:
    rows = session.exec(
        select(DeficiencyRecord).where(DeficiencyRecord.submission_id == sub.id,
                                       DeficiencyRecord.state == DeficiencyState.open)
    ).all()
    return applicant_items(rows)


def status_context(session: Session, sub: Submission) -> dict[str, Any]:
    """The ``status`` template's context: what the applicant is told (reply and `jiebang status`).

    最近一次收到材料 is when the latest version reached us, not when staff last touched the
    record (a status change moves ``updated_at``, not the applicant's material).
    """
    latest = session.exec(select(SubmissionVersion).where(SubmissionVersion.submission_id == sub.id)
                          .order_by(col(SubmissionVersion.number).desc())).first()
    return {
        "reference": sub.reference, "unit": sub.unit or "", "status_label": STATUS_LABELS.get(sub.status, sub.status),
        "versions": sub.versions, "last_received_at": (latest.received_at if latest else None) or sub.created_at,
        "items": open_items(session, sub),
    }


class Replier:
    def __init__(self, session: Session, policy: RoundPolicy, settings: ReplySettings,
                 msg: StoredMessage, result: Understanding) -> None:
        self.session, self.policy, self.settings = session, policy, settings
        self.msg, self.result = msg, result

    def _send(self, kind: str, template: str, to: list[str], context: dict, *, reference: str | None,
              key: str, auto: str = "auto-replied") -> None:
        refs = [*self.result.thread_ids, *([self.msg.message_id] if self.msg.message_id else [])]
        first = bool(to) and not written_to(self.session, to[0])
        hold = first and self._over_first_contact_budget()
        row = enqueue(
            self.session, kind=kind, to=to, template=template, context=context, reference=reference,
            in_reply_to=self.msg.message_id, references=refs, sender=self.settings.sender,
            dedupe_key=f"reply:{self.msg.content_key}:{key}", daily_cap=self.settings.daily_cap,
            cause=f"message #{self.msg.id}", auto_submitted=auto,
            own_addresses=self.settings.own_addresses, first_contact=first, hold=hold,
        )
        if row is None:
            record(self.session, "reply_suppressed", message=self.msg, detail=f"{template} → {', '.join(to)}")
        elif hold:
            log.warning("reply to %s held for staff: first-contact budget of %d per hour reached",
                        to[0], self.settings.new_address_hourly_cap)
            record(self.session, "reply_held", message=self.msg,
                   detail=f"{template} → {', '.join(to)}（每小时首次联系上限 {self.settings.new_address_hourly_cap}）")

    def _over_first_contact_budget(self) -> bool:
        """Mail to never-seen addresses is how a forged-sender flood becomes spam from us."""
        since = utcnow() - timedelta(hours=1)
        return first_contacts_since(self.session, since) >= self.settings.new_address_hourly_cap

    # --- claims: mail that changes nothing until staff confirm it --------------------------
    def for_claims(self, touched: Touched) -> None:
        """The sender learns only that staff will look; the addresses on file, that someone
        else sent material for their application — none of the sender's content."""
        sender = self.msg.from_addr
        received = self.msg.received_at or self.result.received_at or self.msg.stored_at
        if sender and touched.claims:
            self._send("receipt", "receipt", [sender], {"received_at": received, "files": [
                d.name for d in self.result.documents if d.container is None][:20]},
                reference=None, key="receipt")
        for claim in touched.claims:
            if claim.submission_id is None:
                continue
            sub = self.session.get(Submission, claim.submission_id)
            if sub is None or not sub.contacts:
                continue
            self._send("claim_notice", "claim_notice", list(sub.contacts), {
                "reference": sub.reference, "received_at": received},
                reference=sub.reference, key=f"claim:{claim.id}", auto="auto-generated")

    # --- submissions --------------------------------------------------------
    def for_submission(self, touched: Touched) -> None:
        sender = self.msg.from_addr
        if not sender:
            return
        received = self.msg.received_at or self.result.received_at or self.msg.stored_at
        if touched.package is not None and touched.versions:
            # the bureau sent the package: one receipt to the bureau, not one greeting per unit
            self._package_receipt(touched, sender, received)
            return
        if not touched.versions:
            items = applicant_items(touched.mail_problems + touched.package_problems)
            if items:
                self._send("deficiency", "deficiency", [sender], {
                    "reference": None, "unit": None, "items": items, "received_at": received,
                    "deadline": self.policy.deadline_for(self.result.channel)}, reference=None, key="mail")
            return
        for sub, version, codes in touched.versions:
            if any(d.code == "WRONG_CHANNEL" for d in codes) and sub.unit_city in self.policy.cities:
                self._redirect(sub, sender)
                continue
            items = open_items(self.session, sub)
            if sub in touched.late_ignored:
                items = applicant_items([d for d in codes if d.code == "LATE"])
            if items:
                self._send("deficiency", "deficiency", [sender], {
                    "reference": sub.reference, "unit": sub.unit, "items": items, "received_at": received,
                    "deadline": self.policy.deadline_for(sub.channel)}, reference=sub.reference, key=sub.reference)
            else:
                self._send("ack", "ack", [sender], self._ack_context(sub, version.documents, received),
                           reference=sub.reference, key=sub.reference)
        if touched.package_problems and applicant_items(touched.package_problems):
            self._send("deficiency", "deficiency", [sender], {
                "reference": None, "unit": None, "items": applicant_items(touched.package_problems),
                "received_at": received, "deadline": self.policy.deadline_for("via_city")},
                reference=None, key="package")

    def _package_receipt(self, touched: Touched, sender: str, received: datetime | None) -> None:
        package = touched.package
        assert package is not None
        ranks = {r.submission_id: r.rank for r in self.session.exec(
            select(RecommendationRow).where(RecommendationRow.package_id == package.id)).all()}
        rows = []
        for sub, _version, codes in touched.versions:
            items = (applicant_items([d for d in codes if d.code == "LATE"]) if sub in touched.late_ignored
                     else open_items(self.session, sub))
            rows.append({"reference": sub.reference, "rank": ranks.get(sub.id), "unit": sub.unit or "",
                         "direction_name": direction_name(sub.direction), "problems": items})
        rows.sort(key=lambda r: (r["direction_name"], r["rank"] or 99, r["reference"]))
        self._send("package_receipt", "package_receipt", [sender], {
            "city": package.city, "received_at": received, "version": package.version, "rows": rows,
            "items": applicant_items(touched.package_problems),
            "deadline": self.policy.deadline_for("via_city")}, reference=None, key=f"package:{package.id}")

    def _ack_context(self, sub: Submission, files: list[str], received: datetime) -> dict:
        return ack_context(self.session, sub, files or [d.name for d in self.result.documents], received)

    def _redirect(self, sub: Submission, sender: str) -> None:
        bureau = self.policy.cities[sub.unit_city]
        self._send("redirect", "redirect", [sender], {
            "unit": sub.unit, "city": sub.unit_city,
            "bureau": {"contact": bureau.contact, "phone": bureau.phone, "emails": list(bureau.bureau_emails)},
            "deadline_city_applicant": self.policy.deadlines.get("city_applicant")},
            reference=sub.reference, key=f"redirect:{sub.reference}")

    # --- status queries -----------------------------------------------------
    def for_status_query(self) -> None:
        asker = (self.msg.from_addr or "").lower()
        if not asker:
            return
        if self.result.reference:
            sub = self.session.exec(select(Submission).where(Submission.reference == self.result.reference)).first()
            if sub is not None and asker in sub.contacts:
                self._status(sub, asker)
            else:  # a stranger (or an unknown reference): nothing about anyone's application
                self._send("status", "status_denied", [asker], {}, reference=None, key="denied")
            return
        mine = [s for s in self.session.exec(select(Submission).where(Submission.round_code == self.policy.code)).all()
                if asker in s.contacts]
        if len(mine) == 1:
            self._status(mine[0], asker)
        elif mine:
            self._send("status", "status_list", [asker], {"items": [
                {"reference": s.reference, "unit": s.unit or "", "status_label": STATUS_LABELS.get(s.status, s.status),
                 "direction_name": direction_name(s.direction)} for s in mine]},
                reference=None, key="list")
        else:
            self._send("status", "status_denied", [asker], {}, reference=None, key="denied")

    def _status(self, sub: Submission, asker: str) -> None:
        # only ever to the address on file that asked — never to a Reply-To the asker chose
        self._send("status", "status", [asker], status_context(self.session, sub),
                   reference=sub.reference, key=f"status:{sub.reference}")


def ack_context(session: Session, sub: Submission, files: list[str], received: datetime) -> dict[str, Any]:
    """What the acknowledgement says of *sub* (the reply to its mail, or after a correction)."""
    return {
        "reference": sub.reference, "unit": sub.unit or "", "direction": sub.direction,
        "direction_name": direction_name(sub.direction), "task_name": sub.task_name,
        "task_types": [TASK_TYPE_LABELS.get(t, t) for t in sub.task_types],
        "channel_label": CHANNEL_LABELS.get(sub.channel or "", "直报"), "city": sub.city,
        "files": files, "received_at": received, "versions": sub.versions,
        # a scan OCR could not fully read: say staff will check it, never that a field is missing
        "unread_scan": "OCR_USED" in open_codes(session, sub.id or 0) and not (sub.direction and sub.task_types),
    }
