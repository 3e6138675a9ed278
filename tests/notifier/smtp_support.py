"""Test support for notifier: recording SMTP servers (aiosmtpd), TLS with trustme, a clock."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from servers import free_port

LOOPBACK = "127.0.0.1"
SENDER = "dsjjzcghc@shandong.cn"
APPLICANT = "applicant@example.cn"
USER, PASSWORD = "jiebang", "s3cret"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=default_policy)  # type: ignore[return-value]


@dataclass
class RecordingHandler:
    """Records accepted mail; ``data_replies`` are answered (in order) before accepting."""

    received: list[Received] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    rcpt_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        if self.data_replies:
            return self.data_replies.pop(0)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, login))
        return "250 2.0.0 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


class SmtpServer:
    def __init__(self, port: int | None = None, **kwargs: object) -> None:
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self.controller = Controller(self.handler, hostname=LOOPBACK, port=self.port, **kwargs)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller._thread is not None:  # idempotent: tests stop servers early
            self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received


class TlsServers:
    def __init__(self) -> None:
        self.ca = trustme.CA()
        self.server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(LOOPBACK, "localhost").configure_cert(self.server_ctx)
        self.client_ctx = ssl.create_default_context()
        self.ca.configure_trust(self.client_ctx)
        self.started: list[SmtpServer] = []

    def start(self, *, implicit: bool) -> SmtpServer:
        if implicit:  # aiosmtpd counts only STARTTLS as TLS for auth_require_tls
            server = SmtpServer(ssl_context=self.server_ctx, authenticator=authenticator,
                                auth_require_tls=False, auth_required=True)
        else:
            server = SmtpServer(tls_context=self.server_ctx, require_starttls=True,
                                authenticator=authenticator, auth_required=True)
        self.started.append(server.start())
        return server


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)

