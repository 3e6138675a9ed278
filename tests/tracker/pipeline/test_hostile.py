"""One poison or bomb mail never stops, starves or exhausts the service.

Poison headers ahead of good mail, a message that kills its worker every time, a rule
that trips, and pipe mode's exit codes — each through the real pipeline.
"""

from __future__ import annotations

import json
import logging
import threading
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import Session, select
from support.factory.pdfs import scanned_pdf
from support.helpers import jiebang, make_mail, write_config

import intake.checks
from intake.sources.receiver import deliver_to_maildir
from notifier.models import OutboxMail
from tracker.app import App
from tracker.config import load_settings
from tracker.pipeline.ingest import store_raw
from tracker.pipeline.processing import InProcess, process_pending
from tracker.store.tables import StoredMessage

POISON_HEADERS = {
    "date-offset": b"Date: Fri, 10 Jan 2025 09:30:00 +9999\r\n",
    "date-year": b"Date: Fri, 10 Jan 99999999999 09:30:00 +0800\r\n",
    "from-parens": b"From: " + b"(" * 600 + b"x@example.cn\r\n",
    "from-groups": b"From: " + b"a:" * 5000 + b"x@example.cn\r\n",
}


def _poison(header: bytes) -> bytes:
    """A plain mail whose From or Date is replaced by a hostile one."""
    raw = make_mail(subject="毒头", sender="poison@example.cn")
    name = header.split(b":", 1)[0]
    lines = [line for line in raw.split(b"\n") if not line.startswith(name + b":")]
    return header + b"\n".join(lines)


def _states(app: App) -> dict[str, str]:
    with Session(app.engine) as s:
        return {m.subject: m.state for m in s.exec(select(StoredMessage)).all()}


@pytest.fixture
def maildir_config(tmp_path: Path, db_url: str) -> Path:
    return write_config(tmp_path, db_url=db_url, processing={"workers": 1})


