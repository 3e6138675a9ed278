"""The staff digest as mail: built once a day and written to the outbox."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from campaign import RoundPolicy
from campaign.clock import local, utcnow
from notifier.models import OutboxMail
from notifier.outbox import Attachment, enqueue
from tracker.config import Settings
from tracker.reports.digest import XLSX_TYPE, build_bundle, digest_key
from tracker.store.blobs import BlobStore


def queue_digest(engine: Engine, blobs: BlobStore, policy: RoundPolicy, settings: Settings, *,
                 now: datetime | None = None, today: date | None = None) -> OutboxMail | None:
    """Write today's digest to the outbox for ``staff.digest_to``; None if already written today.

    Raises ValueError when no staff address is configured (nothing to send to).
    """
    if not settings.staff.digest_to:
        raise ValueError("staff.digest_to is empty: no one to send the digest to")
    now = now or local(utcnow(), policy.catalogue)
    day = today or now.astimezone(policy.tz).date()
    with Session(engine, expire_on_commit=False) as session:
        if session.exec(select(OutboxMail.id).where(OutboxMail.dedupe_key == digest_key(day))).first():
            return None  # before the work: the rendering is the expensive part
        bundle = build_bundle(session, policy, now=now, today=day)
        attachments = [Attachment("累计申报趋势.png", "image/png", blobs.put(bundle.chart_png), cid="chart"),
                       Attachment(bundle.workbook_name, XLSX_TYPE, blobs.put(bundle.workbook))]
        row = enqueue(session, kind="digest", to=list(settings.staff.digest_to), template="digest",
                      context=bundle.context("cid:chart"), dedupe_key=digest_key(day), attachments=attachments,
                      sender=settings.smtp.from_, own_addresses=settings.own_addresses, now=now,
                      cause="daily digest")
        session.commit()
        return row
