"""The embedded default: Maildir inbox, local SMTP receiver, pipe mode."""

from __future__ import annotations

import json
import smtplib

from sqlmodel import Session, select
from support.helpers import jiebang, make_mail, write_config
from support.servers import free_port

from intake.envelope import read_envelope
from intake.sources.maildir import MaildirMailbox
from intake.sources.receiver import LocalReceiver, deliver_to_maildir
from tracker.pipeline.poller import poll_once
from tracker.store import db
from tracker.store.blobs import LocalBlobStore
from tracker.store.tables import StoredMessage


def _count(engine) -> int:
    with Session(engine) as s:
        return len(s.exec(select(StoredMessage.id)).all())


def test_maildir_poll_stores_flags_seen_and_is_idempotent(db_url, tmp_path):
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    blobs = LocalBlobStore(tmp_path / "store")
    inbox = tmp_path / "inbox"
    raws = [make_mail(subject=f"申报 {i}") for i in range(3)]
    for raw in raws:
        deliver_to_maildir(inbox, raw)
    box = MaildirMailbox(inbox, max_message_bytes=10_000_000)

    report = poll_once(engine, blobs, box, ["INBOX"], limit=100)
    assert (report.fetched, report.new) == (3, 3)
    assert not list((inbox / "new").iterdir())
    assert all(p.name.endswith(":2,S") for p in (inbox / "cur").iterdir())
    assert poll_once(engine, blobs, box, ["INBOX"], limit=100).fetched == 0

    # a crash after commit but before the Seen flag: the file is read again, not stored twice
    deliver_to_maildir(inbox, raws[0])
    again = poll_once(engine, blobs, box, ["INBOX"], limit=100)
    assert (again.fetched, again.new, again.duplicates) == (1, 0, 1)
    assert _count(engine) == 3


def test_maildir_poll_respects_the_per_run_limit_and_size_limit(db_url, tmp_path):
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    blobs = LocalBlobStore(tmp_path / "store")
    inbox = tmp_path / "inbox"
    for i in range(5):
        deliver_to_maildir(inbox, make_mail(subject=f"m{i}"))
    deliver_to_maildir(inbox, make_mail(subject="太大了", attachment_bytes=200_000))
    box = MaildirMailbox(inbox, max_message_bytes=100_000)
    assert poll_once(engine, blobs, box, ["INBOX"], limit=4).fetched == 4
    rest = poll_once(engine, blobs, box, ["INBOX"], limit=100)
    assert (rest.fetched, rest.not_fetched) == (2, 1)
    with Session(engine) as s:
        big = s.exec(select(StoredMessage).where(StoredMessage.subject == "太大了")).one()
    assert big.state == "quarantined" and "too large" in big.error


def test_local_receiver_accepts_smtp_and_stamps_arrival(tmp_path):
    inbox = tmp_path / "inbox"
    port = free_port()
    receiver = LocalReceiver(inbox, host="127.0.0.1", port=port)
    receiver.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.sendmail("applicant@example.cn", ["dsjjzcghc@shandong.cn"], make_mail())
    finally:
        receiver.stop()
    (delivered,) = list((inbox / "new").iterdir())
    raw = delivered.read_bytes()
    assert raw.startswith(b"Received: from ")
    env = read_envelope(raw)
    assert env.received_at is not None and env.received_at.year >= 2026  # our clock, not the sender's
    assert env.subject == "揭榜挂帅申报材料"


def test_pipe_mode_exit_codes(tmp_path, db_url):
    config = write_config(tmp_path, db_url=db_url)
    raw = make_mail()
    first = jiebang("ingest", "-", config=config, input=raw)
    assert first.returncode == 0, first.stderr
    again = jiebang("ingest", "-", config=config, input=raw)
    assert again.returncode == 0 and b"already stored" in again.stdout
    listed = json.loads(jiebang("messages", "--json", config=config).stdout)
    assert len(listed) == 1 and listed[0]["state"] == "processed"  # understood right after the commit


def test_pipe_mode_asks_the_mta_to_retry_when_it_cannot_commit(tmp_path):
    # the database lives under a path that cannot be created: nothing can be committed
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    config = write_config(tmp_path, db_url=f"sqlite:///{blocker}/sub/j.db")
    result = jiebang("ingest", "-", config=config, input=make_mail())
    assert result.returncode == 75
    assert "could not store" in result.stderr.decode()
