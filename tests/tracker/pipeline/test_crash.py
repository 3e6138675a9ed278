"""Crash safety: SIGKILL at random points over many runs; SIGTERM stops cleanly."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from sqlmodel import Session, func, select
from support.helpers import REPO, make_mail, write_config

from intake.envelope import content_key
from tracker.store import db
from tracker.store.blobs import LocalBlobStore
from tracker.store.tables import StoredMessage


def _run_once(config, env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "run", "--once", "--config", str(config)],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing_and_doubles_nothing(tmp_path, db_url, dovecot):
    rng = random.Random(int(os.environ.get("JIEBANG_KILL_SEED", "20250120")))
    config = write_config(tmp_path, db_url=db_url, mailbox_url=dovecot.url,
                          mailbox={"max_messages_per_run": 4})
    env = {"JIEBANG_IMAP_PASSWORD": dovecot.password}
    engine = db.make_engine(db_url)

    raws: list[bytes] = []
    kills = 0
    for round_no in range(20):
        # new mail keeps arriving, so every run has fetching and processing to do when killed
        for i in range(3):
            raw = make_mail(subject=f"kill {round_no}.{i}", attachment_bytes=rng.randint(2_000, 400_000))
            raws.append(raw)
            dovecot.append(raw)
        proc = _run_once(config, env)
        try:
            proc.wait(timeout=rng.uniform(0.5, 1.6))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
    # then let runs finish until nothing is left to do
    for _ in range(30):
        proc = _run_once(config, env)
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err.decode()[-2000:]
        with Session(engine) as s:
            pending = s.exec(select(func.count(StoredMessage.id)).where(StoredMessage.state == "stored")).one()
            total = s.exec(select(func.count(StoredMessage.id))).one()
        if total == len(raws) and pending == 0:
            break

    assert kills >= 5, "the test must actually kill workers mid-run"
    with Session(engine) as s:
        rows = s.exec(select(StoredMessage)).all()
    assert len(rows) == len(raws)
    assert len({r.message_id for r in rows}) == len(raws)
    # IMAP stores CRLF line ends: compare by the line-end-neutral content key
    assert {r.content_key for r in rows} == {content_key(raw) for raw in raws}
    assert len({r.raw_sha256 for r in rows}) == len(raws)
    assert {r.state for r in rows} == {"processed"}, [
        (r.subject, r.state, r.attempts, r.deaths, r.error) for r in rows if r.state != "processed"]
    blobs = LocalBlobStore(tmp_path / "var" / "store")
    for row in rows:  # every stored blob is whole (atomic writes)
        assert hashlib.sha256(blobs.get(row.raw_sha256)).hexdigest() == row.raw_sha256


def test_sigterm_stops_the_service_cleanly(tmp_path, db_url):
    config = write_config(tmp_path, db_url=db_url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "run", "--config", str(config)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        os.set_blocking(proc.stderr.fileno(), False)
        seen, deadline = b"", time.monotonic() + 60
        while b"jiebang running" not in seen and time.monotonic() < deadline:
            seen += proc.stderr.read() or b""
            time.sleep(0.1)
        assert b"jiebang running" in seen
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
