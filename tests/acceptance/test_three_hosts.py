"""#26's acceptance run: a poller and two workers in three folders of their own that share
only PostgreSQL and a SeaweedFS bucket, ~120 mails over IMAP, the store stopped for 20 s
mid-run. Every message processed exactly once, no doubled submission or answer, both
workers did work, every blob in the bucket, nothing in the workers' folders but their
configuration and logs. And a worker host killed while it reads a scan: its mail is
taken over by the other once its lease has run out, read once more, answered once."""

from __future__ import annotations

import os
import signal
import socket
from collections import Counter
from email import message_from_bytes
from email.policy import default as default_policy
from email.utils import make_msgid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from support.factory.pdfs import scanned_pdf
from support.helpers import REPO
from support.hosts import make_hosts, started, wait_for
from support.records import application_mail
from support.servers.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedFS
from support.servers.smtp import SmtpServer

from examples.generate import uscc

pytestmark = pytest.mark.slow

EXAMPLES = sorted((REPO / "examples" / "mails").glob("*.eml"))


def _with_id(raw: bytes, msgid: str) -> bytes:
    """*raw* with *msgid* as its only top-level Message-ID."""
    head, sep, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    lines = [line for line in head.splitlines(keepends=True) if not line.lower().startswith(b"message-id:")]
    newline = b"\r\n" if sep == b"\r\n\r\n" else b"\n"
    return b"Message-ID: " + msgid.encode() + newline + b"".join(lines) + sep + body


def corpus(total: int, scans: int = 4) -> list[tuple[str, bytes]]:
    """(kind, mail): the shipped example mails (a city package, a status question, an
    auto-reply …), scanned applications (OCR in the workers) and Word applications of
    distinct units, each with a Message-ID of its own."""
    mails: list[tuple[str, bytes]] = [("example", p.read_bytes()) for p in EXAMPLES] * 2
    n = 0
    while len(mails) < total:
        n += 1
        unit, code17 = f"山东第{n}号数据科技有限公司", f"913701{n:04d}MA3C4D5"[:17]
        sender = f"u{n}@host{n}.example.cn"
        if n <= scans:
            pages = [["揭榜挂帅项目申报书", f"揭榜单位（盖章）：{unit}"], ["填报说明"],
                     ["一、揭榜单位基本情况", f"单位名称：{unit}", f"统一社会信用代码：{uscc(code17)}"]]
            scan = scanned_pdf(pages)
            mails.append(("scan", application_mail(sender=sender, attachments=[("申报书（盖章扫描件）.pdf", scan)])))
        else:
            mails.append(("application", application_mail(sender=sender, unit=unit, code17=code17)))
    return [(kind, _with_id(raw, make_msgid(idstring=f"m{i}", domain="hosts.example.cn")))
            for i, (kind, raw) in enumerate(mails)]


