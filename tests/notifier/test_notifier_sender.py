"""Delivery end to end against a real loopback SMTP server, with an injected clock."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session
from support.mail_contexts import CONTEXTS
from support.smtp import APPLICANT, SENDER, Clock, SmtpServer

from campaign.clock import as_utc
from notifier.models import OutboxMail
from notifier.outbox import Attachment, enqueue
from notifier.sender import backoff, deliver_pending
from notifier.transports.base import TransientSendError
from notifier.transports.smtp import SmtpTransport

PDF = b"%PDF-1.7 sealed"
BLOBS = {hashlib.sha256(PDF).hexdigest(): PDF}
PARENT = "<CAF=abc123@mail.example.cn>"


def write_ack(engine: Engine, clock: Clock, *, to: str = APPLICANT, attach: bool = False) -> int:
    files = [Attachment("申报书（盖章）.pdf", "application/pdf", hashlib.sha256(PDF).hexdigest())] if attach else []
    with Session(engine) as s:
        row = enqueue(s, kind="ack", to=[to], template="ack", context=CONTEXTS["ack"],
                      reference="JB2025-0007", in_reply_to=PARENT, references=["<first@x.cn>"],
                      attachments=files, sender=SENDER, now=clock())
        s.commit()
        return row.id


def get(engine: Engine, mail_id: int) -> OutboxMail:
    with Session(engine) as s:
        return s.get(OutboxMail, mail_id)


def deliver(engine: Engine, transport: object, clock: Clock, **kw: object):  # noqa: ANN201
    return deliver_pending(engine, transport, sender=SENDER, load=BLOBS.__getitem__, now=clock, **kw)


def smtp(port: int) -> SmtpTransport:
    return SmtpTransport("127.0.0.1", port, timeout=5)


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_end_to_end(engine: Engine, clock: Clock, smtp_server: SmtpServer) -> None:
    mail_id = write_ack(engine, clock, attach=True)
    report = deliver(engine, smtp(smtp_server.port), clock)
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [got] = smtp_server.received
    row = get(engine, mail_id)
    assert row.state == "sent" and row.attempts == 1 and as_utc(row.sent_at) == clock()
    assert got.mail_from == SENDER and got.rcpt_tos == [APPLICANT]
    msg = got.message
    assert msg["Message-ID"] == row.message_id and msg["Message-ID"].startswith("<jb2025-0007.")
    assert msg["In-Reply-To"] == PARENT
    assert msg["References"].split() == ["<first@x.cn>", PARENT]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Subject"].startswith("[JB2025-0007] ")
    assert msg["Date"].endswith("+0800")
    assert "JB2025-0007" in msg.get_body(("plain",)).get_content()
    assert "<strong>JB2025-0007</strong>" in msg.get_body(("html",)).get_content()
    assert [p.get_filename() for p in msg.iter_attachments()] == ["申报书（盖章）.pdf"]
    again = deliver(engine, smtp(smtp_server.port), clock)
    assert again.sent == 0 and len(smtp_server.received) == 1


def test_server_down_then_up(engine: Engine, clock: Clock, smtp_server: SmtpServer) -> None:
    mail_id = write_ack(engine, clock)
    port = smtp_server.port
    smtp_server.stop()  # nothing listens on the port now
    start = clock()
    waited = timedelta()
    for n, delay in enumerate([1, 2, 4], start=1):
        report = deliver(engine, smtp(port), clock)
        assert report.retried == 1
        row = get(engine, mail_id)
        assert row.state == "pending" and row.attempts == n and row.last_error
        waited += timedelta(minutes=delay)
        assert as_utc(row.next_attempt_at) == start + waited
        assert deliver(engine, smtp(port), clock).retried == 0  # not due yet
        clock.advance(minutes=delay)
    server = SmtpServer(port=port).start()
    try:
        assert deliver(engine, smtp(port), clock).sent == 1
        assert deliver(engine, smtp(port), clock).sent == 0
        assert len(server.received) == 1
        row = get(engine, mail_id)
        assert row.state == "sent" and row.attempts == 4 and row.last_error is None
    finally:
        server.stop()


def test_451_then_accepted(engine: Engine, clock: Clock, smtp_server: SmtpServer) -> None:
    mail_id = write_ack(engine, clock)
    smtp_server.handler.data_replies = ["451 4.3.0 Try again later"] * 2
    assert deliver(engine, smtp(smtp_server.port), clock).retried == 1
    clock.advance(minutes=1)
    assert deliver(engine, smtp(smtp_server.port), clock).retried == 1
    clock.advance(minutes=2)
    assert deliver(engine, smtp(smtp_server.port), clock).sent == 1
    assert len(smtp_server.received) == 1 and get(engine, mail_id).attempts == 3


def test_550_fails_at_once(engine: Engine, clock: Clock, smtp_server: SmtpServer) -> None:
    mail_id = write_ack(engine, clock)
    smtp_server.handler.rcpt_reply = "550 5.1.1 No such user"
    assert deliver(engine, smtp(smtp_server.port), clock).failed == 1
    row = get(engine, mail_id)
    assert row.state == "failed" and row.attempts == 1 and "550" in row.last_error
    clock.advance(hours=2)
    assert deliver(engine, smtp(smtp_server.port), clock).failed == 0


class Flaky:
    def __init__(self) -> None:
        self.calls = 0

    def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        self.calls += 1
        raise TransientSendError("421 4.7.0 busy")


def test_gives_up_after_max_attempts(engine: Engine, clock: Clock) -> None:
    mail_id = write_ack(engine, clock)
    flaky = Flaky()
    for _ in range(2):
        assert deliver(engine, flaky, clock, max_attempts=3).retried == 1
        clock.advance(hours=1)
    assert deliver(engine, flaky, clock, max_attempts=3).failed == 1
    row = get(engine, mail_id)
    assert (row.state, row.attempts, flaky.calls) == ("failed", 3, 3)
    assert "busy" in row.last_error


def test_missing_attachment_blob_fails(engine: Engine, clock: Clock, smtp_server: SmtpServer) -> None:
    mail_id = write_ack(engine, clock, attach=True)
    report = deliver_pending(engine, smtp(smtp_server.port), sender=SENDER, load={}.__getitem__, now=clock)
    assert report.failed == 1 and get(engine, mail_id).state == "failed"
    assert smtp_server.received == []


class Crash(BaseException):
    """Stands for the process dying right after the server accepted the mail."""


class SendThenCrash:
    def __init__(self, inner: SmtpTransport) -> None:
        self.inner = inner

    def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        self.inner.send(message, envelope_from=envelope_from, recipients=recipients)
        raise Crash


def test_stuck_sending_is_resent_with_the_same_message_id(
    engine: Engine, clock: Clock, smtp_server: SmtpServer
) -> None:
    mail_id = write_ack(engine, clock)
    with pytest.raises(Crash):
        deliver(engine, SendThenCrash(smtp(smtp_server.port)), clock)
    assert get(engine, mail_id).state == "sending"
    clock.advance(minutes=2)
    report = deliver(engine, smtp(smtp_server.port), clock)
    assert report.recovered == 0 and report.sent == 0  # might still be in flight elsewhere
    clock.advance(minutes=10)
    report = deliver(engine, smtp(smtp_server.port), clock)
    assert report.recovered == 1 and report.sent == 1
    first, second = smtp_server.received
    assert first.message["Message-ID"] == second.message["Message-ID"] == get(engine, mail_id).message_id
    assert get(engine, mail_id).state == "sent"


class SlowRecorder:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        time.sleep(0.01)
        with self.lock:
            self.sent.append(message["Message-ID"])


def test_two_workers_send_each_row_once(engine: Engine, clock: Clock) -> None:
    ids = [write_ack(engine, clock, to=f"applicant{i}@example.cn") for i in range(12)]
    transport = SlowRecorder()
    barrier = threading.Barrier(2)
    reports = []

    def worker() -> None:
        barrier.wait()
        reports.append(deliver(engine, transport, clock))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.sent for r in reports) == 12
    assert sorted(transport.sent) == sorted({get(engine, i).message_id for i in ids})
    assert len(set(transport.sent)) == 12


def test_a_row_sent_meanwhile_is_not_sent_again(engine: Engine, clock: Clock) -> None:
    mail_id = write_ack(engine, clock)
    with engine.begin() as conn:  # another worker already finished it
        conn.execute(update(OutboxMail).where(OutboxMail.id == mail_id).values(state="sent"))
    transport = SlowRecorder()
    assert deliver(engine, transport, clock).sent == 0 and transport.sent == []
