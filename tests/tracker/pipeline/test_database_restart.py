"""PostgreSQL restarted under load: two `jiebang run` processes (a poller and a worker) on
one private PostgreSQL that goes away for a few seconds mid-run and comes back. The
service waits and carries on — it never stops, quarantines, loses, doubles or answers a
message twice because of the outage — and mail delivered after the restart is polled
(the poller's lock is taken again) and answered. The server is this test's own:
restarting the session-wide one would break other tests.

Below it, quick tests of each piece the restart found wanting, with the database's
absence simulated at the exact moment that matters (on SQLite and PostgreSQL).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select
from support import REPO
from support.helpers import make_mail, write_config
from support.hosts import wait_for
from support.mail_contexts import CONTEXTS
from support.records import T0, application_mail
from support.servers.postgres import Postgres
from support.smtp import APPLICANT, SENDER

from intake.model import Understanding
from intake.sources.receiver import deliver_to_maildir
from notifier.models import OutboxMail
from notifier.outbox import enqueue
from notifier.sender import deliver_pending
from notifier.transports.maildir import MaildirTransport
from tracker.pipeline.ingest import store_raw
from tracker.pipeline.processing import InProcess, process_pending
from tracker.pipeline.workers import Outcome, Task, Understood
from tracker.service import DatabaseWait
from tracker.store import db
from tracker.store.blobs import LocalBlobStore
from tracker.store.tables import StoredMessage

QUESTIONS, APPLICATIONS = 45, 15  # before the restart (60 mails)
LATER_QUESTIONS, LATER_APPLICATIONS = 15, 5  # delivered once the server is back (20 mails)
DOWN_SECONDS = 8.0


@pytest.fixture
def pg() -> Iterator[Postgres]:
    server = Postgres()
    try:
        yield server.start()
    finally:
        server.stop()


def _mails(first: int, questions: int, applications: int) -> list[bytes]:
    """Status questions and applications of distinct units, interleaved (numbered from *first*)."""
    asks = [make_mail(subject=f"进度查询 {first + i}", sender=f"q{first + i}@example{first + i}.cn",
                      body="请问我单位的申报进度如何？") for i in range(questions)]
    forms = [application_mail(sender=f"a{first + i}@unit{first + i}.example.cn", unit=f"山东重启{first + i}号数据有限公司",
                              code17=f"91370102MA3R{first + i:04d}Y", nature="其他",
                              when=T0 + timedelta(minutes=first + i)) for i in range(applications)]
    mixed: list[bytes] = []
    every = max(1, questions // max(1, applications))
    for i, ask in enumerate(asks):
        mixed.append(ask)
        if i % every == every - 1 and forms:
            mixed.append(forms.pop(0))
    return mixed + forms


def _start(config: Path, role: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tracker.cli", "run", "-v", "--role", role, "--config", str(config)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=log.open("wb"), start_new_session=True)


def _scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar() or 0)


def _rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql)).all()]


@pytest.mark.slow
def test_postgresql_restarted_under_load_delays_mail_and_loses_doubles_or_stops_nothing(
        tmp_path: Path, pg: Postgres) -> None:
    url = pg.create_database("jiebang_restart")
    config = write_config(tmp_path, db_url=url,
                          schedule={"poll_seconds": 1, "process_seconds": 1, "outbox_seconds": 1},
                          processing={"workers": 1})
    inbox, outbox = tmp_path / "var" / "inbox", tmp_path / "var" / "outbox"
    engine = db.make_engine(url)
    db.upgrade(engine)  # (starting together is test_several_processes')
    logs = {"all": tmp_path / "all.log", "worker": tmp_path / "worker.log"}
    before = _mails(0, QUESTIONS, APPLICATIONS)
    after = _mails(1000, LATER_QUESTIONS, LATER_APPLICATIONS)
    total = len(before) + len(after)

    def tails() -> str:
        return "\n".join(f"--- {role} (exit {p.poll()}):\n{logs[role].read_text('utf-8', 'replace')[-4000:]}"
                         for role, p in procs.items())

    def processed() -> int:
        try:
            return _scalar(engine, "SELECT count(*) FROM message WHERE state = 'processed'")
        except Exception:  # (the server is down)
            return -1

    procs = {role: _start(config, role, log) for role, log in logs.items()}
    try:
        for raw in before:
            deliver_to_maildir(inbox, raw)
        assert wait_for(lambda: processed() >= 10, 90, every=0.3), tails()
        engine.dispose()
        halted = time.monotonic()
        pg.restart(DOWN_SECONDS)  # in the middle of the run: mail is being claimed, recorded and sent
        back = time.monotonic()
        at_restart = processed()
        assert at_restart < len(before), f"all {len(before)} mails processed before the restart: no load"
        for raw in after:
            deliver_to_maildir(inbox, raw)
        assert wait_for(lambda: processed() > at_restart, 60, every=0.3), f"nothing processed after the restart\n{tails()}"
        paused = time.monotonic() - back
        assert wait_for(lambda: processed() == total, 180, every=0.3), f"{processed()} of {total} processed\n{tails()}"
        resumed = time.monotonic() - back
        # every answer written is delivered (none left pending or stuck in `sending`)
        unsent = "SELECT id, kind, state, attempts, last_error FROM outbox WHERE state <> 'sent'"
        assert wait_for(lambda: _scalar(engine, f"SELECT count(*) FROM ({unsent}) u") == 0, 60, every=0.3), (
            f"{_rows(engine, unsent)}\n{tails()}")
        # never a stopped service
        assert [role for role, p in procs.items() if p.poll() is not None] == [], tails()
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs.values():
            p.wait(timeout=60)

    with engine.connect() as conn:
        states: dict[str, int] = dict(conn.execute(text("SELECT state, count(*) FROM message GROUP BY state")).all())
        errors = conn.execute(text("SELECT message_id, error FROM message WHERE error IS NOT NULL")).all()
        ids = conn.execute(text("SELECT count(DISTINCT message_id), count(*) FROM message")).one()
        subs = conn.execute(text("SELECT count(*), count(DISTINCT reference), count(DISTINCT lead_key)"
                                 " FROM submission")).one()
        doubled = conn.execute(text(
            "SELECT in_reply_to, kind, count(*) FROM outbox WHERE in_reply_to IS NOT NULL"
            " GROUP BY in_reply_to, kind HAVING count(*) > 1")).all()
        sent = _scalar(engine, "SELECT count(*) FROM outbox WHERE state = 'sent'")
    engine.dispose()
    log_text = tails()
    # every message processed exactly once, none quarantined or marked by the outage
    assert states == {"processed": total}, log_text
    assert tuple(ids) == (total, total)
    assert errors == [], log_text
    # no submission doubled: one per unit, each its own reference
    applications = APPLICATIONS + LATER_APPLICATIONS
    assert tuple(subs) == (applications, applications, applications), log_text
    # no answer written twice, and each one delivered once (one file per answer)
    assert doubled == [], log_text
    files = [f for f in (outbox / "new").iterdir() if f.is_file()]
    assert sent >= total and len(files) == sent, log_text
    # the poller took its lock again: mail delivered after the restart was polled and answered
    assert logs["all"].read_text().count("leading poll:") >= 2, log_text
    # both stopped cleanly when asked
    assert [p.returncode for p in procs.values()] == [0, 0], log_text
    # what the operator reads: the outage in a line, its end in another, no traceback
    for role, log in logs.items():
        said = log.read_text("utf-8", "replace")
        assert "Traceback" not in said, f"{role}:\n{said[-6000:]}"
        # (one; two if a query finished between the first failure and the shutdown's end)
        assert 1 <= said.count("WARNING jiebang.service: database unavailable") <= 2, f"{role}:\n{said[-6000:]}"
        assert "database back after" in said, f"{role}:\n{said[-6000:]}"
    print(f"\nPostgreSQL down {back - halted:.1f} s (asked {DOWN_SECONDS:.0f} s); {at_restart} of {len(before)} "
          f"processed when it went; processing again {paused:.1f} s after it came back, "
          f"all {total} processed {resumed:.1f} s after")


# --- the pieces, with the database's absence at the worst moment ------------------------------
GONE = "terminating connection due to administrator command"  # what a restart says to every session


def _gone(statement: str = "…") -> OperationalError:
    return OperationalError(statement, {}, Exception(GONE))


class _AwayFor:
    """The database goes away for the next statement containing *needle* (it fails as a
    restart makes it fail), and is back for the one after."""

    def __init__(self, engine: Engine, needle: str) -> None:
        self.needle, self.times = needle, 1
        event.listen(engine, "before_cursor_execute", self._check)

    def _check(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.times and self.needle in statement:
            self.times -= 1
            raise _gone(statement)


def _setup(db_url: str, tmp_path: Path) -> tuple[Engine, LocalBlobStore]:
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    return engine, LocalBlobStore(tmp_path / "store")


def _messages(engine: Engine) -> list[StoredMessage]:
    with Session(engine) as s:
        return list(s.exec(select(StoredMessage).order_by(col(StoredMessage.id))).all())


def _other(raw: bytes, at: datetime | None) -> Understanding:
    return Understanding(None, None, "", at, intent="other")


def test_an_answer_the_database_could_not_record_is_read_again_never_quarantined(db_url: str, tmp_path: Path) -> None:
    engine, blobs = _setup(db_url, tmp_path)
    for i in range(3):
        store_raw(engine, blobs, make_mail(subject=f"恰逢重启 {i}"))
    applied: list[int] = []

    def apply(session: Session, msg: StoredMessage, result: Understanding) -> None:
        if not applied:
            applied.append(0)
            raise _gone()  # the server restarts while the first answer is recorded
        applied.append(msg.id or 0)

    down = process_pending(engine, blobs, _other, apply=apply)
    # the run stops there: nothing quarantined, nothing more claimed
    assert (down.processed, down.quarantined, down.database_unavailable) == (0, 0, GONE)
    assert [(m.state, m.error) for m in _messages(engine)] == [("stored", None)] * 3
    assert [m.attempts for m in _messages(engine)] == [1, 0, 0]  # its claim is still the first run's

    up = process_pending(engine, blobs, _other, apply=apply)  # the database is back
    assert (up.processed, up.quarantined, up.database_unavailable) == (3, 0, None)
    rows = _messages(engine)
    assert applied[1:] == [m.id for m in rows]  # each once, in order
    # the interrupted claim was given back uncounted: each message tried once
    assert [(m.state, m.attempts, m.error) for m in rows] == [("processed", 1, None)] * 3


def test_the_database_away_when_a_run_starts_claims_nothing(db_url: str, tmp_path: Path) -> None:
    engine, blobs = _setup(db_url, tmp_path)
    store_raw(engine, blobs, make_mail(subject="还没开始"))
    _AwayFor(engine, "FROM message")  # the first read of the queue
    down = process_pending(engine, blobs, _other)
    assert (down.processed, down.database_unavailable) == (0, GONE)
    assert process_pending(engine, blobs, _other).processed == 1
    assert [(m.state, m.attempts) for m in _messages(engine)] == [("processed", 1)]


class _InterruptedOnce:
    """Worker processes kept between runs: the first run ends half-way (here a bug; it was
    the database) with a message in a worker, and the next run hears of it first."""

    def __init__(self) -> None:
        self.in_flight: Task | None = None

    def prepare(self) -> None: ...

    def start(self) -> None: ...

    def run(self, tasks: Iterable[Task | None], *, stop: Callable[[], bool] = lambda: False
            ) -> Iterator[tuple[Task, Outcome]]:
        queue = iter(tasks)
        if self.in_flight is None:
            self.in_flight = next(t for t in queue if t is not None)
            raise RuntimeError("the run ends half-way")
        yield self.in_flight, Understood(_other(b"", None))  # the earlier run's, late
        yield from InProcess(_other).run(queue, stop=stop)


def test_an_outcome_of_an_interrupted_run_is_not_taken_for_one_of_the_next(db_url: str, tmp_path: Path) -> None:
    # (it was: KeyError in every later run, each claiming one more message and counting it)
    engine, blobs = _setup(db_url, tmp_path)
    store_raw(engine, blobs, make_mail(subject="中断"))
    pool = _InterruptedOnce()
    with pytest.raises(RuntimeError):
        process_pending(engine, blobs, pool)
    report = process_pending(engine, blobs, pool)
    assert (report.processed, report.quarantined) == (1, 0)
    # the interrupted run's claim was given back (uncounted) before the message was claimed again
    assert [(m.state, m.attempts) for m in _messages(engine)] == [("processed", 1)]


def _answer(engine: Engine) -> int:
    with Session(engine) as s:
        row = enqueue(s, kind="ack", to=[APPLICANT], template="ack", context=CONTEXTS["ack"],
                      reference="JB2025-0007", in_reply_to="<CAF=abc123@mail.example.cn>", sender=SENDER)
        assert row is not None and row.id is not None
        s.commit()
        return row.id


def _outbox_row(engine: Engine, mail_id: int) -> tuple[str, int]:
    with Session(engine) as s:
        row = s.get(OutboxMail, mail_id)
        assert row is not None
        return row.state, row.attempts


def test_an_answer_sent_as_the_database_goes_away_is_recorded_later_not_sent_again(
        db_url: str, tmp_path: Path) -> None:
    engine, _ = _setup(db_url, tmp_path)
    mail_id = _answer(engine)
    transport, sent = MaildirTransport(tmp_path / "outbox"), tmp_path / "outbox" / "new"
    _AwayFor(engine, "sent_at=")  # recording that it went (UPDATE … SET … sent_at=…)
    with pytest.raises(OperationalError):
        deliver_pending(engine, transport, sender=SENDER, load=None)
    assert len(list(sent.iterdir())) == 1 and _outbox_row(engine, mail_id) == ("sending", 1)
    # the next pass writes what it knows first (a row left `sending` would go out again once stale)
    again = deliver_pending(engine, transport, sender=SENDER, load=None)
    assert again.sent == 0 and _outbox_row(engine, mail_id) == ("sent", 1)
    assert len(list(sent.iterdir())) == 1


def test_an_answer_claimed_as_the_database_goes_away_is_sent_at_the_next_pass(db_url: str, tmp_path: Path) -> None:
    engine, _ = _setup(db_url, tmp_path)
    mail_id = _answer(engine)
    transport, sent = MaildirTransport(tmp_path / "outbox"), tmp_path / "outbox" / "new"
    _AwayFor(engine, "outbox.kind")  # reading the row it has just claimed
    with pytest.raises(OperationalError):
        deliver_pending(engine, transport, sender=SENDER, load=None)
    assert not sent.exists() and _outbox_row(engine, mail_id) == ("sending", 1)
    # not left `sending` until it is stale (ten minutes): given back, uncounted, and sent
    assert deliver_pending(engine, transport, sender=SENDER, load=None).sent == 1
    assert _outbox_row(engine, mail_id) == ("sent", 1) and len(list(sent.iterdir())) == 1


def test_the_service_says_once_that_the_database_is_away_and_once_that_it_is_back(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "jiebang.service")
    wait = DatabaseWait()
    wait.failed("poll", "Connection refused")
    wait.failed("send", "Connection refused")  # another job, a moment later: same outage
    assert not wait.ready()
    wait.succeeded()
    wait.succeeded()
    assert wait.ready()
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2, said
    assert said[0].startswith("database unavailable (poll): Connection refused")
    assert said[1].startswith("database back after")


def test_only_what_says_the_database_is_away_counts_as_its_absence() -> None:
    assert db.unavailable(_gone()) == GONE
    try:
        try:
            raise _gone()
        except OperationalError as exc:
            raise ValueError("while recording") from exc
    except ValueError as wrapped:
        assert db.unavailable(wrapped) == GONE
    assert db.unavailable(IntegrityError("INSERT …", {}, Exception("duplicate key"))) is None
    try:
        try:
            raise _gone()
        except OperationalError:
            raise KeyError(7) from None  # a bug while handling it stays a bug
    except KeyError as bug:
        assert db.unavailable(bug) is None
