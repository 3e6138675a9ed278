"""Test support for notifier: recording SMTP servers (aiosmtpd), TLS with trustme, a clock."""

from __future__ import annotations

import ssl
from datetime import datetime, timedelta

import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword

from support.servers import free_port  # noqa: F401
from support.servers.smtp import Received, RecordingHandler, SmtpServer  # noqa: F401

LOOPBACK = "127.0.0.1"
SENDER = "dsjjzcghc@shandong.cn"
APPLICANT = "applicant@example.cn"
USER, PASSWORD = "jiebang", "s3cret"


def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


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

