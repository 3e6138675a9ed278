"""One polling pass over the configured folders: fetch → store+commit → acknowledge."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import Engine

from intake.sources import Mailbox, MailboxUnavailable
from tracker.blobstore import BlobStore
from tracker.ingest import checkpoint_for, store_fetched

log = logging.getLogger("jiebang.poll")


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
) -> PollReport:
    """Fetch at most ``limit`` new messages; each is committed before it is acknowledged."""
    report = PollReport()
    for folder in folders:
        state = mailbox.select(folder)
        after = checkpoint_for(engine, mailbox.name, folder, state.uidvalidity)
        for fetched in mailbox.fetch_new(folder, after_uid=after, limit=limit - report.fetched):
            result = store_fetched(engine, blobs, fetched)
            report.fetched += 1
            report.bytes += fetched.size
            if fetched.raw is None:
                report.not_fetched += 1
            if result.created:
                report.new += 1
            else:
                report.duplicates += 1
                log.info("%s/%s uid=%s: already stored (message #%s)", mailbox.name, folder,
                         fetched.uid if fetched.uid is not None else fetched.key, result.message_pk)
            try:
                mailbox.acknowledge(fetched)
            except MailboxUnavailable as exc:
                # committed already: a lost \Seen flag is cosmetic; stop this pass
                log.warning("could not flag a committed message: %s", exc)
                return report
            if stop is not None and stop.is_set():
                return report
        if report.fetched >= limit:
            break
    return report
