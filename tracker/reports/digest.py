"""The staff digest's numbers, read from the database into one typed, immutable value.

Every count the digest mail, its chart and its workbook show is computed here, so the
templates only lay values out and the tests can compare the mail with the database.
Times are UTC in the database and shown in the round's time zone; "today" is that zone's date.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from campaign.clock import as_utc, local
from campaign.labels import (
    ACCEPTANCE_LABELS,
    CHANNEL_LABELS,
    DEADLINE_LABELS,
    FORMAL_LABELS,
    INTENT_LABELS,
    MAIL_KIND_LABELS,
    MAIL_STATE_LABELS,
    STATUS_LABELS,
    direction_label,
)
from campaign.policy import RoundPolicy
from notifier.models import MailKind, OutboxMail, OutboxState
from notifier.outbox import HeldFilter, held_count, held_mail
from notifier.wording import title_of
from tracker.records.acceptance import overdue_rework
from tracker.reports.chart import render_chart
from tracker.reports.recommendation import ranked_items, table_rows
from tracker.reports.views import (
    CityStatus,
    Count,
    DailyPoint,
    DeadlineItem,
    DeficiencyCount,
    Digest,
    DirectionCount,
    LateItem,
    MailProblem,
    MessageItem,
    QuotaCell,
    SubmissionItem,
)
from tracker.reports.workbook import digest_workbook, province_tables
from tracker.store.tables import (
    CityPackage,
    DeficiencyRecord,
    DeficiencyState,
    MailHandled,
    MessageState,
    Objection,
    RecommendationRow,
    StoredMessage,
    Submission,
    SubmissionStatus,
    SubmissionVersion,
)


def _local(value: datetime | None, policy: RoundPolicy) -> datetime | None:
    return local(value, policy.catalogue) if value else None


def last_digest_at(session: Session) -> datetime | None:
    value = session.exec(select(func.max(OutboxMail.created_at)).where(OutboxMail.kind == MailKind.digest)).one()
    return as_utc(value) if value else None


def _live(session: Session, policy: RoundPolicy) -> list[Submission]:
    return list(session.exec(select(Submission).where(Submission.round_code == policy.code,
                                                      Submission.status != SubmissionStatus.withdrawn)
                             .order_by(Submission.reference)).all())


def _directions(subs: list[Submission], policy: RoundPolicy) -> tuple[tuple[DirectionCount, ...], DirectionCount]:
    """A row per direction of the round (its catalogue's, however many), then 未识别 if any:
    a direction number the round does not have counts there too, so rows add up to the total."""
    known = range(1, len(policy.catalogue.directions) + 1)
    cells: Counter[tuple[int, str | None]] = Counter(
        ((s.direction if s.direction in known else 0), s.channel) for s in subs)
    rows = []
    for d in [*known, 0]:
        direct, via = cells[(d, "direct")], cells[(d, "via_city")]
        total = sum(n for (dd, _), n in cells.items() if dd == d)
        if d or total:  # "未识别" only when there is one
            rows.append(DirectionCount(d, policy.catalogue.direction_label(d, "未识别"), direct, via, total))
    grand = DirectionCount(-1, "合计", sum(r.direct for r in rows), sum(r.via_city for r in rows), len(subs))
    return tuple(rows), grand


def _current_rows(session: Session, package_ids: list[int]) -> list[RecommendationRow]:
    stmt = select(RecommendationRow).where(col(RecommendationRow.package_id).in_(package_ids or [-1]))
    stmt = stmt.where(col(RecommendationRow.current).is_(True))  # rows a newer table of the city superseded: out
    return list(session.exec(stmt).all())


def _cities(session: Session, policy: RoundPolicy, subs: list[Submission]) -> tuple[CityStatus, ...]:
    packages = session.exec(select(CityPackage).where(CityPackage.round_code == policy.code,
                                                      col(CityPackage.current).is_(True))).all()
    by_city: dict[str, list[CityPackage]] = defaultdict(list)
    for p in packages:
        by_city[p.city].append(p)
    rows = _current_rows(session, [p.id for p in packages if p.id is not None])
    city_of = {p.id: p.city for p in packages}
    per: Counter[tuple[str, int]] = Counter((city_of[r.package_id], r.direction) for r in rows)
    via = Counter(s.city for s in subs if s.channel == "via_city")
    out = []
    for city in policy.catalogue.cities:
        mine = sorted(by_city.get(city, []), key=lambda p: p.version)
        latest = mine[-1] if mine else None
        quota = tuple(QuotaCell(d, direction_label(d), n, d > 0 and n > policy.catalogue.city_quota)
                      for (c, d), n in sorted(per.items()) if c == city)
        out.append(CityStatus(
            city=city, received=latest is not None, version=latest.version if latest else None,
            received_at=_local(latest.received_at, policy) if latest else None,
            late=any(p.late for p in mine), verified=all(p.verified for p in mine),
            has_table=any(p.has_table for p in mine), quota=quota, submissions=via[city]))
    return tuple(out)


def _item(sub: Submission, version: int, received: datetime | None, policy: RoundPolicy) -> SubmissionItem:
    return SubmissionItem(sub.reference, sub.unit or "（未识别）", direction_label(sub.direction),
                          CHANNEL_LABELS.get(sub.channel or "", "—"), sub.city or sub.unit_city or "",
                          version, _local(received, policy))


def _new(session: Session, policy: RoundPolicy, since: datetime | None
         ) -> tuple[tuple[SubmissionItem, ...], tuple[SubmissionItem, ...]]:
    stmt = (select(SubmissionVersion, Submission)
            .join(Submission, col(Submission.id) == col(SubmissionVersion.submission_id))
            .where(Submission.round_code == policy.code).order_by(col(SubmissionVersion.id)))
    if since is not None:
        stmt = stmt.where(SubmissionVersion.created_at > since)
    pairs = session.exec(stmt).all()
    first = tuple(_item(s, v.number, v.received_at, policy) for v, s in pairs if v.number == 1)
    later = tuple(_item(s, v.number, v.received_at, policy) for v, s in pairs if v.number > 1)
    return first, later


def _deficiencies(session: Session) -> tuple[tuple[DeficiencyCount, ...], tuple[DeficiencyCount, ...]]:
    rows = session.exec(select(DeficiencyRecord.code, DeficiencyRecord.severity, func.count())
                        .where(DeficiencyRecord.state == DeficiencyState.open)
                        .group_by(DeficiencyRecord.code, DeficiencyRecord.severity)).all()
    items = sorted((DeficiencyCount(code, sev, title_of(code), n)
                    for code, sev, n in rows), key=lambda d: (-d.count, d.code))
    return (tuple(d for d in items if d.severity == "error"), tuple(d for d in items if d.severity != "error"))


def _late(session: Session, policy: RoundPolicy) -> tuple[LateItem, ...]:
    out = []
    pairs = session.exec(select(SubmissionVersion, Submission)
                         .join(Submission, col(Submission.id) == col(SubmissionVersion.submission_id))
                         .where(Submission.round_code == policy.code, col(SubmissionVersion.late).is_(True))
                         .order_by(col(SubmissionVersion.received_at), col(SubmissionVersion.id))).all()
    for v, s in pairs:
        standing = v.number == s.standing_version
        out.append(LateItem(s.reference, s.unit or "（未识别）", CHANNEL_LABELS.get(v.channel or "", "—"),
                            _local(v.received_at, policy), policy.deadline_for(v.channel),
                            f"第{v.number}版逾期" + ("" if standing else f"，以第{s.standing_version}版为准")))
    for p in session.exec(select(CityPackage).where(CityPackage.round_code == policy.code,
                                                    col(CityPackage.late).is_(True)).order_by(col(CityPackage.id))).all():
        out.append(LateItem(p.city, f"{p.city}推荐材料", CHANNEL_LABELS["via_city"], _local(p.received_at, policy),
                            policy.deadlines.get("city_bureau"), f"第{p.version}版推荐材料逾期"))
    return tuple(out)


def _message(m: StoredMessage, policy: RoundPolicy) -> MessageItem:
    assert m.id is not None  # a stored row
    return MessageItem(m.id, m.from_addr or "（无发件人）", m.subject or "（无主题）",
                       _local(m.received_at, policy), INTENT_LABELS.get(m.intent, m.intent or ""), m.error or "")


def unanswered(session: Session, policy: RoundPolicy) -> tuple[MessageItem, ...]:
    """Mail of intent ``other`` that no outbox mail answers and staff did not close (marked
    handled in the workspace): questions for a person."""
    answered = set(session.exec(select(OutboxMail.in_reply_to).where(col(OutboxMail.in_reply_to).is_not(None))).all())
    closed = select(MailHandled.message_pk)
    rows = session.exec(select(StoredMessage).where(StoredMessage.intent == "other",
                                                    col(StoredMessage.id).not_in(closed))
                        .order_by(col(StoredMessage.id))).all()
    own = {a.lower() for a in policy.own_addresses}
    return tuple(_message(m, policy) for m in rows
                 if m.message_id not in answered and (m.from_addr or "").lower() not in own)


def _mail_problems(session: Session) -> tuple[MailProblem, ...]:
    rows = session.exec(select(OutboxMail).where(col(OutboxMail.state).in_([OutboxState.failed, OutboxState.bounced]))
                        .order_by(col(OutboxMail.id))).all()
    out = []
    for r in rows:
        assert r.id is not None  # a stored row
        out.append(MailProblem(r.id, MAIL_KIND_LABELS.get(r.kind, r.kind), "、".join(r.to_addrs), r.subject,
                               MAIL_STATE_LABELS.get(r.state, r.state), r.last_error or ""))
    return tuple(out)


def _deadlines(policy: RoundPolicy, today: date) -> tuple[DeadlineItem, ...]:
    out = []
    for key, label in DEADLINE_LABELS.items():
        day = policy.deadlines.get(key)
        if day is None:
            continue
        left = (day - today).days
        text = f"还有{left}天" if left > 0 else ("今天截止" if left == 0 else f"已截止{-left}天")
        out.append(DeadlineItem(key, label, day, left, text))
    return tuple(sorted(out, key=lambda d: (d.day, d.key)))


def _daily(session: Session, policy: RoundPolicy, subs: list[Submission]) -> tuple[DailyPoint, ...]:
    """Cumulative submissions per Shanghai day, by when their first version arrived."""
    firsts = dict(session.exec(select(SubmissionVersion.submission_id, func.min(SubmissionVersion.received_at))
                               .group_by(col(SubmissionVersion.submission_id))).all())
    per_day: Counter[tuple[date, str]] = Counter()
    for s in subs:
        assert s.id is not None  # a stored row
        when = _local(firsts.get(s.id), policy) or local(s.created_at, policy.catalogue)
        per_day[(when.date(), s.channel or "")] += 1
    out, direct, via, total = [], 0, 0, 0
    for day in sorted({d for d, _ in per_day}):
        direct += per_day[(day, "direct")]
        via += per_day[(day, "via_city")]
        total += sum(n for (d, _), n in per_day.items() if d == day)
        out.append(DailyPoint(day, direct, via, total))
    return tuple(out)


def _intents(session: Session, since: datetime | None) -> tuple[int, tuple[Count, ...]]:
    stmt = select(StoredMessage.intent, StoredMessage.state, func.count()).group_by(StoredMessage.intent,
                                                                                   StoredMessage.state)
    if since is not None:
        stmt = stmt.where(StoredMessage.stored_at > since)
    counts: Counter[str | None] = Counter()
    for intent, state, n in session.exec(stmt).all():
        counts["quarantined" if state == MessageState.quarantined else intent] += n
    labels = {**INTENT_LABELS, "quarantined": "已隔离（无法处理）"}
    order = ["submission", "status_query", "other", "auto_reply", "bounce", "quarantined", None]
    return sum(counts.values()), tuple(Count(k or "stored", labels[k], counts[k]) for k in order if counts[k])


def gather(session: Session, policy: RoundPolicy, *, now: datetime, today: date | None = None) -> Digest:
    """Everything the digest shows, as of *now* (aware); *today* overrides the deadline date."""
    since = last_digest_at(session)
    subs = _live(session, policy)
    directions, direction_total = _directions(subs, policy)
    new_subs, new_versions = _new(session, policy, since)
    errors, warnings = _deficiencies(session)
    messages_since, intents = _intents(session, since)
    statuses = Counter(s.status for s in session.exec(select(Submission).where(
        Submission.round_code == policy.code)).all())
    local_now = now.astimezone(policy.tz)
    quarantined = tuple(_message(m, policy) for m in session.exec(
        select(StoredMessage).where(StoredMessage.state == MessageState.quarantined).order_by(col(StoredMessage.id))).all())
    mail_problems, questions = _mail_problems(session), unanswered(session, policy)
    oldest_held, held = held_mail(session, HeldFilter(limit=1)), held_count(session)
    return Digest(
        owner=f"{policy.city}大数据局" if policy.role == "city" and policy.city else "山东省大数据局",
        role=policy.role, city=policy.city, round_code=policy.code, generated_at=local_now,
        today=today or local_now.date(), since=_local(since, policy), submissions=len(subs),
        incomplete=statuses[SubmissionStatus.incomplete.value],
        needs_attention=len(quarantined) + len(mail_problems) + len(questions) + held,
        statuses=tuple(Count(s.value, STATUS_LABELS[s.value], statuses[s.value]) for s in SubmissionStatus),
        directions=directions, direction_total=direction_total,
        cities=_cities(session, policy, subs) if policy.role == "province" else (),
        messages_since=messages_since, intents_since=intents,
        new_submissions=new_subs, new_versions=new_versions, errors=errors, warnings=warnings,
        late=_late(session, policy), quarantined=quarantined, mail_problems=mail_problems, unanswered=questions,
        held=held, held_oldest=_local(oldest_held[0].created_at, policy) if oldest_held else None,
        deadlines=_deadlines(policy, today or local_now.date()), daily=_daily(session, policy, subs),
        recommendations=ranked_items(session, policy) if policy.role == "city" else (),
        after_intake=_after_intake(session, today or local_now.date()),
    )


def _after_intake(session: Session, today: date) -> tuple[Count, ...]:
    """Formal review, objections and acceptance at a glance (rows that are zero are left out)."""
    subs = session.exec(select(Submission).where(Submission.status != SubmissionStatus.withdrawn)).all()
    formal = Counter(s.formal for s in subs if s.formal)
    acceptance = Counter(s.acceptance for s in subs if s.acceptance)
    open_objections = len(session.exec(select(Objection.id).where(Objection.state == "open")).all())
    rows = [Count("formal_pass", FORMAL_LABELS["pass"], formal["pass"]),
            Count("formal_fail", FORMAL_LABELS["fail"], formal["fail"]),
            Count("objections", "待处理的异议", open_objections),
            *(Count(f"acceptance_{k}", ACCEPTANCE_LABELS[k], acceptance[k]) for k in ("requested", "passed", "rework")),
            Count("rework_overdue", "整改逾期", len(overdue_rework(session, today)))]
    return tuple(r for r in rows if r.count)


# --- the mail: numbers + chart + workbook, written to the outbox once a day -------------------------
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class DigestBundle:
    digest: Digest
    chart_png: bytes
    workbook: bytes

    @property
    def workbook_name(self) -> str:
        return f"揭榜挂帅汇总-{self.digest.today.isoformat()}.xlsx"

    def context(self, chart_src: str | None) -> dict[str, Any]:
        """The ``digest`` template's context (notifier.templates.DigestContext)."""
        return {"digest": self.digest, "chart_src": chart_src}


def build_bundle(session: Session, policy: RoundPolicy, *, now: datetime, today: date | None = None) -> DigestBundle:
    digest = gather(session, policy, now=now, today=today)
    chart = render_chart(digest.daily, digest.deadlines, today=digest.today)
    if policy.role == "city" and policy.city:
        tables = {policy.city: table_rows(session, policy)}
    else:
        tables = province_tables(session, policy)
    workbook = digest_workbook(session, policy, tables=tables, filled_on=digest.today)
    return DigestBundle(digest, chart.png, workbook)


def digest_key(day: date) -> str:
    return f"digest:{day.isoformat()}"
