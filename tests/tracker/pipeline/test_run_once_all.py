"""`run --once` takes every stored mail: it used to stop at 1,000 whatever the backlog
(process_pending's default limit, which the service never set); and sends every answer it
queued: it used to stop after one pass of 100."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlmodel import Session, func, select
from support.helpers import REPO, make_mail
from support.records import make_app

from notifier.models import OutboxMail
from tracker.pipeline.ingest import store_raw
from tracker.service import Service
from tracker.store.tables import StoredMessage


@pytest.mark.slow
def test_one_run_once_processes_a_backlog_of_more_than_a_thousand_stored_mails(tmp_path, db_url):
    app = make_app(tmp_path, db_url, processing={"workers": 0}, mailbox={"max_messages_per_run": 50})
    backlog = 1_010
    for i in range(backlog):  # stored by `jiebang ingest` (an MTA pipe) or an earlier --fetch-only
        store_raw(app.engine, app.blobs, make_mail(subject=f"请问截止时间 {i}", sender=f"a{i}@example.cn",
                                                  body="请问申报截止时间？"))
    report = Service(app).cycle()
    assert report.process.processed + report.process.quarantined == backlog
    with Session(app.engine) as s:
        waiting = s.exec(select(func.count(StoredMessage.id)).where(StoredMessage.state == "stored")).one()
    assert waiting == 0


def test_two_run_once_workers_send_every_answer_they_queued_past_one_batch(tmp_path, db_url):
    """A send pass takes at most 100 rows; two processes share them, so a pass may send fewer
    than it found while rows remain: each `run --once` goes on until a pass finds nothing."""
    app = make_app(tmp_path, db_url, processing={"workers": 0})
    mails = 250  # more than two passes of 100: one pass each could not send them all
    for i in range(mails):
        store_raw(app.engine, app.blobs, make_mail(subject=f"申报进度查询 {i}", sender=f"b{i}@d{i}.example.cn",
                                                  body="请问我单位的申报进度如何？"))
    config = tmp_path / "config.yaml"
    runs = [subprocess.Popen([sys.executable, "-m", "tracker.cli", "run", "--once", "--role", "worker",
                              "--config", str(config)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)]
    assert [r.wait(600) for r in runs] == [0, 0], [r.stderr.read().decode()[-2000:] for r in runs if r.stderr]
    with Session(app.engine) as s:
        states = dict(s.exec(select(OutboxMail.state, func.count()).group_by(OutboxMail.state)).all())
    assert states == {"sent": mails}  # one answer each, all gone, none left pending
    assert len(list((tmp_path / "var" / "outbox" / "new").iterdir())) == mails
