"""Which mails a processed message causes, written to the outbox in the same transaction.

Business code never opens SMTP: it calls :func:`notifier.outbox.enqueue`, which renders
the template and stores a row the sender job delivers later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from campaign import current
from campaign.clock import local_today, utcnow
from campaign.codes import code
from campaign.labels import (
    CHANNEL_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    direction_name,
    task_type_label,
)
from campaign.policy import RoundPolicy
from intake.model import Understanding
from notifier.outbox import enqueue, first_contacts_since, written_to
from notifier.templates import DeficiencyItem
from notifier.wording import applicant_items, late_version_item, only_what_applies
from tracker.records.events import record
from tracker.records.queries import open_codes
from tracker.records.submissions import Touched
from tracker.store.tables import (
    DeficiencyRecord,
    DeficiencyState,
    RecommendationRow,
    StoredMessage,
    Submission,
    SubmissionVersion,
)

log = logging.getLogger("jiebang.replies")


# the first-contact budget's classes (see Replier._over_first_contact_budget)
APPLICATION_ANSWERS = ("ack", "deficiency", "redirect", "package_receipt")
OTHER_ANSWERS = ("status", "receipt", "claim_notice", "reminder")
# first contacts an hour one recipient domain may always have: free mail (qq.com, 163.com) is where
# many applicants write from, so a domain's share is a quarter of the cap, never under this
PER_DOMAIN_FLOOR = 30


@dataclass(frozen=True)
class ReplySettings:
    sender: str
    daily_cap: int = 20
    own_addresses: frozenset[str] = frozenset()
    # first contacts per hour and class of senders our server did not verify; beyond, replies are held
    new_address_hourly_cap: int = 400


def open_items(session: Session, sub: Submission) -> list[DeficiencyItem]:
    rows = session.exec(
        select(DeficiencyRecord).where(DeficiencyRecord.submission_id == sub.id,
                                       DeficiencyRecord.state == DeficiencyState.open)
    ).all()
    return applicant_items(rows)


# staff have decided: the applicant is asked for nothing more
DECIDED = frozenset({"under_review", "selected", "not_selected", "withdrawn"})


def status_context(session: Session, sub: Submission, policy: RoundPolicy | None = None, *,
                   at: datetime | None = None) -> dict[str, Any]:
    """The ``status`` template's context: what the applicant is told (reply and `jiebang status`).

    It says what the notices said, as things stand at *at* (the question's arrival; now):

    * WRONG_CHANNEL open: only that — the application belongs to the city bureau;
    * LATE open (no version came in time): only that — late material is not accepted;
    * versions that came late while an earlier one, sent in time, stands: which, and which
      version stands (``late_version_item``, the notice's words);
    * other open problems: with their fixes while the applicant's deadline is open at *at*;
      once it has passed they are listed without one (nothing can be corrected any more);
    * a staff decision (under review, selected, ...): nothing is asked.

    最近一次收到材料 is when the latest version reached us, not when staff last touched the
    record (a status change moves ``updated_at``, not the applicant's material). *policy*
    defaults to the round in force as the province sees it.
    """
    policy = policy or RoundPolicy(catalogue=current())
    at = at or utcnow()
    versions = session.exec(select(SubmissionVersion).where(SubmissionVersion.submission_id == sub.id)
                            .order_by(col(SubmissionVersion.number))).all()
    latest = versions[-1] if versions else None
    items = open_items(session, sub)
    label = STATUS_LABELS.get(sub.status, sub.status)
    codes = {i["code"] for i in items}
    if sub.status in DECIDED:
        items = []
    elif "WRONG_CHANNEL" in codes or "LATE" in codes:
        items = only_what_applies(items)
        label = "应向所在设区市大数据局报送" if "WRONG_CHANNEL" in codes else "逾期送达"
    else:
        if policy.is_late(at, sub.channel):  # the deadline has passed: nothing left to correct
            items = [DeficiencyItem(code=i["code"], title=i["title"], message=i["message"], fix="") for i in items]
            if items:
                label = "材料不完整（申报已截止）"
        ignored = [v for v in versions if v.late and v.number > (sub.standing_version or 0)]
        if ignored and sub.standing_version:
            items = [late_version_item([v.number for v in ignored], sub.standing_version, ignored[-1].received_at,
                                       policy.deadline_for(ignored[-1].channel or sub.channel)), *items]
    return {
        "reference": sub.reference, "unit": sub.unit or "", "status_label": label,
        "versions": sub.versions, "last_received_at": (latest.received_at if latest else None) or sub.created_at,
        "items": items,
    }


class Replier:
    def __init__(self, session: Session, policy: RoundPolicy, settings: ReplySettings,
                 msg: StoredMessage, result: Understanding) -> None:
        self.session, self.policy, self.settings = session, policy, settings
        self.msg, self.result = msg, result

    def _send(self, kind: str, template: str, to: list[str], context: dict[str, Any], *, reference: str | None,
              key: str, auto: str = "auto-replied", optional: bool = False, dedupe: str | None = None) -> bool:
        """Write one answer; False if none was written. *optional*: an answer the budget
        would hold is not written at all (a receipt: the full answer will follow)."""
        refs = [*self.result.thread_ids, *([self.msg.message_id] if self.msg.message_id else [])]
        # the budget counts, and holds, only first contacts without evidence: an answer to a
        # sender our server verified is neither held nor spends the unverified senders' share
        first = bool(to) and not self._authenticated(to[0]) and not written_to(self.session, to[0])
        over = self._over_first_contact_budget(kind, to[0]) if first else None
        if over is not None and optional:
            return False
        row = enqueue(
            self.session, kind=kind, to=to, template=template, context=context, reference=reference,
            in_reply_to=self.msg.message_id, references=refs, sender=self.settings.sender,
            dedupe_key=dedupe or f"reply:{self.msg.content_key}:{key}", daily_cap=self.settings.daily_cap,
            cause=f"message #{self.msg.id}", auto_submitted=auto,
            own_addresses=self.settings.own_addresses, first_contact=first, hold=over is not None,
        )
        if row is None:
            record(self.session, "reply_suppressed", message=self.msg, detail=f"{template} → {', '.join(to)}")
            return False
        if over is not None:
            log.warning("reply to %s held for staff: %s", to[0], over)
            record(self.session, "reply_held", message=self.msg, detail=f"{template} → {', '.join(to)}（{over}）")
        return True

    def _authenticated(self, recipient: str) -> bool:
        """The answer goes back to a sender our own server verified (aligned SPF or DKIM, or
        DMARC): that domain really sent the mail, so the answer cannot be backscatter."""
        sender = (self.msg.from_addr or "").strip().lower()
        return bool(sender) and recipient.strip().lower() == sender and self.result.sender_auth.verified

    def _over_first_contact_budget(self, kind: str, recipient: str) -> str | None:
        """Why an answer to a never-seen, unverified address must wait for staff, or None.

        Mail to never-seen addresses is how a forged-sender flood becomes spam from us. The
        budget is kept per class — answers to applications, and everything else (status
        questions, receipts) — so strangers' questions cannot spend the applicants' share,
        and per recipient domain, so one domain cannot spend a class's share.
        """
        since = utcnow() - timedelta(hours=1)
        cap = self.settings.new_address_hourly_cap
        share = APPLICATION_ANSWERS if kind in APPLICATION_ANSWERS else OTHER_ANSWERS
        if first_contacts_since(self.session, since, kinds=share) >= cap:
            return f"每小时首次联系上限 {cap}"
        domain = recipient.rsplit("@", 1)[-1].lower()
        per_domain = max(PER_DOMAIN_FLOOR, cap // 4)
        if first_contacts_since(self.session, since, kinds=share, domain=domain) >= per_domain:
            return f"同一域名每小时首次联系上限 {per_domain}（{domain}）"
        return None

    # --- arrival: the mail is still being read ---------------------------------------------
    def for_arrival(self, received: datetime) -> bool:
        """A short receipt (arrival time, being checked) for a mail whose full answer is not
        ready yet; the full answer follows in the same thread. *self.result* holds only what
        the headers say (:func:`intake.glance.glance`). False when no receipt may go."""
        sender = self.msg.from_addr or self.result.from_addr
        if not sender or self.result.no_reply_reason is not None or self.result.sender_auth.forged:
            return False
        return self._send("receipt", "arrival", [sender], {"received_at": received}, reference=None, key="arrival",
                          optional=True)

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
                reference=sub.reference, key=f"claim:{claim.id}", auto="auto-generated",
                # one a record a day however many strangers send its form (outside the daily cap)
                dedupe=f"claim_notice:{sub.reference}:{local_today(self.policy.catalogue).isoformat()}")

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
            items = only_what_applies(applicant_items(touched.mail_problems + touched.package_problems))
            if items:
                self._send("deficiency", "deficiency", [sender], {
                    "reference": None, "unit": None, "items": items, "received_at": received,
                    "deadline": self._deadline(self.result.channel, received)}, reference=None, key="mail")
            return
        for sub, version, codes in touched.versions:
            if any(d.code == "WRONG_CHANNEL" for d in codes) and sub.unit_city in self.policy.cities:
                self._redirect(sub, sender, received)
                continue
            items = self._items(touched, sub, version, received)
            if items:
                self._send("deficiency", "deficiency", [sender], {
                    "reference": sub.reference, "unit": sub.unit, "items": items, "received_at": received,
                    "deadline": self._deadline(sub.channel, received)}, reference=sub.reference, key=sub.reference)
            else:
                self._send("ack", "ack", [sender], self._ack_context(sub, version.documents, received),
                           reference=sub.reference, key=sub.reference)
        if touched.package_problems and applicant_items(touched.package_problems):
            self._send("deficiency", "deficiency", [sender], {
                "reference": None, "unit": None, "items": only_what_applies(applicant_items(touched.package_problems)),
                "received_at": received, "deadline": self._deadline("via_city", received)},
                reference=None, key="package")

    def _items(self, touched: Touched, sub: Submission, version: SubmissionVersion,
               received: datetime | None) -> list[DeficiencyItem]:
        """What the answer to *version* of *sub* says: a late version while a timely one stands
        gets only that (which version stands); late or misdirected material only that."""
        if sub in touched.late_ignored and sub.standing_version:
            return [late_version_item([version.number], sub.standing_version, version.received_at or received,
                                      self.policy.deadline_for(version.channel or sub.channel))]
        return only_what_applies(open_items(self.session, sub))

    def _deadline(self, channel: str | None, received: datetime | None) -> date | None:
        """The deadline of *channel* while it is still open when the mail arrived; None once
        it has passed (a notice never names a past day as one to meet)."""
        if received is not None and self.policy.is_late(received, channel):
            return None
        return self.policy.deadline_for(channel)

    def _package_receipt(self, touched: Touched, sender: str, received: datetime | None) -> None:
        package = touched.package
        assert package is not None
        ranks = {r.submission_id: r.rank for r in self.session.exec(
            select(RecommendationRow).where(RecommendationRow.package_id == package.id)).all()}
        rows = []
        for sub, version, _codes in touched.versions:
            items = self._items(touched, sub, version, received)
            rows.append({"reference": sub.reference, "rank": ranks.get(sub.id), "unit": sub.unit or "",
                         "direction_name": direction_name(sub.direction), "problems": items})
        rows.sort(key=lambda r: (r["direction_name"], r["rank"] or 99, r["reference"]))
        self._send("package_receipt", "package_receipt", [sender], {
            "city": package.city, "received_at": received, "version": package.version, "rows": rows,
            "items": applicant_items(touched.package_problems),
            "deadline": self._deadline("via_city", received)}, reference=None, key=f"package:{package.id}")

    def _ack_context(self, sub: Submission, files: list[str], received: datetime) -> dict[str, Any]:
        return ack_context(self.session, sub, files or [d.name for d in self.result.documents], received)

    def _redirect(self, sub: Submission, sender: str, received: datetime | None) -> None:
        assert sub.unit_city is not None  # the caller checked it is a configured city
        bureau = self.policy.cities[sub.unit_city]
        # the city's own deadline, while it is still open (None: passed when the mail came)
        end = self.policy.deadline_end("city_applicant")
        open_ = end is None or received is None or (received if received.tzinfo else received.replace(tzinfo=UTC)) <= end
        self._send("redirect", "redirect", [sender], {
            "unit": sub.unit, "city": sub.unit_city,
            "bureau": {"contact": bureau.contact, "phone": bureau.phone, "emails": list(bureau.bureau_emails)},
            "deadline_city_applicant": self.policy.deadlines.get("city_applicant") if open_ else None},
            reference=sub.reference, key=f"redirect:{sub.reference}")

    # --- status queries -----------------------------------------------------
    def for_objection(self) -> None:
        """An objection to the published list: a neutral receipt, staff answer it."""
        sender = self.msg.from_addr
        if sender:
            self._send("receipt", "receipt", [sender], {
                "received_at": self.msg.received_at or self.result.received_at or self.msg.stored_at,
                "files": [d.name for d in self.result.documents if d.container is None][:20]},
                reference=None, key="objection")

    # --- acceptance (SPEC 7) ---------------------------------------------------
    def for_acceptance(self, sub: Submission, received: list[dict[str, Any]], missing: list[str]) -> None:
        """What was received, what the form promised and is missing, what happens next."""
        sender = (self.msg.from_addr or "").lower()
        if not sender:
            return
        wording = code("ACCEPTANCE_OUTCOME_MISSING")
        items = [DeficiencyItem(code=wording.code, title=f"{wording.title}：{outcome}",
                                message=f"申报书承诺了{outcome}，本次验收材料中未见{outcome}。", fix=wording.fix)
                 for outcome in missing]
        files = [{"name": r["name"], "kinds": "、".join(OUTCOME_LABELS[k] for k in r.get("outcomes", [])) or "其他材料"}
                 for r in received][:30]
        self._send("acceptance", "acceptance", [sender], {
            "reference": sub.reference, "unit": sub.unit or "", "files": files, "items": items, "missing": len(items),
            "received_at": self.msg.received_at or self.result.received_at or self.msg.stored_at},
            reference=sub.reference, key="acceptance")

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
                {"reference": s.reference, "unit": s.unit or "", "status_label": self._status_context(s)["status_label"],
                 "direction_name": direction_name(s.direction)} for s in mine]},
                reference=None, key="list")
        else:
            self._send("status", "status_denied", [asker], {}, reference=None, key="denied")

    def _status(self, sub: Submission, asker: str) -> None:
        # only ever to the address on file that asked — never to a Reply-To the asker chose
        self._send("status", "status", [asker], self._status_context(sub),
                   reference=sub.reference, key=f"status:{sub.reference}")

    def _status_context(self, sub: Submission) -> dict[str, Any]:
        """The status as it stands when the question arrived."""
        asked = self.msg.received_at or self.result.received_at or self.msg.stored_at
        return status_context(self.session, sub, self.policy, at=asked)


def ack_context(session: Session, sub: Submission, files: list[str], received: datetime) -> dict[str, Any]:
    """What the acknowledgement says of *sub* (the reply to its mail, or after a correction)."""
    return {
        "reference": sub.reference, "unit": sub.unit or "", "direction": sub.direction,
        "direction_name": direction_name(sub.direction), "task_name": sub.task_name,
        "task_types": [task_type_label(t) for t in sub.task_types],
        "channel_label": CHANNEL_LABELS.get(sub.channel or "", "直报"), "city": sub.city,
        "files": files, "received_at": received, "versions": sub.versions,
        # a scan OCR could not fully read: say staff will check it, never that a field is missing
        "unread_scan": "OCR_USED" in open_codes(session, sub.id or 0) and not (sub.direction and sub.task_types),
    }