def test_poison_headers_ahead_of_good_mail_stop_nothing(maildir_config: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "var" / "inbox"
    for header in POISON_HEADERS.values():
        deliver_to_maildir(inbox, _poison(header))
    deliver_to_maildir(inbox, make_mail(subject="好的来信", sender="good@example.cn", body="请问申报进度如何？"))
    proc = jiebang("run", "--once", config=maildir_config)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    rows = json.loads(jiebang("messages", "--json", config=maildir_config).stdout)
    assert len(rows) == len(POISON_HEADERS) + 1
    assert {r["state"] for r in rows} <= {"processed", "quarantined"}  # every one stored, none pending
    good = [r for r in rows if r["subject"] == "好的来信"]
    assert good and good[0]["state"] == "processed"


def test_a_message_that_kills_its_worker_is_quarantined_and_the_queue_moves_on(
        tmp_path: Path, db_url: str) -> None:
    # a scan needs seconds of OCR: with a 1-second budget its worker is killed every time
    config = write_config(tmp_path, db_url=db_url,
                          processing={"workers": 1, "seconds_per_message": 1.5, "max_attempts": 2})
    app = App(load_settings(config))
    app.migrate()
    scan = EmailMessage()
    scan["From"], scan["To"], scan["Subject"] = "scan@example.cn", "dsjjzcghc@shandong.cn", "扫描件"
    scan.set_content("申报书扫描件见附件")
    # no credit code on any page: OCR reads on through all six looking for it
    pages = [[f"揭榜挂帅申报书 第{n}页", "揭榜单位：山东某某数据科技有限公司"] for n in range(1, 7)]
    scan.add_attachment(scanned_pdf(pages), maintype="application", subtype="pdf", filename="申报书.pdf")
    store_raw(app.engine, app.blobs, scan.as_bytes())
    store_raw(app.engine, app.blobs, make_mail(subject="后面的来信", body="请问申报截止时间？"))
    with app.understander() as pool:
        report = process_pending(app.engine, app.blobs, pool, apply=app.applier, max_attempts=2)
    assert (report.processed, report.quarantined) == (1, 1)
    with Session(app.engine) as s:
        bad = s.exec(select(StoredMessage).where(StoredMessage.subject == "扫描件")).one()
    assert bad.state == "quarantined" and bad.deaths == 2 and "worker deaths" in (bad.error or "")
    assert _states(app)["后面的来信"] == "processed"
    # staff can put it back (after raising the budget): a fresh count
    proc = jiebang("requeue", config=config)
    assert proc.returncode == 0 and "1 message" in proc.stdout.decode()


def test_a_rule_that_raises_holds_the_mail_for_staff_without_an_acknowledgement(
        tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    config = write_config(tmp_path, db_url=db_url, processing={"workers": 0})
    app = App(load_settings(config))
    app.migrate()
    from support.formfactory import FormSpec, make_docx, make_eml, make_uscc

    spec = FormSpec(unit="山东省泉城数据研究院", uscc=make_uscc("370000", "12"), nature="省属事业单位")
    store_raw(app.engine, app.blobs, make_eml(sender="apply@quancheng.example.cn",
                                              attachments=[("申报书.docx", make_docx(spec))]))

    def trips(facts: intake.checks.Facts) -> list[intake.checks.Finding]:
        raise KeyError("a field nobody expected")

    broken = [intake.checks.Rule(r.code, trips) if r.code.code == "TASK_TYPE_MISSING" else r
              for r in intake.checks.RULES]
    monkeypatch.setattr(intake.checks, "RULES", broken)
    with caplog.at_level(logging.ERROR, logger="jiebang.intake.checks"):
        report = process_pending(app.engine, app.blobs, InProcess(app.analyse), apply=app.applier)
    assert report.quarantined == 1
    with Session(app.engine) as s:
        msg = s.exec(select(StoredMessage)).one()
        assert msg.state == "quarantined" and "TASK_TYPE_MISSING" in (msg.error or "")
        assert s.exec(select(OutboxMail)).all() == []  # no "complete" acknowledgement went out
    assert any("TASK_TYPE_MISSING" in r.getMessage() and r.exc_info for r in caplog.records)


def test_ingest_exits_0_once_stored_even_for_unparseable_bytes(maildir_config: Path) -> None:
    garbage = b"\xff\xfe\x00" + bytes(range(256)) * 50 + b"\r\n\r\n(((("
    proc = jiebang("ingest", "-", config=maildir_config, input=garbage)
    assert proc.returncode == 0, proc.stderr.decode()
    rows = json.loads(jiebang("messages", "--json", config=maildir_config).stdout)
    assert len(rows) == 1 and rows[0]["state"] in ("processed", "quarantined")
    for header in POISON_HEADERS.values():
        assert jiebang("ingest", "-", config=maildir_config, input=_poison(header)).returncode == 0


def test_ingest_exits_75_only_when_storage_is_unavailable(tmp_path: Path, db_url: str) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("the store path is a file: nothing can be written under it")
    config = write_config(tmp_path, db_url=db_url, storage={"path": str(blocker / "store")})
    proc = jiebang("ingest", "-", config=config, input=make_mail())
    assert proc.returncode == 75, proc.stderr.decode()


def test_mail_is_claimed_only_when_a_ready_worker_takes_it(tmp_path: Path, db_url: str) -> None:
    # a claim counts an attempt: a service stopped (or killed) while its workers still
    # warm up must leave the mail untouched, or a few restarts would give good mail up
    config = write_config(tmp_path, db_url=db_url, processing={"workers": 1})
    app = App(load_settings(config))
    app.migrate()
    store_raw(app.engine, app.blobs, make_mail(subject="等待的来信", body="请问申报截止时间？"))
    stop = threading.Event()
    stop.set()  # the stop arrives before the worker is ready
    with app.understander() as pool:
        report = process_pending(app.engine, app.blobs, pool, apply=app.applier, stop=stop)
    assert report.processed == 0
    with Session(app.engine) as s:
        row = s.exec(select(StoredMessage)).one()
    assert (row.state, row.attempts, row.claimed_by) == ("stored", 0, None)


def test_an_empty_queue_starts_no_worker(tmp_path: Path, db_url: str) -> None:
    config = write_config(tmp_path, db_url=db_url, processing={"workers": 1})
    app = App(load_settings(config))
    app.migrate()
    with app.understander() as pool:
        process_pending(app.engine, app.blobs, pool, apply=app.applier)
        assert pool.stats.started == 0
