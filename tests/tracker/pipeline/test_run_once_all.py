"""`run --once` takes every stored mail: it used to stop at 1,000 whatever the backlog
(process_pending's default limit, which the service never set)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select
from support.helpers import make_mail
from support.records import make_app

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
