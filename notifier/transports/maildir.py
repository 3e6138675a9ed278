"""The embedded default transport: a Maildir the operator (or a relay) picks up.

Each message is written to ``tmp/``, fsynced, then renamed into ``new/`` — readers
never see a half-written file, and a crash leaves at most a stray file in ``tmp/``.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from durable import deliver_maildir
from notifier.transports.base import TransientSendError


class MaildirTransport:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"MaildirTransport({self.path})"

    def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        policy = message.policy.clone(linesep="\n")  # Maildir files use the local line ending
        data = message.as_bytes(policy=policy)
        try:
            deliver_maildir(self.path, data)
        except OSError as exc:  # disk full, permissions: may clear up, so retry later
            raise TransientSendError(f"maildir {self.path}: {exc.strerror or exc}") from exc
