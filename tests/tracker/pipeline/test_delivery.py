"""The whole path with real servers: Dovecot in, SMTP out; outages, crashes, loops, reminders."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select
from support.helpers import REPO, jiebang, write_config
from support.records import CITY_CONFIG, T0, application_mail, deliver, make_app, outbox
from support.servers import free_port
from support.servers.smtp import SmtpServer

from notifier.models import OutboxMail
from tracker.app import App
from tracker.config import Secrets, load_settings
from tracker.service import Service


def _rows(app: App) -> list[OutboxMail]:
    with Session(app.engine) as s:
        return s.exec(select(OutboxMail).order_by(OutboxMail.id)).all()


def test_mail_appended_to_dovecot_is_acknowledged_through_smtp(tmp_path, db_url, dovecot):
    smtp = SmtpServer().start()
    try:
        config = write_config(tmp_path, db_url=db_url, mailbox_url=dovecot.url, cities=CITY_CONFIG,
                              smtp={"url": f"smtp://127.0.0.1:{smtp.port}"})
        app = App(load_settings(config), secrets=Secrets(imap_password=dovecot.password))
        dovecot.append(application_mail())
        service = Service(app)
        service.preflight()
        service.cycle()
        assert service.send().sent == 1
        (got,) = smtp.received
        msg = got.message
        assert got.rcpt_tos == ["wangxm@quanhe.example.cn"]
        assert msg["Subject"].startswith("[JB2025-0001]")
        assert msg["Auto-Submitted"] == "auto-replied"
        assert msg["In-Reply-To"].startswith("<t")
        assert "JB2025-0001" in msg.get_body(("plain",)).get_content()
    finally:
        smtp.stop()


def test_smtp_down_for_a_while_then_back_delivers_each_notice_once(tmp_path, db_url):
    port = free_port()
    app = make_app(tmp_path, db_url, smtp={"url": f"smtp://127.0.0.1:{port}"})
    deliver(app, application_mail(), application_mail(sender="b@other.example.cn", unit="山东海诺数据有限公司",
                                                      code17="91370100MA3AB1C2D", nature="其他"))
    clock = {"now": datetime.now(UTC)}
    now = lambda: clock["now"]  # noqa: E731
    for _ in range(3):  # nothing listens: every attempt fails and is retried later
        app.deliver(now=now)
        clock["now"] += timedelta(hours=2)
    rows = _rows(app)
    assert {r.state for r in rows} == {"pending"} and all(r.attempts == 3 for r in rows)
    assert all(r.last_error for r in rows)  # staff can see why

    smtp = SmtpServer(port=port).start()
    try:
        assert app.deliver(now=now).sent == 2
        clock["now"] += timedelta(hours=2)
        assert app.deliver(now=now).sent == 0
        ids = [r.message["Message-ID"] for r in smtp.received]
        assert sorted(ids) == sorted(r.message_id for r in _rows(app)) and len(set(ids)) == 2
    finally:
        smtp.stop()


class _Silent:
    """Accepts TCP and never greets: a client blocks between commit and send."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_server(("127.0.0.1", port))
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while True:
                conn, _ = self.sock.accept()
                self.held.append(conn)
        except OSError:
            return

    def close(self) -> None:
        try:  # wakes the thread blocked in accept(); close() alone would not
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()


def test_sigkill_between_commit_and_send_sends_once_after_restart(tmp_path, db_url):
    port = free_port()
    config = write_config(tmp_path, db_url=db_url, cities=CITY_CONFIG,
                          smtp={"url": f"smtp://127.0.0.1:{port}", "timeout_seconds": 60},
                          notify={"stale_sending_seconds": 1})
    app = App(load_settings(config))
    app.migrate()
    inbox = tmp_path / "var" / "inbox"
    from intake.sources.receiver import deliver_to_maildir

    deliver_to_maildir(inbox, application_mail())
    silent = _Silent(port)
    proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "run", "--once", "--config", str(config)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not [r for r in _rows(app) if r.state == "sending"]:
            time.sleep(0.1)
        assert [r.state for r in _rows(app)] == ["sending"]  # committed, claimed, not yet sent
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
        silent.close()

    smtp = SmtpServer(port=port).start()
    try:
        time.sleep(1.2)  # past stale_sending_seconds
        for _ in range(2):
            result = jiebang("run", "--once", config=config)
            assert result.returncode == 0, result.stderr
        (row,) = _rows(app)
        assert row.state == "sent"
        assert [r.message["Message-ID"] for r in smtp.received] == [row.message_id]
    finally:
        smtp.stop()


def test_two_auto_responders_do_not_loop(tmp_path, db_url):
    app = make_app(tmp_path, db_url)
    deliver(app, application_mail(sender="away@example.cn"))
    for round_no in range(5):  # their responder answers every mail we send it
        for row in [r for r in outbox(app) if r.to_addrs == ["away@example.cn"]]:
            compliant = application_mail(sender="away@example.cn", subject=f"自动回复: {row.subject}", attachments=[],
                                         headers={"Auto-Submitted": "auto-replied", "In-Reply-To": row.message_id},
                                         body="您好，我正在休假，返回后回复。", when=T0 + timedelta(minutes=round_no))
            naive = application_mail(sender="away@example.cn", subject=f"Out of Office: {row.subject}", attachments=[],
                                     headers={"In-Reply-To": row.message_id}, body="I am out of the office.",
                                     when=T0 + timedelta(minutes=round_no, seconds=30))
            deliver(app, compliant, naive)
    assert len([r for r in outbox(app) if r.to_addrs == ["away@example.cn"]]) == 1  # just the first ack


def test_reminders_once_per_recipient_per_day_across_restarts(tmp_path, db_url):
    app = make_app(tmp_path, db_url, cities={**CITY_CONFIG})
    deliver(app, application_mail(outcomes=()),  # incomplete: owes a fix
            application_mail(sender="ok@done.example.cn", unit="山东省数据完成研究院", code17="12370000MA3XY4W5A"))
    config = tmp_path / "config.yaml"
    for _ in range(2):  # two separate processes on the same frozen day
        assert jiebang("remind", "--today", "2025-01-13", config=config).returncode == 0
    reminders = [r for r in outbox(app) if r.kind == "reminder"]
    to = sorted(a for r in reminders for a in r.to_addrs)
    # the incomplete applicant once; both cities' bureaus whose package has not arrived
    assert to == sorted(["wangxm@quanhe.example.cn", "jinan-dsj@dsj.jinan.example", "weifang-dsj@dsj.weifang.example"])
    assert jiebang("remind", "--today", "2025-01-14", config=config).returncode == 0  # not a reminder day
    assert jiebang("remind", "--today", "2025-01-21", config=config).returncode == 0  # after the deadline
    assert len([r for r in outbox(app) if r.kind == "reminder"]) == 3
    assert jiebang("remind", "--today", "2025-01-17", config=config).returncode == 0  # 3 days before
    assert len([r for r in outbox(app) if r.kind == "reminder"]) == 6
    assert all("ok@done.example.cn" not in r.to_addrs for r in outbox(app) if r.kind == "reminder")
