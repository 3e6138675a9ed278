"""Arrival decides: reference and version numbers follow when mail reached our server,
whatever order it was stored in or its workers finished in."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select
from support.records import T0, application_mail, make_app, submissions

from intake.model import Understanding
from tracker.pipeline.ingest import store_raw
from tracker.pipeline.order import ORDER_WAIT, Claimed, InOrder
from tracker.pipeline.processing import InProcess, process_pending
from tracker.pipeline.workers import Died, Outcome, Task, Understood
from tracker.store.tables import StoredMessage, SubmissionVersion


@dataclass
class LastFirst:
    """An understander whose workers finish in the reverse of the order they were given
    mail (the slow scan that arrived first): it reads every task, then answers the last
    one first."""

    inner: InProcess
    handed: list[int]

    def prepare(self) -> None: ...

    def start(self) -> None: ...

    def run(self, tasks: Iterable[Task | None], *, stop: Callable[[], bool] = lambda: False
            ) -> Iterator[tuple[Task, Outcome]]:
        taken = [t for t in tasks if t is not None]
        self.handed += [t.pk for t in taken]
        yield from reversed(list(self.inner.run(taken, stop=stop)))


def _store(app, *raws: bytes) -> list[int]:
    return [store_raw(app.engine, app.blobs, raw).message_pk for raw in raws]


def test_references_follow_arrival_when_workers_finish_in_reverse(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0})
    first = application_mail(sender="a@first.example.cn", unit="山东省甲数据研究院", code17="12370000MA3QH7K1X",
                             when=T0)
    second = application_mail(sender="b@second.example.cn", unit="山东省乙数据研究院", code17="12370000MA3QH7K2X",
                              when=T0 + timedelta(days=1))
    third = application_mail(sender="c@third.example.cn", unit="山东省丙数据研究院", code17="12370000MA3QH7K3X",
                             when=T0 + timedelta(days=2))
    # stored in another order than they arrived (a Maildir listing, an IMAP re-fetch)
    pks = _store(app, third, first, second)
    understander = LastFirst(InProcess(app.analyse), [])
    report = process_pending(app.engine, app.blobs, understander, apply=app.applier)
    assert report.processed == 3
    # handed out in order of arrival, not of storage
    assert understander.handed == [pks[1], pks[2], pks[0]]
    by_unit = {s.unit: s.reference for s in submissions(app)}
    assert by_unit == {"山东省甲数据研究院": "JB2025-0001", "山东省乙数据研究院": "JB2025-0002",
                       "山东省丙数据研究院": "JB2025-0003"}


def test_versions_follow_arrival(tmp_path, db_url) -> None:
    app = make_app(tmp_path, db_url, processing={"workers": 0})
    v1 = application_mail(when=T0)
    v2 = application_mail(when=T0 + timedelta(hours=5), subject="揭榜挂帅申报书（修改稿）")
    _store(app, v1, v2)
    process_pending(app.engine, app.blobs, LastFirst(InProcess(app.analyse), []), apply=app.applier)
    (sub,) = submissions(app)
    with Session(app.engine) as s:
        versions = s.exec(select(SubmissionVersion).where(SubmissionVersion.submission_id == sub.id)
                          .order_by(SubmissionVersion.number)).all()
        messages = {m.id: m.subject for m in s.exec(select(StoredMessage)).all()}
    assert [v.number for v in versions] == [1, 2]
    assert [messages[v.message_pk] for v in versions] == ["揭榜挂帅申报书", "揭榜挂帅申报书（修改稿）"]


def _claimed(pk: int, minutes: int) -> Claimed:
    return Claimed(Task(pk, Path("/nonexistent"), None), 1, (T0 + timedelta(minutes=minutes), pk))


def test_a_result_waits_only_for_earlier_mail_still_being_read() -> None:
    early, late, later = _claimed(1, 0), _claimed(2, 1), _claimed(3, 2)
    outstanding = {1: early, 2: late, 3: later}
    order = InOrder(outstanding)
    answer = Understood(Understanding(message_id=None, from_addr=None, subject="", received_at=None))
    del outstanding[3]
    assert order.add(later, answer) == []  # 1 and 2 arrived earlier and are still being read
    del outstanding[2]
    # a worker death records nothing: it never waits, and frees nothing behind the earlier one
    assert order.add(late, Died("killed")) == [(late, Died("killed"))]
    del outstanding[1]
    assert [c.task.pk for c, _ in order.add(early, answer)] == [1, 3]
    assert order.rest() == []


def test_a_mail_read_too_long_holds_nothing_back() -> None:
    # a hostile or very long scan uses its whole budget: the answers behind it go after ORDER_WAIT
    slow, quick = _claimed(1, 0), _claimed(2, 1)
    order = InOrder({1: slow})
    answer = Understood(Understanding(message_id=None, from_addr=None, subject="", received_at=None))
    assert order.add(quick, answer) == []
    slow.at -= ORDER_WAIT + 1
    assert [c.task.pk for c, _ in order.due()] == [2]
