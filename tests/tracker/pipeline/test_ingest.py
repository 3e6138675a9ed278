"""Exactly-once storage: same bytes, re-deliveries and races never make a second record."""

from __future__ import annotations

import hashlib
import threading

from sqlmodel import Session, select
from support.helpers import make_mail

from intake.envelope import read_envelope
from intake.model import Understanding
from intake.sources import FetchedMessage
from tracker.pipeline.ingest import store_fetched, store_raw
from tracker.pipeline.processing import process_pending, requeue
from tracker.store import db
from tracker.store.blobs import LocalBlobStore
from tracker.store.tables import MessageLocation, StoredMessage


def _setup(db_url, tmp_path):
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    return engine, LocalBlobStore(tmp_path / "store")


def _rows(engine):
    with Session(engine) as s:
        return s.exec(select(StoredMessage).order_by(StoredMessage.id)).all()


def test_same_bytes_twice_is_one_record_and_one_blob(db_url, tmp_path):
    engine, blobs = _setup(db_url, tmp_path)
    raw = make_mail(attachment_bytes=2048)
    first = store_raw(engine, blobs, raw)
    second = store_raw(engine, blobs, raw)
    assert first.created and not second.created
    assert first.message_pk == second.message_pk
    (row,) = _rows(engine)
    assert row.raw_sha256 == hashlib.sha256(raw).hexdigest()
    assert blobs.get(row.raw_sha256) == raw
    assert len([p for p in (tmp_path / "store").rglob("*") if p.is_file()]) == 1
    assert row.subject == "揭榜挂帅申报材料"
    assert row.from_addr == "applicant@example.cn"


def test_redelivery_with_other_trace_headers_is_the_same_message(db_url, tmp_path):
    engine, blobs = _setup(db_url, tmp_path)
    raw = make_mail()
    hop1 = b"Received: from a by mx1; Fri, 10 Jan 2025 09:31:00 +0800\r\nDelivered-To: x@y\r\n" + raw
    hop2 = b"Received: from b by mx2; Fri, 10 Jan 2025 09:45:00 +0800\r\nX-Spam-Status: No\r\n" + raw
    assert store_raw(engine, blobs, hop1).created
    assert not store_raw(engine, blobs, hop2).created
    assert len(_rows(engine)) == 1


def test_distinct_messages_sharing_a_message_id_are_both_kept(db_url, tmp_path):
    # broken clients reuse Message-IDs: keying on it alone would lose mail
    engine, blobs = _setup(db_url, tmp_path)
    store_raw(engine, blobs, make_mail(message_id="<same@x>", body="第一封"))
    store_raw(engine, blobs, make_mail(message_id="<same@x>", body="第二封，内容不同"))
    assert [r.message_id for r in _rows(engine)] == ["<same@x>", "<same@x>"]


def test_same_message_in_two_folders_is_one_record_with_two_locations(db_url, tmp_path):
    engine, blobs = _setup(db_url, tmp_path)
    raw = make_mail()
    for folder, uid in (("INBOX", 7), ("申报", 3)):
        store_fetched(engine, blobs, FetchedMessage(source="imap://u@h:1", folder=folder, raw=raw,
                                                   size=len(raw), uidvalidity=11, uid=uid))
    assert len(_rows(engine)) == 1
    with Session(engine) as s:
        assert {(loc.folder, loc.uid) for loc in s.exec(select(MessageLocation))} == {("INBOX", 7), ("申报", 3)}


def test_concurrent_stores_of_one_message_make_one_record(db_url, tmp_path):
    engine, blobs = _setup(db_url, tmp_path)
    raw = make_mail(attachment_bytes=10_000)
    barrier = threading.Barrier(4)
    results = []

    def worker():
        barrier.wait()
        results.append(store_raw(engine, blobs, raw))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.created for r in results) == 1
    assert len(_rows(engine)) == 1


def test_oversize_message_is_recorded_as_quarantined_not_lost(db_url, tmp_path):
    engine, blobs = _setup(db_url, tmp_path)
    head = b"From: big@example.cn\r\nSubject: huge\r\nMessage-ID: <big@x>\r\n\r\n"
    fetched = FetchedMessage(source="imap://u@h:1", folder="INBOX", raw=None, size=90_000_000,
                             uidvalidity=1, uid=5, oversize=True, headers=head)
    assert store_fetched(engine, blobs, fetched).created
    assert not store_fetched(engine, blobs, fetched).created
    (row,) = _rows(engine)
    assert row.state == "quarantined" and "too large" in row.error
    assert (row.message_id, row.from_addr, row.size) == ("<big@x>", "big@example.cn", 90_000_000)


