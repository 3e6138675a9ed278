"""The whole intake pipeline for one raw message: parse → open → classify → extract → checks.

``understand`` never raises. Each stage writes into the result as it goes, so when a
stage trips over hostile input the caller still gets everything learned before it
(and the message is processed, not lost).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import Message
from typing import TYPE_CHECKING

from campaign import RoundPolicy, using
from intake.checks import Facts, run_checks
from intake.classify import (
    classify_documents,
    cloud_links,
    detect_intent,
    find_reference,
    is_bounce,
    objection_text,
    own_text,
    promote_scanned_forms,
)
from intake.documents.pages import follow_lead_pages, with_pages
from intake.extract.directions import direction_hint, directions_in
from intake.extract.fields import FormReading, read_form, settle_scope
from intake.extract.merge import Settled, settle_readings
from intake.extract.outcomes import outcome_kinds
from intake.extract.table import (
    RecommendationTable,
    combine_tables,
    read_recommendations,
    settle_units,
)
from intake.extract.units import city_in, same_unit
from intake.glance import answer_facts
from intake.model import Channel, Deficiency, Document, Envelope, Understanding

if TYPE_CHECKING:  # imported lazily at run time (see _parse)
    from intake.mime import Attachment

log = logging.getLogger("jiebang.intake")


@dataclass
class _Mail:
    envelope: Envelope
    headers: Message | None = None
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)


def _parse(raw: bytes) -> _Mail:
    try:
        from intake.mime import parse_message

        parsed = parse_message(raw)
        return _Mail(
            parsed.envelope,
            parsed.headers,
            parsed.text or "",
            getattr(parsed, "html", "") or "",
            list(parsed.attachments),
        )
    except Exception:
        log.warning("could not parse message; reading headers only", exc_info=True)
    try:
        # headers too, not just the envelope: they still tell a bounce or an auto-reply
        # apart, so nobody answers one
        from intake.envelope import envelope_of, read_headers

        headers = read_headers(raw)
        return _Mail(envelope_of(headers), headers)
    except Exception:
        log.warning("could not read the headers either", exc_info=True)
        return _Mail(Envelope(None, None, "", None, None))


def _open(attachments: list[Attachment]) -> list[Document]:
    files = [a for a in attachments if not getattr(a, "inline", False)]
    if not files:
        return []
    try:
        from intake.attachments import open_attachments

        return list(open_attachments(files))
    except Exception as exc:
        log.warning("could not open attachments", exc_info=True)
        # still list them, so the sender hears "cannot open" rather than "nothing attached"
        return [
            Document(
                name=a.name,
                format="other",
                container=a.container,
                readable=False,
                error=f"{type(exc).__name__}",
                size=len(a.data or b""),
            )
            for a in files
        ]


def _unread_picture_as_form(docs: list[Document]) -> None:
    """A picture OCR could not read for want of memory, in a submission with no form: it
    is taken as the form (as a scanned PDF is, see ``promote_scanned_forms``), so the
    application is on record and staff read it (OCR_USED); our shortage of memory must
    not tell the sender that the form is missing."""
    from intake.attachments import OCR_SHORT_OF_MEMORY

    if any(d.role in ("application_form", "recommendation_table") for d in docs):
        return
    for doc in docs:
        if doc.format == "image" and doc.readable and doc.error == OCR_SHORT_OF_MEMORY:
            doc.role = "application_form"
            return


def _arrival(given: datetime | None, env: Envelope, policy: RoundPolicy) -> datetime | None:
    """Server arrival time; a naive time is taken as UTC (how the store keeps them)."""
    when = given or env.received_at or env.date
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(policy.tz)
    except Exception:
        return when


def _reference(policy: RoundPolicy, mail: _Mail, raw: bytes) -> str | None:
    env = mail.envelope
    found = find_reference(
        policy.code,
        env.subject,
        env.in_reply_to or "",
        " ".join(env.references or []),
        own_text(mail.text),
        mail.text,
    )
    if found is None and is_bounce(mail.headers, env):
        # the returned headers of our own mail sit in parts the body text leaves out
        found = find_reference(policy.code, raw[:200_000].decode("utf-8", "replace"))
    return found


def _table(docs: list[Document]) -> RecommendationTable | None:
    copies = [
        (read_recommendations(d), d.scanned)
        for d in docs
        if d.role == "recommendation_table" and d.readable
    ]
    if not copies:
        return None
    return combine_tables(copies)


def _channel(
    policy: RoundPolicy,
    env: Envelope,
    docs: list[Document],
    table: RecommendationTable | None,
    forms: list[FormReading],
) -> tuple[Channel, str | None, str | None]:
    """(channel, city, sender's configured city)."""
    sender_city = policy.city_for_sender(env.from_addr or "") if env.from_addr else None
    has_table = any(d.role == "recommendation_table" for d in docs)
    if policy.role == "city" or not (has_table or sender_city):
        return "direct", None, sender_city
    city = sender_city or (table.city if table else None) or city_in(env.subject)
    if city is None:
        named = {x.recommender and city_in(x.recommender) for x in forms} - {None}
        city = named.pop() if len(named) == 1 else None
    return "via_city", city, sender_city


def _fill_from_table(forms: list[FormReading], table: RecommendationTable | None) -> None:
    """A city package's table row settles what the form left out."""
    if not table:
        return
    for form in forms:
        app = form.application
        row = next(
            (r for r in table.rows if app.unit and same_unit(r.recommendation.unit, app.unit)), None
        )
        if row is None:
            continue
        if not form.directions and row.recommendation.direction:
            app.direction = row.recommendation.direction
            form.directions = {app.direction}
        app.task_types = app.task_types or list(row.task_types)
        app.task_name = app.task_name or row.recommendation.task_name


def _fill_from_mail(forms: list[FormReading], env: Envelope, text: str) -> None:
    """A lone form without a readable direction: the subject or body often names it."""
    if len(forms) != 1 or forms[0].directions:
        return
    hint = direction_hint(env.subject)
    if hint is None:
        for line in own_text(text).splitlines():
            if "方向" in line:
                found = directions_in(re.split(r"[:：]", line, maxsplit=1)[-1])
                if len(found) == 1:
                    hint = next(iter(found))
                    break
    if hint:
        forms[0].application.direction = hint
        forms[0].directions = {hint}


def _forms(
    docs: list[Document], table: RecommendationTable | None = None, body: str = ""
) -> tuple[list[Settled], list[FormReading]]:
    """(each application: the version that counts and those it superseded; scans tied to
    no typed form: for staff). *body*: the mail's text, which may say which version counts."""
    readings, modified = [], []
    for doc in docs:
        if doc.role != "application_form" or not doc.readable:
            continue
        try:
            readings.append(read_form(doc))
        except Exception:
            log.warning("could not read form %s", doc.name, exc_info=True)
            continue
        modified.append(doc.modified)
    listed = [r.recommendation.unit for r in table.rows] if table else []
    return settle_readings(readings, listed, own_text(body), modified)


def _unguessed(found: list[Deficiency], facts: Facts, settled: list[Settled]) -> list[Deficiency]:
    """An application whose final version was a guess (nothing marked it: the later in the
    mail counts) keeps only the errors every one of its versions has: nothing that rests on
    the guess is mailed. Its documents list every version's files, for staff."""
    for index, one in enumerate(settled):
        if one.how != "order":
            continue
        for other in one.superseded:
            forms = list(facts.forms)
            forms[index] = other
            theirs = {d.code for d in run_checks(replace(facts, forms=forms)).deficiencies
                      if d.application == index}
            dropped = [d.code for d in found if d.application == index and d.severity == "error"
                       and d.code not in theirs]
            if dropped:
                log.warning("versions of %s: which counts is a guess; not mailing %s",
                            one.form.application.unit or one.form.name, ", ".join(dropped))
            found = [d for d in found if d.application != index or d.severity != "error" or d.code in theirs]
    return found


# ids within the message_id column (998); a real DSN quotes one or two
_MSGID_LINE = re.compile(rb"^Message-ID:[ \t]*(<[^<>\s\x00-\x1f\x7f]{1,996}>)", re.I | re.M)
MAX_BOUNCED_IDS = 50


def _original_ids(raw: bytes, own_id: str | None) -> list[str]:
    """The Message-IDs a DSN quotes (its message/rfc822 or rfc822-headers part)."""
    found = (m.group(1).decode("utf-8", "replace") for m in _MSGID_LINE.finditer(raw))
    return [m for m in dict.fromkeys(found) if m != own_id][:MAX_BOUNCED_IDS]


def understand(
    raw: bytes, policy: RoundPolicy, received_at: datetime | None = None, *, as_city: str | None = None
) -> Understanding:
    """Everything intake can learn from one raw message. Never raises.

    *as_city*: staff vouch that this is that city bureau's material (taken from 山东通).
    """
    result = Understanding(message_id=None, from_addr=None, subject="", received_at=None)
    try:
        with using(policy.catalogue):
            _run(bytes(raw or b""), policy, received_at, result, as_city)
    except Exception:
        log.exception("intake stopped early on message %s", result.message_id)
    return result


def _run(
    raw: bytes, policy: RoundPolicy, received_at: datetime | None, result: Understanding,
    as_city: str | None = None,
) -> None:
    mail = _parse(raw)
    env = mail.envelope
    result.message_id, result.from_addr, result.subject = (
        env.message_id,
        env.from_addr,
        env.subject or "",
    )
    result.received_at = _arrival(received_at, env, policy)
    result.reference = _reference(policy, mail, raw)
    docs = _open(mail.attachments)
    classify_documents(docs)
    follow_lead_pages(docs)
    result.documents = docs
    cloud = cloud_links(mail.text, mail.html)
    result.intent = detect_intent(
        mail.headers,
        env,
        mail.text,
        docs,
        code=policy.code,
        reference=result.reference,
        has_cloud_link=bool(cloud),
        own=frozenset(a.lower() for a in policy.own_addresses),
    )
    answer_facts(result, mail.headers, env, policy, intent=result.intent)
    if result.intent in ("other", "status_query"):
        result.objection = objection_text(env.subject or "", mail.text)
    if as_city:
        result.intent, result.vouched = "submission", True
    if result.intent == "bounce":
        result.bounced_message_ids = _original_ids(raw, env.message_id)
    if result.intent == "acceptance_request":
        for doc in docs:
            doc.outcomes = outcome_kinds(doc)
    if result.intent != "submission":
        return
    promote_scanned_forms(docs)
    _unread_picture_as_form(docs)
    table = _table(docs)
    # the pictures of one form's pages are read once, as the first page (it holds them all)
    settled, unpaired = _forms([d for d in docs if d.part_of is None], table, mail.text)
    forms = [one.form for one in settled]
    with_pages(forms, docs)
    if table:
        settle_units(table, [f.application.unit for f in forms])
    channel, city, sender_city = _channel(policy, env, docs, table, forms)
    if as_city:
        channel, city, sender_city = "via_city", as_city, as_city
    result.channel, result.city = channel, city
    result.sender_city = sender_city
    result.has_table = any(d.role == "recommendation_table" for d in docs)
    result.late = policy.is_late(result.received_at, channel)
    _fill_from_table(forms, table)
    _fill_from_mail(forms, env, mail.text)
    settle_scope(forms)  # the notice's scope words: only when nothing names a direction
    result.applications = [f.application for f in forms]
    result.recommendations = table.recommendations if table else []
    facts = Facts(
        policy=policy,
        intent=result.intent,
        channel=result.channel,
        city=city,
        sender_city=sender_city,
        received_at=result.received_at,
        documents=docs,
        forms=forms,
        table=table,
        cloud=cloud,
        unpaired_scans=unpaired,
    )
    checked = run_checks(facts)
    result.deficiencies = _unguessed(checked.deficiencies, facts, settled)
    result.rules_raised = checked.raised
