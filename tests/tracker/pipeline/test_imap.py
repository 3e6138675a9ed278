"""IMAP intake against a real Dovecot on 127.0.0.1."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import Session, func, select
from support.helpers import jiebang, make_mail, write_config

from intake.sources.imap import ImapMailbox
from tracker.app import App
from tracker.config import Secrets, load_settings
from tracker.service import Service
from tracker.store.tables import MailboxCheckpoint, StoredMessage


def _app(tmp_path, db_url, dovecot, folder="INBOX", **sections) -> App:
    url = dovecot.url.rsplit("/", 1)[0] + "/" + folder
    config = write_config(tmp_path, db_url=db_url, mailbox_url=url, **sections)
    app = App(load_settings(config), secrets=Secrets(imap_password=dovecot.password))
    app.migrate()
    return app


def _stored(app: App) -> list[StoredMessage]:
    with Session(app.engine) as s:
        return s.exec(select(StoredMessage).order_by(StoredMessage.id)).all()


def test_poll_commits_flags_seen_and_keeps_a_checkpoint_across_restarts(tmp_path, db_url, dovecot):
    for i in range(3):
        dovecot.append(make_mail(subject=f"申报 {i}"))
    app = _app(tmp_path, db_url, dovecot)
    report = Service(app).cycle()
    assert (report.poll.fetched, report.poll.new) == (3, 3)
    flags = dovecot.flags("INBOX")
    assert len(flags) == 3  # never deleted
    assert all(b"\\Seen" in f for f in flags.values())

    # a new process (new Service, new connection) continues after the checkpoint
    dovecot.append(make_mail(subject="申报 3"))
    report = Service(_app(tmp_path, db_url, dovecot)).cycle()
    assert (report.poll.fetched, report.poll.new) == (1, 1)
    assert [m.subject for m in _stored(app)] == ["申报 0", "申报 1", "申报 2", "申报 3"]
    assert all(m.received_at is not None and m.uid for m in _stored(app))


def test_uidvalidity_change_rescans_without_duplicates(tmp_path, db_url, dovecot):
    dovecot.create_folder("申报材料")
    raws = [make_mail(subject=f"m{i}") for i in range(2)]
    for raw in raws:
        dovecot.append(raw, folder="申报材料")
    app = _app(tmp_path, db_url, dovecot, folder="申报材料")
    Service(app).cycle()
    before = dovecot.uidvalidity("申报材料")

    dovecot.recreate_folder("申报材料")  # an admin deleted and re-created the folder
    assert dovecot.uidvalidity("申报材料") != before
    for raw in raws:
        dovecot.append(raw, folder="申报材料")
    dovecot.append(make_mail(subject="m-new"), folder="申报材料")
    report = Service(app).cycle()
    assert (report.poll.fetched, report.poll.new, report.poll.duplicates) == (3, 1, 2)
    assert [m.subject for m in _stored(app)] == ["m0", "m1", "m-new"]
    with Session(app.engine) as s:
        cp = s.exec(select(MailboxCheckpoint)).one()
    assert cp.uidvalidity == dovecot.uidvalidity("申报材料")


def test_connection_dropped_mid_fetch_loses_and_doubles_nothing(tmp_path, db_url, dovecot, monkeypatch):
    for i in range(6):
        dovecot.append(make_mail(subject=f"drop {i}", attachment_bytes=50_000))
    app = _app(tmp_path, db_url, dovecot)
    service = Service(app)
    real_fetch = ImapMailbox._fetch_one
    calls = {"n": 0}

    def fetch_then_drop(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            dovecot.kill_imap_processes()  # the server side of our connection dies mid-run
        return real_fetch(self, *args, **kwargs)

    monkeypatch.setattr(ImapMailbox, "_fetch_one", fetch_then_drop)
    service.cycle()
    assert [m.subject for m in _stored(app)] == ["drop 0", "drop 1"]  # fetched before the drop: kept
    service._backoff.succeeded()  # skip the back-off wait in the test
    service.cycle()
    assert sorted(m.subject for m in _stored(app)) == [f"drop {i}" for i in range(6)]
    assert all(b"\\Seen" in f for f in dovecot.flags("INBOX").values())


def test_dovecot_restart_between_cycles_reconnects(tmp_path, db_url, dovecot):
    app = _app(tmp_path, db_url, dovecot)
    service = Service(app)
    dovecot.append(make_mail(subject="before"))
    assert service.cycle().poll.new == 1
    dovecot.restart()
    dovecot.append(make_mail(subject="after"))
    # the kept connection died with the server: retried at once on a fresh one
    assert service.cycle().poll.new == 1
    assert [m.subject for m in _stored(app)] == ["before", "after"]


def test_idle_wakes_the_service_within_seconds(tmp_path, db_url, dovecot):
    app = _app(tmp_path, db_url, dovecot, schedule={"poll_seconds": 3600})
    service = Service(app)
    service.preflight()
    runner = threading.Thread(target=service.run_forever, kwargs={"handle_signals": False}, daemon=True)
    runner.start()
    try:
        time.sleep(1.5)  # let the first poll and the IDLE watcher settle
        dovecot.append(make_mail(subject="idle wake-up"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not _stored(app):
            time.sleep(0.2)
        assert [m.subject for m in _stored(app)] == ["idle wake-up"]
    finally:
        service.stop.set()
        runner.join(timeout=30)
    assert not runner.is_alive()


def test_after_commit_move_files_messages_into_a_chinese_folder(tmp_path, db_url, dovecot):
    dovecot.append(make_mail(subject="to move"))
    app = _app(tmp_path, db_url, dovecot, mailbox={"after_commit": "move", "move_to": "已处理"})
    service = Service(app)
    service.preflight()  # creates the folder
    assert service.cycle().poll.new == 1
    assert dovecot.count("INBOX") == 0
    assert dovecot.count("已处理") == 1


def test_oversize_message_is_recorded_and_the_folder_moves_on(tmp_path, db_url, dovecot):
    dovecot.append(make_mail(subject="巨大附件", attachment_bytes=300_000))
    dovecot.append(make_mail(subject="normal"))
    app = _app(tmp_path, db_url, dovecot, mailbox={"max_message_bytes": 100_000})
    Service(app).cycle()
    big, normal = _stored(app)
    assert big.state == "quarantined" and "too large" in big.error and big.subject == "巨大附件"
    assert normal.subject == "normal"


@pytest.mark.parametrize(
    ("case", "expected"),
    [("password", "login failed"), ("folder", "folder missing"), ("host", "unavailable")],
)
def test_start_up_errors_are_one_clear_line(tmp_path, db_url, dovecot, case, expected):
    url = dovecot.url
    env = {"JIEBANG_IMAP_PASSWORD": dovecot.password}
    if case == "password":
        env["JIEBANG_IMAP_PASSWORD"] = "wrong"
    elif case == "folder":
        url = url.rsplit("/", 1)[0] + "/NoSuchFolder"
    else:
        url = url.replace(f":{dovecot.port}/", ":1/")
    config = write_config(tmp_path, db_url=db_url, mailbox_url=url)
    result = jiebang("run", "--once", config=config, env=env)
    err = result.stderr.decode().strip().splitlines()
    assert result.returncode == 3, result.stderr.decode()
    assert expected in err[-1] and "Traceback" not in result.stderr.decode()


def test_the_same_message_delivered_twice_is_stored_once(tmp_path, db_url, dovecot):
    raws = [make_mail(subject=f"n{i}") for i in range(5)]
    for raw in raws:
        dovecot.append(raw)
        dovecot.append(raw)  # a re-delivery: same bytes, new UID
    app = _app(tmp_path, db_url, dovecot)
    for _ in range(3):
        Service(app).cycle()
    with Session(app.engine) as s:
        assert s.exec(select(func.count(StoredMessage.id))).one() == 5
        assert s.exec(select(func.count(func.distinct(StoredMessage.message_id)))).one() == 5


@pytest.mark.parametrize("scheme", ["imaps", "imap+starttls"])
def test_tls_connections_verify_the_server_certificate(tmp_path, db_url, dovecot_tls, scheme):
    port = dovecot_tls.tls_port if scheme == "imaps" else dovecot_tls.port
    url = f"{scheme}://{dovecot_tls.user}@127.0.0.1:{port}/INBOX"
    dovecot_tls.append(make_mail(subject="over TLS"))
    trusted = write_config(tmp_path / "ok", db_url=db_url, mailbox_url=url,
                           mailbox={"ca_file": str(dovecot_tls.ca_cert)})
    app = App(load_settings(trusted), secrets=Secrets(imap_password=dovecot_tls.password))
    app.migrate()
    assert Service(app).cycle().poll.new == 1

    # without trusting the private CA the connection is refused, never downgraded
    untrusted = write_config(tmp_path / "bad", db_url=db_url, mailbox_url=url)
    result = jiebang("run", "--once", config=untrusted, env={"JIEBANG_IMAP_PASSWORD": dovecot_tls.password})
    assert result.returncode == 3
    assert "certificate" in result.stderr.decode().lower()


def test_xoauth2_login_and_client_id_are_sent(tmp_path, db_url, dovecot):
    dovecot.append(make_mail(subject="oauth"))
    config = write_config(tmp_path, db_url=db_url, mailbox_url=dovecot.url, mailbox={"auth": "xoauth2"})
    result = jiebang("run", "--once", config=config, env={"JIEBANG_IMAP_OAUTH2_TOKEN": dovecot.password})
    assert result.returncode == 0, result.stderr.decode()
    assert b"fetched 1 (1 new" in result.stdout
    # Coremail/NetEase refuse SELECT without an ID command after login
    assert 'name="jiebang"' in dovecot.log_text() or "name=jiebang" in dovecot.log_text()