def _rows(url: str, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


def test_a_poller_and_two_workers_sharing_only_postgresql_and_a_bucket(tmp_path: Path, pg_url: str,
                                                                        seaweed: SeaweedFS, dovecot) -> None:
    bucket = seaweed.make_bucket("jiebang-hosts")
    smtp = SmtpServer().start()
    # SPEC section 8: keys in the environment; the workers are not given the mailbox's
    env = {"JIEBANG_S3_ACCESS_KEY": ACCESS_KEY, "JIEBANG_S3_SECRET_KEY": SECRET_KEY}
    hosts = make_hosts(tmp_path, [("poller", "poller"), ("worker-a", "worker"), ("worker-b", "worker")], env,
                       db_url=pg_url, mailbox_url=dovecot.url, smtp_url=f"smtp://127.0.0.1:{smtp.port}",
                       bucket_url=f"s3://{bucket}/round", endpoint=seaweed.endpoint)
    poller, *workers = hosts
    poller.env["JIEBANG_IMAP_PASSWORD"] = dovecot.password
    kinds = corpus(120)
    mails = [raw for _, raw in kinds]

    def processed() -> int:
        return _rows(pg_url, "select count(*) from message where state <> 'stored'")[0][0]

    def logs() -> str:
        return "\n".join(f"--- {h.name} ---\n{h.log_text()[-3000:]}" for h in hosts)

    try:
        for host in hosts:
            host.start()
        assert started(hosts), logs()
        for raw in mails:
            dovecot.append(raw)
        # the store goes away while the run is in progress …
        assert wait_for(lambda: processed() >= len(mails) // 4, 300, while_running=hosts), logs()
        seaweed.stop()
        down_at = processed()
        wait_for(lambda: False, 20, while_running=hosts)
        seaweed.start()
        # … and every mail is still understood, recorded and answered
        assert wait_for(lambda: processed() == len(mails), 400, every=1, while_running=hosts), logs()
        assert wait_for(lambda: _rows(pg_url, "select count(*) from outbox where state = 'pending'")[0][0] == 0,
                        120, while_running=hosts), logs()
        assert all(h.running for h in hosts), logs()  # never a stopped service
    finally:
        codes = {h.name: h.stop() for h in hosts}
        smtp.stop()
    assert down_at < len(mails), "the store was stopped after the run had ended"
    assert codes == {h.name: 0 for h in hosts}, logs()

    # every message processed exactly once
    rows = _rows(pg_url, "select message_id, state, claimed_by, error from message")
    assert Counter(m for m, *_ in rows) == Counter({message_from_bytes(raw)["Message-ID"]: 1 for raw in mails})
    assert {state for _, state, _, _ in rows} == {"processed"}, [r for r in rows if r[1] != "processed"]
    # by the workers, both of them, never the poller
    pids = Counter(int(by.rpartition(":")[2]) for _, _, by, _ in rows if by)
    assert set(pids) == {w.pid for w in workers}, (pids, [w.pid for w in workers], poller.pid)
    # the outage was felt and waited out (not quarantined, not counted against the mail)
    assert "blob store" in "".join(h.log_text() for h in hosts)
    for worker in workers:  # never touched the mailbox (they are not given its password)
        assert "jiebang running (worker)" in worker.log_text()
        assert "JIEBANG_IMAP_PASSWORD" not in worker.log_text(), worker.log_text()[-2000:]

    # no doubled submission or answer
    assert _rows(pg_url, "select lead_key, direction, count(*) from submission group by lead_key, direction"
                           " having count(*) > 1") == []
    assert _rows(pg_url, "select count(*) from submission")[0][0] >= 100
    assert _rows(pg_url, "select in_reply_to, kind, count(*) from outbox where in_reply_to is not null"
                           " group by in_reply_to, kind having count(*) > 1") == []
    sent = [message_from_bytes(r.content, policy=default_policy) for r in smtp.received]
    assert len(sent) == _rows(pg_url, "select count(*) from outbox where state = 'sent'")[0][0]
    assert Counter(str(m["Message-ID"]) for m in sent).most_common(1)[0][1] == 1  # nothing mailed twice
    answered = {str(m["In-Reply-To"]) for m in sent}
    applications = {message_from_bytes(raw)["Message-ID"] for kind, raw in kinds if kind in ("application", "scan")}
    assert applications <= answered, applications - answered  # each applicant answered

    # the 今日 page's OCR queue: the scans were noted as PDFs when stored and as scans once read
    scans = {message_from_bytes(raw)["Message-ID"] for kind, raw in kinds if kind == "scan"}
    noted = {m: (hint, scanned) for m, hint, scanned in _rows(
        pg_url, "select message_id, hint, scanned from message join message_ocr on message_pk = message.id")}
    assert {noted.get(m) for m in scans} == {("pdf", True)}
    assert not any(scanned for m, (_, scanned) in noted.items() if m not in scans)

    # every blob in the bucket; nothing in the workers' folders but configuration and log
    listed = seaweed.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="round/")
    keys = {o["Key"].rsplit("/", 1)[1] for page in listed for o in page.get("Contents", [])}
    digests = {d for (d,) in _rows(pg_url, "select raw_sha256 from message")}
    assert digests <= keys, digests - keys
    for host in hosts:
        assert host.written() == [], (host.name, host.written())


def test_a_worker_host_killed_mid_message_has_its_mail_taken_over_once_the_lease_runs_out(
        tmp_path: Path, pg_url: str, seaweed: SeaweedFS, dovecot) -> None:
    bucket = seaweed.make_bucket("jiebang-killed")
    smtp = SmtpServer().start()
    env = {"JIEBANG_S3_ACCESS_KEY": ACCESS_KEY, "JIEBANG_S3_SECRET_KEY": SECRET_KEY}
    hosts = make_hosts(tmp_path, [("poller", "poller"), ("worker-a", "worker"), ("worker-b", "worker")], env,
                       db_url=pg_url, mailbox_url=dovecot.url, smtp_url=f"smtp://127.0.0.1:{smtp.port}",
                       bucket_url=f"s3://{bucket}/round", endpoint=seaweed.endpoint,
                       processing={"lease_seconds": 20})
    poller, worker_a, worker_b = hosts
    poller.env["JIEBANG_IMAP_PASSWORD"] = dovecot.password
    worker_b.env["JIEBANG_HOST_NAME"] = "worker-b.example"  # another machine, as far as claims go
    mails = [raw for kind, raw in corpus(len(EXAMPLES) * 2 + 6, scans=6) if kind == "scan"]

    def rows() -> list[tuple]:  # type: ignore[type-arg]
        return _rows(pg_url, "select id, state, claimed_by, attempts from message order by id")

    def logs() -> str:
        return "\n".join(f"--- {h.name} ---\n{h.log_text()[-3000:]}" for h in hosts)

    try:
        poller.start()
        worker_b.start()
        assert started([poller, worker_b]), logs()
        for raw in mails:
            dovecot.append(raw)
        # worker-b is reading a scan: its machine dies (every process of it, at once)
        assert wait_for(lambda: any((by or "").startswith("worker-b.example:") for _, state, by, _ in rows()
                                    if state == "stored"), 120, every=0.2, while_running=[poller, worker_b]), logs()
        os.killpg(worker_b.pid, signal.SIGKILL)
        held = {pk for pk, state, by, _ in rows() if state == "stored" and (by or "").startswith("worker-b.example:")}
        assert held
        worker_a.start()
        assert started([worker_a]), logs()
        # a claim of another host is not taken while it may be alive …
        wait_for(lambda: False, 5)
        assert {pk for pk, state, by, _ in rows() if pk in held and state == "stored"
                and (by or "").startswith("worker-b.example:")} == held, rows()
        # … and once its lease has run out, worker-a reads that mail, once
        assert wait_for(lambda: all(state == "processed" for _, state, _, _ in rows()) and len(rows()) == len(mails),
                        240, every=1, while_running=[poller, worker_a]), logs()
        assert wait_for(lambda: _rows(pg_url, "select count(*) from outbox where state = 'pending'")[0][0] == 0,
                        120, while_running=[poller, worker_a]), logs()
    finally:
        for host in hosts:
            host.stop()
        smtp.stop()
    finished = {pk: (by, attempts) for pk, _, by, attempts in rows()}
    for pk in held:
        by, attempts = finished[pk]
        assert by == f"{socket.gethostname()}:{worker_a.pid}" and attempts == 2, (pk, by, attempts)
    assert _rows(pg_url, "select in_reply_to, kind, count(*) from outbox where in_reply_to is not null"
                           " group by in_reply_to, kind having count(*) > 1") == []
    answered = {str(message_from_bytes(r.content, policy=default_policy)["In-Reply-To"]) for r in smtp.received}
    assert {message_from_bytes(raw)["Message-ID"] for raw in mails} <= answered
