"""What the operator's monitoring reads: ``/metrics`` (Prometheus text) and ``/healthz``.

Every figure is counted from the database when scraped (a few grouped COUNTs over indexed
state columns), so any process of any host reports the same numbers and nothing is kept
in memory between scrapes. Served by the workspace only with ``web.metrics: true``
(docs/operations.md): neither needs a session, so they are for the operator's network,
never the public one.

The OCR backlog is an estimate (tracker.reports.today.ocr_queue: pictures certain, PDFs by
today's share of scans), exported as such.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from campaign.clock import as_utc, utcnow
from notifier.models import OutboxMail, OutboxState
from tracker.reports.today import ocr_queue
from tracker.store.blobs import BlobStore
from tracker.store.tables import MessageState, StoredMessage

_M = StoredMessage.__table__.c  # type: ignore[attr-defined]
_O = OutboxMail.__table__.c  # type: ignore[attr-defined]


class QueueCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.engine.connect() as conn:
            by_state: dict[str, int] = dict(conn.execute(select(_M.state, func.count()).group_by(_M.state)).all())
            claims = conn.execute(
                select(_M.claimed_by, func.count()).where(_M.state == MessageState.stored,
                                                          _M.claimed_by.is_not(None)).group_by(_M.claimed_by)
            ).all()
            oldest = conn.execute(select(func.min(func.coalesce(_M.received_at, _M.stored_at)))
                                  .where(_M.state == MessageState.stored)).scalar()
            outbox: dict[str, int] = dict(conn.execute(select(_O.state, func.count()).group_by(_O.state)).all())
        messages = GaugeMetricFamily("jiebang_messages", "Stored messages by state", labels=["state"])
        for state in MessageState:
            messages.add_metric([state.value], by_state.get(state.value, 0))
        yield messages
        busy = sum(n for _, n in claims)
        yield GaugeMetricFamily("jiebang_queue_depth", "Messages stored and not yet taken by a worker",
                                value=by_state.get(MessageState.stored.value, 0) - busy)
        hosts: dict[str, list[int]] = {}
        for claimant, n in claims:
            hosts.setdefault(str(claimant).rsplit(":", 1)[0], []).append(n)
        in_progress = GaugeMetricFamily("jiebang_messages_in_progress", "Messages a worker holds, by host",
                                        labels=["host"])
        workers = GaugeMetricFamily("jiebang_busy_processes", "Processes holding a message, by host",
                                    labels=["host"])
        for host, counts in sorted(hosts.items()):
            in_progress.add_metric([host], sum(counts))
            workers.add_metric([host], len(counts))
        yield in_progress
        yield workers
        age = (utcnow() - as_utc(oldest)).total_seconds() if isinstance(oldest, datetime) else 0.0
        yield GaugeMetricFamily("jiebang_oldest_waiting_seconds", "Age of the oldest message not yet understood",
                                value=max(age, 0.0))
        mails = GaugeMetricFamily("jiebang_outbox", "Outgoing mail by state", labels=["state"])
        for mail_state in OutboxState:
            mails.add_metric([mail_state.value], outbox.get(mail_state.value, 0))
        yield mails
        yield GaugeMetricFamily("jiebang_held_replies", "Answers held over the first-contact budget (staff release them)",
                                value=outbox.get(OutboxState.held.value, 0))
        with Session(self.engine) as session:  # the share of scans learnt over the last day
            ocr = ocr_queue(session, utcnow() - timedelta(days=1))
        yield GaugeMetricFamily("jiebang_ocr_backlog_estimate",
                                "Waiting messages OCR will likely read (pictures, and PDFs by the day's share of scans)",
                                value=ocr.estimate)


def exposition(engine: Engine) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(engine))
    return generate_latest(registry)


def health(engine: Engine, blobs: BlobStore) -> tuple[bool, dict[str, str]]:
    """(healthy, what each dependency said): the database answers, the blob store answers."""
    checks: dict[str, str] = {}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure is the answer, not an error of ours
        checks["database"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    try:
        blobs.ping()
        checks["blobs"] = "ok"
    except Exception as exc:
        checks["blobs"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return all(v == "ok" for v in checks.values()), checks


# --- the two pages (mounted by tracker/web/workspace.py when web.metrics is on) ------------


def metrics_page(request: Request, _: object) -> Response:
    return Response(exposition(request.app.state.jb.engine), media_type=CONTENT_TYPE_LATEST)


def health_page(request: Request, _: object) -> Response:
    app = request.app.state.jb
    ok, checks = health(app.engine, app.blobs)
    return Response(json.dumps({"status": "ok" if ok else "unavailable", **checks}),
                    status_code=200 if ok else 503, media_type="application/json")
