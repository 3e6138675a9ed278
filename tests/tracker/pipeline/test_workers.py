"""Worker processes: the OCR engine is loaded only for a scan, under the memory cap."""

from __future__ import annotations

import multiprocessing
import sys
import types
from email.message import EmailMessage
from pathlib import Path

import psutil
from sqlmodel import Session, select
from support.factory.pdfs import scanned_pdf
from support.helpers import make_mail
from support.records import T0, application_mail, make_app

from examples.generate import uscc
from tracker.pipeline.ingest import store_raw
from tracker.pipeline.processing import process_pending
from tracker.pipeline.workers import Task, Understood, WorkerPool, _AddressSpace
from tracker.store.tables import StoredMessage

MiB = 1024 * 1024
UNIT = "山东青云数据科技有限公司"


def _ocr_loaded(pid: int) -> bool:
    return "onnxruntime" in Path(f"/proc/{pid}/maps").read_text()


def _task(tmp_path: Path, pk: int, raw: bytes) -> Task:
    blob = tmp_path / f"{pk}.eml"
    blob.write_bytes(raw)
    return Task(pk, blob, T0)


def test_a_worker_loads_the_ocr_engine_on_its_first_scan_and_reads_it(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    scan = scanned_pdf([["揭榜挂帅项目申报书", f"揭榜单位（盖章）：{UNIT}"],
                        ["一、揭榜单位基本情况", f"单位名称：{UNIT}",
                         f"统一社会信用代码：{uscc('91370102MA3C4D5E6')}"]])
    word = _task(tmp_path, 1, application_mail())
    scanned = _task(tmp_path, 2, application_mail(attachments=[("申报书（盖章）.pdf", scan)]))
    with WorkerPool(app.policy, 1) as pool:
        (first,) = list(pool.run([word]))
        (worker,) = pool._workers
        assert isinstance(first[1], Understood) and first[1].result.applications
        # most mail has no scan: a worker that has read none holds no OCR engine (~100 MB)
        assert not _ocr_loaded(worker.process.pid)
        (second,) = list(pool.run([scanned]))
        assert pool.stats.died == 0, pool.stats.causes
        assert isinstance(second[1], Understood)
        assert [a.unit for a in second[1].result.applications] == [UNIT]
        assert _ocr_loaded(worker.process.pid)


def _probe(room: int, answers: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    space = _AddressSpace(room)
    space.cap()

    def fits(size: int) -> bool:
        try:
            block = bytearray(size)
        except MemoryError:
            return False
        del block
        return True

    answers.put(("capped, twice the room", fits(2 * room)))
    answers.put(("capped, half the room", fits(room // 2)))
    with space.widened():
        kept = bytearray(2 * room)  # something of ours, loaded and kept (the OCR engine)
    answers.put(("after loading, half the room", fits(room // 2)))
    answers.put(("after loading, twice the room", fits(2 * room)))
    del kept


def test_a_worker_s_memory_cap_refuses_what_a_document_would_add_beyond_its_room():
    ctx = multiprocessing.get_context("fork")
    answers = ctx.Queue()
    child = ctx.Process(target=_probe, args=(256 * MiB, answers))
    child.start()
    child.join(60)
    got = dict(answers.get(timeout=5) for _ in range(4))
    assert got == {
        "capped, twice the room": False,
        "capped, half the room": True,
        # the cap grew by what was loaded: the message still has its room, and no more
        "after loading, half the room": True,
        "after loading, twice the room": False,
    }


def test_a_worker_does_not_run_the_program_that_started_it_again(tmp_path, db_url, monkeypatch):
    """multiprocessing runs the parent's ``__main__`` file in each new process; for the
    ``jiebang`` console script that is the whole CLI (~0.7 s and ~50 MB a worker)."""
    app = make_app(tmp_path, db_url)
    ran = tmp_path / "main-ran"
    script = tmp_path / "jiebang"
    script.write_text(f"open({str(ran)!r}, 'a').write('ran')\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    with WorkerPool(app.policy, 1) as pool:
        ((_, outcome),) = list(pool.run([_task(tmp_path, 1, application_mail())]))
    assert isinstance(outcome, Understood) and outcome.result.applications
    assert not ran.exists()


def test_workers_yield_the_cpu_to_the_service_that_records_their_answers(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    with WorkerPool(app.policy, 1) as pool:
        list(pool.run([_task(tmp_path, 1, application_mail())]))
        (worker,) = pool._workers
        assert psutil.Process(worker.process.pid).nice() > psutil.Process().nice()


def test_mail_queued_for_a_worker_that_is_killed_goes_back_untried(tmp_path, db_url):
    """A warm worker gets its next message queued behind the one it reads. Killed over its
    budget, it never started the queued one: that goes back with no attempt counted."""
    app = make_app(tmp_path, db_url, processing={"workers": 1, "seconds_per_message": 1.5})
    scan = EmailMessage()
    scan["From"], scan["To"], scan["Subject"] = "scan@example.cn", "dsjjzcghc@shandong.cn", "扫描件"
    scan.set_content("申报书扫描件见附件")
    # no credit code on any page: OCR reads on through all six looking for it (> 1.5 s)
    pages = [[f"揭榜挂帅申报书 第{n}页", "揭榜单位：山东某某数据科技有限公司"] for n in range(1, 7)]
    scan.add_attachment(scanned_pdf(pages), maintype="application", subtype="pdf", filename="申报书.pdf")
    for raw in (make_mail(subject="先到的来信", body="请问申报截止时间？"), scan.as_bytes(),
                make_mail(subject="排在扫描件后的来信", body="请问需要盖章吗？")):
        store_raw(app.engine, app.blobs, raw)
    with app.understander() as pool:
        report = process_pending(app.engine, app.blobs, pool, apply=app.applier, max_attempts=2)
        assert pool.stats.died == 2
    assert (report.processed, report.quarantined) == (2, 1)
    with Session(app.engine) as s:
        rows = {m.subject: m for m in s.exec(select(StoredMessage)).all()}
    assert (rows["扫描件"].state, rows["扫描件"].deaths) == ("quarantined", 2)
    after = rows["排在扫描件后的来信"]
    assert (after.state, after.attempts, after.deaths) == ("processed", 1, 0)
