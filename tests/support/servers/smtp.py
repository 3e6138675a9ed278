"""A recording SMTP server (aiosmtpd) on 127.0.0.1 for tests that check what was sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller

from support.servers import LOOPBACK, free_port


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
