"""The Transport port: hand one message to the next hop, or say why not.

Error taxonomy (the sender decides retry vs. give up from the class alone)::

    SendError
    ├── TransientSendError   4xx, connection refused/dropped, timeout, TLS/auth
    │                        trouble, disk full — try again later
    └── PermanentSendError   5xx for every recipient, malformed address — never retry

    TransportConfigError     (ValueError) the transport URL cannot be used at all

Adapters: ``notifier.transports.smtp.SmtpTransport`` and the embedded default
``notifier.transports.maildir.MaildirTransport`` (a file outbox), chosen by ``notifier.transports.open_transport``.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class SendError(Exception):
    """The message was not handed over."""


class TransientSendError(SendError):
    """Worth retrying later (the next hop is down, busy or said 4xx)."""


class PermanentSendError(SendError):
    """Retrying cannot help (5xx for all recipients, bad address)."""


class TransportConfigError(ValueError):
    """The smtp.url cannot be turned into a transport."""


class Transport(Protocol):
    def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        """Deliver *message* to *recipients*; raise TransientSendError or PermanentSendError."""
        ...
