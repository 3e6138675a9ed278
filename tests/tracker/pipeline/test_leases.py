"""A worker host killed mid-message: its claim is taken over after two minutes (it used to
be fifteen), because a live worker renews its claims while it reads; a live claim of
another host is never taken."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session
from support.helpers import make_mail
from support.records import make_app

from campaign.clock import as_utc, utcnow
from tracker.pipeline.ingest import store_raw
from tracker.pipeline.processing import InProcess, _Heartbeat, claimant, process_pending
from tracker.store.tables import StoredMessage


def _claimed(app, pk: int, by: str, ago: timedelta, attempts: int = 1) -> None:
    with app.engine.begin() as conn:
        conn.execute(update(StoredMessage).where(StoredMessage.id == pk)
                     .values(claimed_by=by, claimed_at=utcnow() - ago, attempts=attempts))


def _row(app, pk: int) -> StoredMessage:
    with Session(app.engine) as s:
        return s.get(StoredMessage, pk)


def test_the_claim_of_a_host_that_died_three_minutes_ago_is_taken_over_and_processed_once(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    pk = store_raw(app.engine, app.blobs, make_mail(subject="请问截止时间", body="请问申报截止时间？")).message_pk
    _claimed(app, pk, "worker-7.example:4242", timedelta(minutes=3))
    report = process_pending(app.engine, app.blobs, InProcess(app.analyse), apply=app.applier)
    assert report.processed == 1
    row = _row(app, pk)
    assert (row.state, row.claimed_by, row.attempts) == ("processed", claimant(), 2)


def test_a_live_claim_of_another_host_is_left_alone(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    pk = store_raw(app.engine, app.blobs, make_mail(subject="请问截止时间", body="请问申报截止时间？")).message_pk
    _claimed(app, pk, "worker-7.example:4242", timedelta(seconds=40))  # renewed 40 s ago
    report = process_pending(app.engine, app.blobs, InProcess(app.analyse), apply=app.applier)
    assert report.processed == 0
    row = _row(app, pk)
    assert (row.state, row.claimed_by, row.attempts) == ("stored", "worker-7.example:4242", 1)


def test_a_heartbeat_renews_this_process_s_claims_and_no_one_else_s(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    mine, theirs = (store_raw(app.engine, app.blobs, make_mail(subject=f"来信 {i}")).message_pk for i in range(2))
    _claimed(app, mine, claimant(), timedelta(seconds=90))
    _claimed(app, theirs, "worker-7.example:4242", timedelta(seconds=90))
    before = as_utc(_row(app, mine).claimed_at)
    assert _Heartbeat(app.engine, claimant()).beat() == 1
    assert as_utc(_row(app, mine).claimed_at) > before
    assert utcnow() - as_utc(_row(app, theirs).claimed_at) >= timedelta(seconds=90)
