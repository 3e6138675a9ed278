"""Apply one understood submission mail to the records: submissions, versions,
deficiencies, city packages — all in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from campaign import codes_in
from campaign.clock import as_utc, utcnow
from campaign.policy import RoundPolicy
from intake.model import Application, Deficiency, Understanding
from tracker.records import claims, overrides, unit_keys
from tracker.records.events import record
from tracker.records.status import refresh_status
from tracker.records.unit_keys import unit_key as unit_key  # review and objections import it here
from tracker.store.tables import (
    CityPackage,
    Claim,
    DeficiencyRecord,
    DeficiencyState,
    RecommendationRow,
    StoredMessage,
    Submission,
    SubmissionVersion,
)

# the catalogue's scopes: about a city's package as a whole, and what only rules across
# messages open and resolve (a per-mail finding of those is for `inspect`, not the records)
PACKAGE_CODES = codes_in("package")
CROSS_MESSAGE_CODES = codes_in("cross")


@dataclass
class Touched:
    """What one message changed, for the replies that follow."""

    versions: list[tuple[Submission, SubmissionVersion, list[Deficiency]]] = field(default_factory=list)
    package: CityPackage | None = None
    package_problems: list[Deficiency] = field(default_factory=list)
    mail_problems: list[Deficiency] = field(default_factory=list)  # no submission to hang them on
    late_ignored: list[Submission] = field(default_factory=list)  # a timely version stands
    claims: list[Claim] = field(default_factory=list)  # held for staff: the sender owns no record here
    held_package: bool = False  # an unverified city package: nothing of it applied yet


def lead_key(app: Application, message_pk: int, index: int) -> str:
    if app.uscc and len(app.uscc) == 18:
        return app.uscc.upper()
    if app.unit:
        return "name:" + unit_key(app.unit)
    return f"unidentified:{message_pk}:{index}"  # nothing to match on: its own record


def next_reference(session: Session, code: str) -> str:
    # the longest, then the greatest as text: JB2025-10000 comes after JB2025-9999
    last = session.exec(
        select(Submission.reference).where(Submission.round_code == code)
        .order_by(func.length(Submission.reference).desc(), col(Submission.reference).desc()).limit(1)
    ).first()
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{code}-{number:04d}"


def _quoted(session: Session, result: Understanding, key: str) -> Submission | None:
    if not result.reference:
        return None
    quoted = session.exec(select(Submission).where(Submission.reference == result.reference)).first()
    if quoted is not None and (quoted.lead_key == key or key.startswith("unidentified:")):
        return quoted
    return None


def _find(session: Session, policy: RoundPolicy, result: Understanding, app: Application, key: str) -> Submission | None:
    quoted = _quoted(session, result, key)
    if quoted is not None:
        return quoted
    found = session.exec(
        select(Submission).where(
            Submission.round_code == policy.code,
            Submission.lead_key == key,
            Submission.direction == (app.direction or 0),
        )
    ).first()
    return (found or overrides.corrected_from(session, policy.code, key, app.direction or 0)
            or _direction_unknown_on_one_side(session, policy, key, app.direction or 0))


def _direction_unknown_on_one_side(session: Session, policy: RoundPolicy, key: str, direction: int
                                   ) -> Submission | None:
    """The same lead unit's application where one of the two readings lacks the direction.

    A scan OCR could not read the ticks of is recorded without a direction (0); the Word
    copy sent later names it. They are one application, not one lead unit in two
    directions (which would be a DUPLICATE_LEAD notice to the applicant). A reading
    without a direction goes to the lead unit's latest submission.
    """
    mine = select(Submission).where(Submission.round_code == policy.code, Submission.lead_key == key)
    if direction:
        return session.exec(mine.where(Submission.direction == 0)).first()
    return session.exec(mine.order_by(col(Submission.updated_at).desc())).first()


def _codes_for(result: Understanding, index: int) -> list[Deficiency]:
    return [
        d for d in result.deficiencies
        if d.code not in PACKAGE_CODES and d.code not in CROSS_MESSAGE_CODES
        and (d.application == index or d.application is None)
    ]


def _preferred_channel(nature: str | None, channels: set[str]) -> str:
    # central / provincial units report direct; everyone else through their city
    if nature in ("central", "provincial") and "direct" in channels:
        return "direct"
    return "via_city" if "via_city" in channels else next(iter(channels))


def package_verified(result: Understanding, policy: RoundPolicy) -> bool:
    """A city package really comes from that city's bureau.

    Staff vouched for it (`ingest --as-city`), or it came from the city's registered
    address — and, where our server's verdicts are configured, with DMARC pass or an
    aligned DKIM/SPF pass (a From header alone proves nothing).
    """
    if result.vouched:
        return True
    if result.sender_city is None or (result.city is not None and result.sender_city != result.city):
        return False
    return result.sender_auth.verified if policy.trusted_authserv_ids else True


def sender_doubt(msg: StoredMessage, result: Understanding) -> str | None:
    """Why this mail's sender cannot own or change a record, or None.

    No one sender: the From field names none, several, or a display name that is another
    address (RFC 5322; DMARC credits the real addr-spec's domain, a reader sees the other).
    Forged: our own server's SPF or DMARC verdict failed for the From domain.
    """
    if not msg.from_addr:
        return "发件人不明确（发件人字段缺失、含多个地址或显示名为另一地址）"
    if result.sender_auth.forged:
        return f"发件人未通过本局邮件服务器的身份验证（{result.sender_auth.summary()}）"
    return None


def _authorised(sub: Submission, msg: StoredMessage, result: Understanding, city_verified: bool) -> bool:
    """The sender may change *sub*: an address on file, or the verified bureau recommending it."""
    sender = (msg.from_addr or "").lower()
    if sender and sender in sub.contacts:
        return True
    # the verified bureau of the city that recommends it, or of the city the unit is in
    return city_verified and result.city is not None and result.city in (sub.city, sub.unit_city)


def apply_submission(session: Session, msg: StoredMessage, result: Understanding, policy: RoundPolicy,
                     *, confirmed: bool = False) -> Touched:
    """Record what one mail brings; *confirmed*: staff confirmed it (a claim), so it is applied."""
    touched = Touched()
    # (a city package from such a sender is an unverified package: held below)
    unsure = None if confirmed or result.vouched or result.channel == "via_city" else sender_doubt(msg, result)
    if unsure is not None and result.applications:
        # a forged or confused sender changes, joins and learns nothing: staff decide
        touched.claims.append(claims.hold(session, msg, result, kind="sender", round_code=policy.code,
                                          city=result.city, reason=unsure))
        return touched
    city_verified = result.channel == "via_city" and (confirmed or package_verified(result, policy))
    if result.channel == "via_city" and not city_verified:
        # never replaces or switches off a city's recommendations, never counts to its quota
        touched.claims.append(claims.hold(session, msg, result, kind="package", round_code=policy.code,
                                          city=result.city, reason=_unverified_reason(result, policy)))
        touched.held_package = True
        return touched
    replay = _package_replay(session, msg, result, policy) if city_verified and not confirmed else None
    if replay is not None:
        # a verified bureau's old mail sent again (DKIM survives an added header): the
        # city's current recommendations stand; staff decide
        touched.claims.append(claims.hold(session, msg, result, kind="package", round_code=policy.code,
                                          city=result.city, reason=replay))
        touched.held_package = True
        return touched
    if result.channel == "via_city":
        touched.package = _record_package(session, msg, result, policy)
        touched.package_problems = [d for d in result.deficiencies if d.code in PACKAGE_CODES]
    if not result.applications:
        touched.mail_problems = [d for d in result.deficiencies if d.code not in PACKAGE_CODES]
        if result.reference:  # a reply to a known submission that carried no form
            sub = session.exec(select(Submission).where(Submission.reference == result.reference)).first()
            if sub is not None:
                record(session, "mail_without_form", submission=sub, message=msg,
                       detail=",".join(d.code for d in touched.mail_problems))
        return touched
    for index, app in enumerate(result.applications):
        _apply_application(session, msg, result, policy, index, app, touched,
                           confirmed=confirmed, city_verified=city_verified)
    return touched


def _package_replay(session: Session, msg: StoredMessage, result: Understanding, policy: RoundPolicy
                    ) -> str | None:
    """Why a verified city package must not change the city's recommendations, or None.

    A replay: its Message-ID was already recorded (the bytes differ: a header was added);
    or it arrived before the package the city's recommendations stand on now (mail is
    recorded in order of arrival, so an older one now is a replay or a relay's copy).
    """
    if msg.message_id:
        seen = session.exec(select(StoredMessage.id).where(
            StoredMessage.message_id == msg.message_id, StoredMessage.id != msg.id,
            StoredMessage.state == "processed")).first()
        if seen is not None:
            return "与此前收到的推荐材料邮件编号（Message-ID）相同，疑为重放：未更改推荐"
    latest = session.exec(select(CityPackage).where(
        CityPackage.round_code == policy.code, CityPackage.city == (result.city or "未知"))
        .order_by(col(CityPackage.version).desc())).first()
    if latest is not None and latest.received_at is not None and msg.received_at is not None \
            and as_utc(msg.received_at) < as_utc(latest.received_at):
        return f"早于该市已收到的第{latest.version}版推荐材料送达：未更改推荐"
    return None


def _unverified_reason(result: Understanding, policy: RoundPolicy) -> str:
    city = result.city or "未知城市"
    if result.sender_city is None:
        return f"发件地址未登记为{city}大数据局"
    if result.city and result.sender_city != result.city:
        return f"发件地址登记为{result.sender_city}大数据局，材料却是{city}的"
    return f"{city}推荐材料未通过发件人身份验证（{result.sender_auth.summary()}）"


def _owner_elsewhere(session: Session, policy: RoundPolicy, key: str, direction: int) -> Submission | None:
    """A submission of the same lead unit in another direction (a credit code is public)."""
    if key.startswith("unidentified:"):
        return None
    return session.exec(select(Submission).where(
        Submission.round_code == policy.code, Submission.lead_key == key, Submission.direction != direction)
        .order_by(col(Submission.id))).first()


def _apply_application(session: Session, msg: StoredMessage, result: Understanding, policy: RoundPolicy,
                       index: int, app: Application, touched: Touched, *, confirmed: bool = False,
                       city_verified: bool = False) -> None:
    key = lead_key(app, msg.id or 0, index)
    codes = _codes_for(result, index)
    late = any(d.code == "LATE" for d in codes)
    sub = _find(session, policy, result, app, key)
    if not confirmed:
        held = sub if sub is not None else _owner_elsewhere(session, policy, key, app.direction or 0)
        if held is not None and not _authorised(held, msg, result, city_verified):
            quoted = _quoted(session, result, key)
            kind = "reference" if quoted is not None and quoted.id == held.id else "credit_code"
            reason = ("引用的受理编号属于他人的申报" if kind == "reference" else
                      "信用代码或单位名称与已有申报相同" + ("（同一方向）" if sub is not None else "（另一方向，可能重复牵头）"))
            touched.claims.append(claims.hold(session, msg, result, kind=kind, reason=reason, round_code=policy.code,
                                              submission=held, application=index, city=result.city))
            return
        if held is not None and policy.trusted_authserv_ids and not (city_verified or result.sender_auth.verified):
            # the address on file, as the From header says; with our server's verdicts
            # configured, a record changes only for a sender it verified (a From without
            # SPF, DKIM or DMARC is anyone's): staff decide
            touched.claims.append(claims.hold(
                session, msg, result, kind="sender", round_code=policy.code, submission=held, application=index,
                city=result.city, reason=f"发件人未通过本局邮件服务器的身份验证，不能更改已有申报（{result.sender_auth.summary()}）"))
            return
    if sub is None:
        sub = Submission(round_code=policy.code, reference=next_reference(session, policy.code), lead_key=key,
                         direction=app.direction or 0)
        session.add(sub)
        session.flush()
        record(session, "submission_created", submission=sub, message=msg, detail=sub.reference)
    number = sub.versions + 1
    assert sub.id is not None and msg.id is not None  # stored rows (flushed)
    version = SubmissionVersion(
        submission_id=sub.id, number=number, message_pk=msg.id, received_at=msg.received_at,
        late=late, channel=result.channel, documents=list(app.documents), fields=app.contract(),
    )
    session.add(version)
    sub.versions = number
    _add_contacts(sub, msg, app, result)
    timely_stands = late and sub.standing_version and not sub.late
    if timely_stands:
        record(session, "late_version_ignored", submission=sub, message=msg,
               detail=f"第{number}版逾期送达，以第{sub.standing_version}版为准")
        touched.late_ignored.append(sub)
    else:
        previous_channel = sub.channel
        _take_fields(sub, app, result)
        if previous_channel and previous_channel != result.channel:
            sub.channel = _preferred_channel(sub.unit_nature, {previous_channel, result.channel or previous_channel})
            record(session, "received_on_both_channels", submission=sub, message=msg,
                   detail=f"{previous_channel} + {result.channel}; counts as {sub.channel}")
        sub.standing_version, sub.late = number, late
        _sync_deficiencies(session, sub, msg, number, codes)
        overrides.reapply(session, policy, sub)  # staff corrections stand over every version
        record(session, "version_added", submission=sub, message=msg, detail=f"第{number}版")
    if touched.package is not None:
        _link_rows(session, touched.package, sub)
    sub.updated_at = utcnow()
    session.add(sub)
    session.flush()
    unit_keys.keep(session, sub)  # its units as this version (and staff's corrections) name them
    refresh_status(session, sub, cause=msg)
    touched.versions.append((sub, version, codes))


def _add_contacts(sub: Submission, msg: StoredMessage, app: Application, result: Understanding) -> None:
    """The sender of an accepted version is on file. The form's own contact address is
    not: anyone can type any address into a form, and mail to it would be backscatter."""
    found = list(sub.contacts)
    sender = (msg.from_addr or "").lower()
    if sender and sender not in found:
        found.append(sender)
    sub.contacts = found


def _take_fields(sub: Submission, app: Application, result: Understanding) -> None:
    sub.unit = app.unit or sub.unit
    sub.uscc = app.uscc or sub.uscc
    sub.unit_nature = app.unit_nature or sub.unit_nature
    sub.unit_city = app.city or sub.unit_city
    sub.direction = app.direction or sub.direction
    sub.task_name = app.task_name or sub.task_name
    sub.task_types = list(app.task_types) or sub.task_types
    sub.partners = list(app.partners)
    sub.channel = sub.channel or result.channel
    if result.channel == "via_city":
        sub.city = result.city


def _sync_deficiencies(session: Session, sub: Submission, msg: StoredMessage, number: int,
                       codes: list[Deficiency]) -> None:
    """Open what this version has; resolve what it fixed (cross-message codes excepted)."""
    open_rows = session.exec(
        select(DeficiencyRecord).where(
            DeficiencyRecord.submission_id == sub.id, DeficiencyRecord.state == DeficiencyState.open
        )
    ).all()
    now_codes = {d.code for d in codes}
    for row in open_rows:
        if row.code in CROSS_MESSAGE_CODES or row.code in now_codes:
            continue
        row.state, row.resolved_at, row.resolution = DeficiencyState.resolved, utcnow(), f"第{number}版已补正"
        session.add(row)
        record(session, "deficiency_resolved", submission=sub, message=msg, detail=row.code)
    already = {row.code for row in open_rows}
    for d in codes:
        if d.code in already:
            continue
        session.add(DeficiencyRecord(submission_id=sub.id, message_pk=msg.id, version=number,
                                     code=d.code, severity=d.severity, message=d.message))
        already.add(d.code)
        record(session, "deficiency_opened", submission=sub, message=msg, detail=d.code)


def _record_package(session: Session, msg: StoredMessage, result: Understanding, policy: RoundPolicy) -> CityPackage:
    city = result.city or "未知"
    assert msg.id is not None  # a stored message
    earlier = session.exec(
        select(CityPackage).where(CityPackage.round_code == policy.code, CityPackage.city == city)
    ).all()
    package = CityPackage(
        round_code=policy.code, city=city, message_pk=msg.id, sender=msg.from_addr,
        version=max((p.version for p in earlier), default=0) + 1,
        verified=_sender_verified(result), has_table=result.has_table,
        late=result.late, received_at=msg.received_at,
    )
    session.add(package)
    session.flush()
    assert package.id is not None  # flushed
    _supersede_rows(session, msg, package, {rec.direction or 0 for rec in result.recommendations})
    for rec in result.recommendations:
        session.add(RecommendationRow(package_id=package.id, rank=rec.rank, direction=rec.direction or 0,
                                      unit=rec.unit, task_name=rec.task_name))
    for d in result.deficiencies:
        if d.code in PACKAGE_CODES:
            session.add(DeficiencyRecord(package_id=package.id, message_pk=msg.id, code=d.code,
                                         severity=d.severity, message=d.message))
    record(session, "package_received", package=package, message=msg,
           detail=f"{city} 第{package.version}版，推荐{len(result.recommendations)}项")
    session.flush()
    return package


def _sender_verified(result: Understanding) -> bool:
    """The package came from the registered address of the city it is for (or has no table)."""
    if not result.has_table:
        return True
    return result.sender_city is not None and (result.city is None or result.sender_city == result.city)


def _supersede_rows(session: Session, msg: StoredMessage, package: CityPackage, directions: set[int]) -> None:
    """A re-sent table is the city's whole list for the directions it covers."""
    if not directions:
        return  # forms without a table add applications, they change no list
    older = session.exec(
        select(RecommendationRow).join(CityPackage, col(RecommendationRow.package_id) == col(CityPackage.id)).where(
            CityPackage.round_code == package.round_code, CityPackage.city == package.city,
            CityPackage.id != package.id, col(RecommendationRow.current).is_(True),
            col(RecommendationRow.direction).in_(directions),
        )
    ).all()
    replaced: set[int] = set()
    for row in older:
        row.current = False
        session.add(row)
        replaced.add(row.package_id)
    for pk in sorted(replaced):
        old = session.get(CityPackage, pk)
        still = session.exec(select(RecommendationRow.id).where(
            RecommendationRow.package_id == pk, col(RecommendationRow.current).is_(True))).first()
        if old is not None and still is None:
            old.current = False
            session.add(old)
        record(session, "package_superseded", package=old, message=msg,
               detail=f"第{old.version if old else '?'}版中方向{sorted(directions)}的推荐由第{package.version}版取代")


def _link_rows(session: Session, package: CityPackage, sub: Submission) -> None:
    for row in session.exec(select(RecommendationRow).where(RecommendationRow.package_id == package.id)).all():
        if row.submission_id is None and sub.unit and unit_key(row.unit) == unit_key(sub.unit):
            row.submission_id = sub.id
            session.add(row)
