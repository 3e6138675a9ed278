"""One polling pass over the configured folders: fetch → store+commit → acknowledge.

Messages are committed in small batches (one fsync pass and one transaction per
batch) and acknowledged on the server only after their batch is committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from intake.sources import FetchedMessage, Mailbox, MailboxUnavailable
from tracker.pipeline.ingest import checkpoint_for, store_batch
from tracker.store.blobs import BlobStore

log = logging.getLogger("jiebang.poll")

BATCH_MESSAGES = 25
BATCH_BYTES = 32 * 1024 * 1024


@dataclass
class PollReport:
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    not_fetched: int = 0  # oversize or timed out: recorded as quarantined
    bytes: int = 0


def poll_once(
    engine: Engine,
    blobs: BlobStore,
    mailbox: Mailbox,
    folders: list[str],
    *,
    limit: int,
    stop: threading.Event | None = None,
    on_batch: Callable[[], None] | None = None,
) -> PollReport:
    """Fetch at most ``limit`` new messages; each is committed before it is acknowledged.

    *on_batch* is called after each committed batch (processing in another thread takes
    the batch's messages while the next one is fetched).
    """
    report = PollReport()
    for folder in folders:
        state = mailbox.select(folder)
        after = checkpoint_for(engine, mailbox.name, folder, state.uidvalidity)
        batch: list[FetchedMessage] = []
        pending_bytes = 0
        try:
            for fetched in mailbox.fetch_new(folder, after_uid=after, limit=limit - report.fetched):
                batch.append(fetched)
                pending_bytes += fetched.size if fetched.raw is not None else 0
                if len(batch) >= BATCH_MESSAGES or pending_bytes >= BATCH_BYTES:
                    _commit_and_ack(engine, blobs, mailbox, batch, report)
                    batch, pending_bytes = [], 0
                    if on_batch is not None:
                        on_batch()
                if stop is not None and stop.is_set():
                    break
        finally:
            # what was fetched before a dropped connection is still committed
            if batch:
                _commit_and_ack(engine, blobs, mailbox, batch, report)
                if on_batch is not None:
                    on_batch()
        if report.fetched >= limit or (stop is not None and stop.is_set()):
            break
    return report


def _commit_and_ack(
    engine: Engine, blobs: BlobStore, mailbox: Mailbox, batch: list[FetchedMessage], report: PollReport
) -> None:
    results = store_batch(engine, blobs, batch)
    for fetched, result in zip(batch, results, strict=True):
        report.fetched += 1
        report.bytes += fetched.size
        report.not_fetched += fetched.raw is None
        if result.created:
            report.new += 1
        else:
            report.duplicates += 1
            log.info("%s/%s %s: already stored (message #%s)", mailbox.name, fetched.folder,
                     fetched.uid if fetched.uid is not None else fetched.key, result.message_pk)
    try:
        mailbox.acknowledge(batch)
    except MailboxUnavailable as exc:
        # committed already: a lost \\Seen flag is cosmetic; the checkpoint is in the database
        log.warning("could not flag committed messages: %s", exc)
