"""The embedded local SMTP receiver: accepts mail on loopback, delivers to Maildir.

It stamps a ``Received:`` header with our own clock, which is what counts as the
arrival time for Maildir messages.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from durable import deliver_maildir

log = logging.getLogger(__name__)


def deliver_to_maildir(maildir: Path, data: bytes) -> Path:
    """Atomic Maildir delivery: write into tmp/, fsync, rename into new/, fsync new/."""
    return deliver_maildir(maildir, data)


class MaildirHandler:
    def __init__(self, maildir: Path, hostname: str = "jiebang.local") -> None:
        self.maildir = Path(maildir)
        self.hostname = hostname

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        rcpt = envelope.rcpt_tos[0] if envelope.rcpt_tos else "unknown"
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        stamp = (
            f"Received: from {session.host_name or 'unknown'} ([{peer}])\r\n"
            f"\tby {self.hostname} (jiebang local receiver) with ESMTP\r\n"
            f"\tfor <{rcpt}>; {format_datetime(datetime.now(UTC).astimezone())}\r\n"
        ).encode("ascii", "replace")
        try:
            path = deliver_to_maildir(self.maildir, stamp + content)
        except OSError as exc:
            log.error("local receiver cannot deliver: %s", exc)
            return "451 Requested action aborted: local delivery failed"
        log.info("local receiver: accepted mail from %s → %s", envelope.mail_from, path.name)
        return "250 Message accepted for delivery"


class LocalReceiver:
    """aiosmtpd on loopback; ``start()`` returns once it listens."""

    def __init__(self, maildir: Path, *, host: str = "127.0.0.1", port: int = 2525,
                 max_message_bytes: int = 60 << 20) -> None:
        self.controller = Controller(
            MaildirHandler(maildir), hostname=host, port=port, data_size_limit=max_message_bytes,
            ready_timeout=10,
        )

    @property
    def port(self) -> int:
        server = getattr(self.controller, "server", None)
        if server and server.sockets:
            bound: int = server.sockets[0].getsockname()[1]
            return bound
        return self.controller.port

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
