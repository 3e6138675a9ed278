"""Several jiebang processes on one database: start together, one poller per mailbox,
another takes over when it dies, nothing lost or doubled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session, func, select
from support.helpers import REPO, jiebang, make_mail, write_config
from support.hosts import wait_for

from intake.sources.receiver import deliver_to_maildir
from notifier.models import OutboxMail
from tracker.store import db
from tracker.store.tables import StoredMessage


def test_processes_started_together_bring_the_schema_up_once(tmp_path: Path, db_url: str) -> None:
    config = write_config(tmp_path, db_url=db_url)
    procs = [subprocess.Popen([sys.executable, "-m", "tracker.cli", "db", "upgrade", "--config", str(config)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]  # type: ignore[union-attr]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    engine = db.make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tracker.cli", "run", "-v", "--config", str(config)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
                            start_new_session=True)


def test_one_poller_per_mailbox_and_another_takes_over_when_it_dies(tmp_path: Path, db_url: str) -> None:
    config = write_config(tmp_path, db_url=db_url, schedule={"poll_seconds": 1, "process_seconds": 1,
                                                             "outbox_seconds": 1},
                          processing={"workers": 1})
    inbox = tmp_path / "var" / "inbox"
    first = [make_mail(subject=f"第一批 {i}", sender=f"a{i}@example.cn", body="请问我单位的申报进度如何？") for i in range(4)]
    for raw in first:
        deliver_to_maildir(inbox, raw)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    engine = db.make_engine(db_url)
    db.upgrade(engine)  # (starting together is the test above)
    procs = [_start(config, logs[0]), _start(config, logs[1])]

    def processed() -> int:
        with Session(engine) as s:
            return s.exec(select(func.count(StoredMessage.id)).where(StoredMessage.state == "processed")).one()

    try:
        assert wait_for(lambda: processed() == 4, 90, every=0.3), [p.read_text()[-2000:] for p in logs]
        leaders = [i for i, p in enumerate(logs) if "leading poll:" in p.read_text()]
        assert len(leaders) == 1, [p.read_text()[-2000:] for p in logs]
        leader = leaders[0]
        os.killpg(procs[leader].pid, signal.SIGKILL)  # the poller and its workers, mid-flight
        procs[leader].wait()
        second = [make_mail(subject=f"第二批 {i}", sender=f"b{i}@example.cn", body="请问我单位的申报进度如何？") for i in range(3)]
        for raw in second:
            deliver_to_maildir(inbox, raw)
        other = 1 - leader
        assert wait_for(lambda: processed() == 7, 90, every=0.3), logs[other].read_text()[-3000:]
        assert "leading poll:" in logs[other].read_text()
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=30)
    rows = json.loads(jiebang("messages", "--json", config=config).stdout)
    assert sorted(r["subject"] for r in rows) == sorted(f"第一批 {i}" for i in range(4)) + sorted(
        f"第二批 {i}" for i in range(3))
    with Session(engine) as s:  # each question answered exactly once
        answers = s.exec(select(OutboxMail)).all()
    assert sorted(a.to_addrs[0] for a in answers) == sorted(
        [f"a{i}@example.cn" for i in range(4)] + [f"b{i}@example.cn" for i in range(3)])
