"""The service with its blobs in an S3 store (a private SeaweedFS): an application mail is
recorded and answered with nothing but the bounded cache on local disk; the store down
for a while delays mail and never loses, doubles or answers it twice."""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path

import pytest
from sqlmodel import Session, select
from support.records import application_mail, make_app, outbox, submissions
from support.servers.seaweed import SeaweedFS

from durable import deliver_maildir
from tracker.app import App
from tracker.reports.documents import cached_pdf, remember_pdf
from tracker.service import Service
from tracker.store.tables import StoredMessage


def _s3_app(tmp_path: Path, db_url: str, seaweed: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> App:
    for key, value in seaweed.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("CACHE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.parent / f"{tmp_path.name}-cache"))
    bucket = seaweed.make_bucket("jiebang")
    app = make_app(tmp_path, db_url, processing={"workers": 1},
                   storage={"url": f"s3://{bucket}/{uuid.uuid4().hex[:10]}", "endpoint": seaweed.endpoint,
                            "cache_mb": 16})
    return app


def _inbox(tmp_path: Path, *raws: bytes) -> None:
    for raw in raws:
        deliver_maildir(tmp_path / "var" / "inbox", raw)


def _objects(seaweed: SeaweedFS, app: App) -> set[str]:
    bucket, _, prefix = (app.settings.storage.url or "").removeprefix("s3://").partition("/")
    listed = seaweed.client().list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
    return {o["Key"].rsplit("/", 1)[1] for o in listed.get("Contents", [])}


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_an_application_mail_is_recorded_with_its_blobs_in_the_bucket_and_only_a_cache_on_disk(
        tmp_path, db_url, seaweed, monkeypatch):
    app = _s3_app(tmp_path, db_url, seaweed, monkeypatch)
    _inbox(tmp_path, application_mail())
    report = Service(app).cycle()
    assert (report.poll.new, report.process.processed) == (1, 1)

    (sub,) = submissions(app)
    assert sub.reference == "JB2025-0001"
    assert len(outbox(app)) == 1  # the applicant's answer
    with Session(app.engine) as s:
        (msg,) = s.exec(select(StoredMessage)).all()
    assert msg.raw_sha256 in _objects(seaweed, app)
    # the deployment's folder holds no blob, not even the cache: that is the user's cache
    cache = app.settings.blob_cache_path
    assert cache.is_relative_to(tmp_path.parent / f"{tmp_path.name}-cache" / "jiebang")
    assert _files(app.settings.storage_path) == []
    assert msg.raw_sha256 in {p.name for p in _files(cache)}
    usage = app.blobs.usage  # what the operator's log line reports
    assert usage.puts >= 1 and usage.bytes_up >= msg.size  # the raw mail (its attachments are read from it)

    # a preview made for the workspace goes to the same store
    remember_pdf(app.engine, app.blobs, b"the docx", b"%PDF-1.7 preview")
    assert cached_pdf(app.engine, app.blobs, b"the docx") == b"%PDF-1.7 preview"
    assert len(_objects(seaweed, app)) == 2
    assert _files(app.settings.storage_path) == []


@pytest.mark.slow
def test_the_store_down_for_a_while_delays_mail_and_loses_doubles_or_answers_nothing_twice(
        tmp_path, db_url, seaweed, monkeypatch, caplog):
    app = _s3_app(tmp_path, db_url, seaweed, monkeypatch)
    service = Service(app)
    first = application_mail()
    second = application_mail(sender="b@other.example.cn", unit="山东海诺数据有限公司",
                              code17="91370100MA3AB1C2D", nature="其他")
    _inbox(tmp_path, first)
    service.cycle(understand=False)  # stored while the store is up, not yet read
    # as on a worker host of its own: no local copy of what the poller stored
    shutil.rmtree(app.settings.blob_cache_path)
    caplog.set_level(logging.WARNING)
    seaweed.stop()
    try:
        _inbox(tmp_path, second)
        down = service.cycle()
        # the stored mail waits, uncounted; the new one stays in the inbox for a later poll
        assert (down.poll.new, down.process.processed, down.process.quarantined) == (0, 0, 0)
        with Session(app.engine) as s:
            (waiting,) = s.exec(select(StoredMessage)).all()
        assert (waiting.state, waiting.attempts) == ("stored", 0)
        assert any("processing again in" in r.getMessage() for r in caplog.records)
        assert any("retrying in" in r.getMessage() for r in caplog.records)  # the poll backs off too
        assert outbox(app) == [] and submissions(app) == []
        assert service.cycle().process.processed == 0  # within the back-off: not even tried
    finally:
        seaweed.start()  # (takes longer than the back-off so far)

    for _ in range(5):  # the back-offs run out: both mails go through, once
        report = service.cycle()
        if len(submissions(app)) == 2:
            break
    with Session(app.engine) as s:
        rows = s.exec(select(StoredMessage)).all()
    assert sorted(r.state for r in rows) == ["processed", "processed"]
    assert [s.reference for s in submissions(app)] == ["JB2025-0001", "JB2025-0002"]
    assert len(outbox(app)) == 2
    assert service.send().sent == 2 and service.send().sent == 0
    assert {r.raw_sha256 for r in rows} <= _objects(seaweed, app)
    assert report.process.quarantined == 0
