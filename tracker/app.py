"""Wiring: settings → engine, blob store, mailbox, analyser. Shared by CLI and service."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, TypedDict

from sqlalchemy import URL, Engine
from sqlalchemy.engine import make_url

from campaign import Catalogue, using
from campaign.policy import RoundPolicy
from intake.model import Understanding
from intake.sources import Mailbox, open_mailbox, url_scheme
from intake.sources.imap import SCHEMES as IMAP_SCHEMES
from intake.sources.imap import parse_imap_url
from notifier.sender import SendReport, deliver_pending
from notifier.transports import Transport, open_transport
from tracker.config import Secrets, Settings
from tracker.outreach.replies import ReplySettings
from tracker.pipeline.apply import Applier
from tracker.pipeline.processing import InProcess
from tracker.pipeline.workers import WorkerLimits, WorkerPool
from tracker.store import db
from tracker.store.blobs import BlobStore, BlobStoreOptions, open_blob_store

if TYPE_CHECKING:
    from tracker.outreach.receipts import ArrivalReceipts


class _DeliverOptions(TypedDict, total=False):
    now: Callable[[], datetime]  # absent: deliver_pending's own clock


class App:
    def __init__(self, settings: Settings, *, secrets: Secrets | None = None) -> None:
        self.settings = settings
        self.secrets = secrets or Secrets()

    def round(self) -> AbstractContextManager[Catalogue]:
        """This app's round in force for one piece of work (a command, a request, a job):
        labels, wording, the clock's zone and extraction read it. Never set for the process,
        so two apps with two rounds can live side by side."""
        return using(self.policy.catalogue)

    @property
    def database_url(self) -> URL:
        """The URL to connect with: config's, plus the password from the environment.

        A URL object, so that printing or logging it shows ``***`` for the password.
        """
        url = make_url(self.settings.database_url)
        secret = self.secrets.database_secret()
        if secret and url.get_backend_name() != "sqlite":  # SQLite has no passwords
            url = url.set(password=secret)
        return url

    @cached_property
    def engine(self) -> Engine:
        url = self.database_url
        if url.password is None:  # as configured: SQLite paths are passed on untouched
            return db.make_engine(self.settings.database_url)
        # escaped by SQLAlchemy (an "@" or "/" in the password survives); make_engine takes text
        return db.make_engine(url.render_as_string(hide_password=False))

    @cached_property
    def blobs(self) -> BlobStore:
        """The configured store (``storage.url``; none: the folder ``storage.path``)."""
        st = self.settings.storage
        return open_blob_store(st.url, BlobStoreOptions(
            path=self.settings.storage_path, base_dir=self.settings.base_dir, endpoint=st.endpoint,
            region=st.region, cache_bytes=st.cache_mb * 1024 * 1024,
            cache_path=self.settings.blob_cache_path if st.url else None,
            # SPEC sections 4 and 8: the object store's keys come from the environment only
            env=self.secrets.s3_keys()))

    @cached_property
    def policy(self) -> RoundPolicy:
        return self.settings.round_policy()

    def migrate(self) -> None:
        db.upgrade(self.engine)

    def new_mailbox(self) -> Mailbox:
        m = self.settings.mailbox
        options: dict[str, object] = {"max_message_bytes": m.max_message_bytes}
        if url_scheme(m.url) != "maildir":
            if m.ca_file:
                options["ssl_context"] = ssl.create_default_context(cafile=str(self.settings.path(m.ca_file)))
            options.update(
                auth=m.auth, timeout=m.timeout_seconds, seconds_per_message=m.seconds_per_message,
                after_commit=m.after_commit, move_to=m.move_to, idle_seconds=m.idle_seconds,
            )
        secret = self.secrets.imap_token if m.auth == "xoauth2" else self.secrets.imap_secret
        return open_mailbox(m.url, base_dir=self.settings.base_dir, secret=secret, **options)

    @property
    def folders(self) -> list[str]:
        m = self.settings.mailbox
        if url_scheme(m.url) in IMAP_SCHEMES:
            in_url = parse_imap_url(m.url).folder
            if in_url and m.folders == ["INBOX"]:
                return [in_url]
        return list(m.folders)

    @cached_property
    def reply_settings(self) -> ReplySettings:
        return ReplySettings(
            sender=self.settings.smtp.from_,
            daily_cap=self.settings.notify.daily_cap,
            own_addresses=self.settings.own_addresses,
            new_address_hourly_cap=self.settings.notify.new_address_hourly_cap,
        )

    @cached_property
    def arrival_receipts(self) -> ArrivalReceipts:
        """The receipt-on-arrival job (``notify.receipt_after_seconds``)."""
        # imported on first use: it reads headers with intake's parser, which a service whose
        # workers understand the mail would otherwise not load at start-up
        from tracker.outreach.receipts import ArrivalReceipts

        return ArrivalReceipts(self.engine, self.blobs, self.policy, self.reply_settings,
                               timedelta(seconds=self.settings.notify.receipt_after_seconds))

    @cached_property
    def applier(self) -> Applier:
        return Applier(self.policy, self.reply_settings)

    def transport(self) -> Transport:
        return open_transport(
            self.settings.smtp.url, base_dir=self.settings.base_dir, password=self.secrets.smtp_secret,
            timeout=self.settings.smtp.timeout_seconds,
        )

    def deliver(self, *, now: Callable[[], datetime] | None = None) -> SendReport:
        """Send what the outbox holds (one pass)."""
        options: _DeliverOptions = {"now": now} if now else {}
        return deliver_pending(
            self.engine, self.transport(), sender=self.settings.smtp.from_, load=self.blobs.get,
            max_attempts=self.settings.notify.max_attempts, sender_name=self.settings.notify.sender_name,
            stale_after=timedelta(seconds=self.settings.notify.stale_sending_seconds), **options,
        )

    def understander(self, *, workers: int | None = None) -> WorkerPool | InProcess:
        """Worker processes under the configured limits (``processing.workers: 0``: this process).

        A pool must be closed (``with app.understander() as u:`` or ``.close()``).
        """
        p = self.settings.processing
        size = p.worker_count if workers is None else workers
        if size == 0:
            return InProcess(self.analyse)
        limits = WorkerLimits(memory_mb=p.worker_memory_mb, cpu_seconds=p.worker_cpu_seconds,
                              seconds=p.seconds_per_message, ocr_threads=p.ocr_threads)
        return WorkerPool(self.policy, size, limits)

    def analyse(self, raw: bytes, received_at: datetime | None, *, as_city: str | None = None) -> Understanding:
        return self._understand(raw, self.policy, received_at=received_at, as_city=as_city)

    @cached_property
    def _understand(self) -> Callable[..., Understanding]:
        # imported on first use: a service with workers never understands in this process
        # (they import it in the fork server), and numpy/OCR cost its start-up ~0.1 s
        from intake.documents import ocr
        from intake.understand import understand

        ocr.configure(threads=self.settings.processing.ocr_threads)
        return understand