def test_a_message_whose_processing_raises_is_quarantined_and_the_next_goes_on(db_url, tmp_path):
    engine, blobs = _setup(db_url, tmp_path)
    store_raw(engine, blobs, make_mail(subject="坏的"))
    store_raw(engine, blobs, make_mail(subject="好的"))

    def analyse(raw: bytes, received_at):
        if read_envelope(raw).subject == "坏的":
            raise ValueError("cannot understand this one")
        return Understanding(message_id=None, from_addr=None, subject="", received_at=received_at,
                             intent="submission", reference="JB2025-0001")

    report = process_pending(engine, blobs, analyse)
    assert (report.processed, report.quarantined) == (1, 1)
    bad, good = _rows(engine)
    assert bad.state == "quarantined" and "cannot understand this one" in bad.error
    assert good.state == "processed" and good.references == ["JB2025-0001"]

    assert requeue(engine) == 1
    process_pending(engine, blobs, lambda raw, at: Understanding(None, None, "", at, intent="other"))
    assert [r.state for r in _rows(engine)] == ["processed", "processed"]


def test_two_workers_processing_the_same_queue_apply_each_message_once(db_url, tmp_path):
    engine, blobs = _setup(db_url, tmp_path)
    for i in range(6):
        store_raw(engine, blobs, make_mail(subject=f"并发 {i}"))
    applied: list[int] = []
    lock = threading.Lock()

    def apply(session, msg, result):
        with lock:
            applied.append(msg.id)

    def analyse(raw, at):
        return Understanding(None, None, "", at, intent="other")

    barrier = threading.Barrier(2)

    def worker():
        barrier.wait()
        process_pending(engine, blobs, analyse, apply=apply)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(applied) == sorted(set(applied)) and len(applied) == 6
    assert {r.state for r in _rows(engine)} == {"processed"}
    assert {r.attempts for r in _rows(engine)} == {1}


def test_mail_stored_while_the_queue_runs_is_processed_in_the_same_run(db_url, tmp_path):
    # run --once stores and understands at once: a run that finds the queue empty waits
    # for the poller's next batch instead of ending before the mail is there
    from tracker.pipeline.processing import Feed

    engine, blobs = _setup(db_url, tmp_path)
    feed = Feed()
    seen: list[str] = []

    def analyse(raw, at):
        seen.append(read_envelope(raw).subject)
        return Understanding(None, None, "", at, intent="other")

    def poller():
        for batch in range(3):
            for i in range(2):
                store_raw(engine, blobs, make_mail(subject=f"批 {batch}-{i}"))
            feed.stored()
        feed.close()

    thread = threading.Thread(target=poller)
    thread.start()
    report = process_pending(engine, blobs, analyse, feed=feed)
    thread.join()
    assert report.processed == 6
    assert sorted(seen) == sorted(f"批 {b}-{i}" for b in range(3) for i in range(2))
    assert {r.state for r in _rows(engine)} == {"processed"}


def test_a_stopped_run_counts_no_attempt_for_mail_it_did_not_try(db_url, tmp_path):
    # an attempt is counted when a message is handed out; mail a stopped run never read
    # must come back as fresh (after a few stops it would otherwise be given up on)
    engine, blobs = _setup(db_url, tmp_path)
    for i in range(5):
        store_raw(engine, blobs, make_mail(subject=f"停 {i}"))
    stop = threading.Event()

    def analyse(raw, at):
        stop.set()  # the operator stops the service while the first message is read
        return Understanding(None, None, "", at, intent="other")

    report = process_pending(engine, blobs, analyse, stop=stop)
    assert report.processed == 1
    rows = _rows(engine)
    assert [r.state for r in rows] == ["processed"] + ["stored"] * 4
    assert [(r.attempts, r.claimed_by) for r in rows[1:]] == [(0, None)] * 4
    # the next run takes them as fresh mail
    assert process_pending(engine, blobs, lambda raw, at: Understanding(None, None, "", at, intent="other")
                           ).processed == 4


def test_mail_claimed_by_busy_hosts_does_not_hide_free_mail_behind_it(db_url, tmp_path):
    # several hosts share one queue: thirty messages being read elsewhere right now sit
    # ahead of one nobody has; this process must still find and take that one
    from sqlalchemy import update

    from campaign.clock import utcnow

    engine, blobs = _setup(db_url, tmp_path)
    for i in range(31):
        store_raw(engine, blobs, make_mail(subject=f"队列 {i}"))
    busy = [r.id for r in _rows(engine)][:30]
    with Session(engine) as s:
        s.execute(update(StoredMessage).where(StoredMessage.id.in_(busy))
                  .values(attempts=1, claimed_by="other-host:4242", claimed_at=utcnow()))
        s.commit()
    report = process_pending(engine, blobs, lambda raw, at: Understanding(None, None, "", at, intent="other"))
    assert report.processed == 1
    states = {r.subject: r.state for r in _rows(engine)}
    assert states["队列 30"] == "processed"
    assert sum(1 for v in states.values() if v == "stored") == 30  # the other host finishes those
