"""The Transport port: hand one message to the next hop, or say why not.

Error taxonomy (the sender decides retry vs. give up from the class alone)::

    SendError
    ├── TransientSendError   4xx, connection refused/dropped, timeout, TLS/auth
    │                        trouble, disk full — try again later
    └── PermanentSendError   5xx for every recipient, malformed address — never retry

    TransportConfigError     (ValueError) the transport URL cannot be used at all

Adapters: ``notifier.smtp.SmtpTransport`` and the embedded default
``notifier.maildir.MaildirTransport`` (a file outbox), chosen by ``open_transport``.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit


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


def open_transport(
    url: str,
    *,
    base_dir: Path,
    password: Callable[[], str | None],
    timeout: float = 30.0,
    ssl_context: ssl.SSLContext | None = None,
) -> Transport:
    """``maildir:PATH`` | ``smtp://host:port`` | ``smtp+starttls://user@host:587`` | ``smtps://user@host:465``.

    Relative maildir paths are relative to *base_dir* (the config file's folder).
    *password* is called at send time (the secret lives in the environment).
    """
    from notifier.maildir import MaildirTransport
    from notifier.smtp import DEFAULT_PORTS, SmtpTransport

    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme in ("maildir", "file"):
        path = Path(unquote(rest.removeprefix("//"))).expanduser()
        if not rest:
            raise TransportConfigError(f"{url!r}: maildir: needs a path")
        return MaildirTransport(path if path.is_absolute() else base_dir / path)
    if scheme not in DEFAULT_PORTS:
        raise TransportConfigError(f"{url!r}: use maildir:PATH, smtps://, smtp+starttls:// or smtp://")
    parts = urlsplit(url)
    if parts.password is not None:
        raise TransportConfigError("the SMTP password never goes in the URL; set JIEBANG_SMTP_PASSWORD")
    if not parts.hostname:
        raise TransportConfigError(f"{url!r}: no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise TransportConfigError(f"{url!r}: {exc}") from None
    return SmtpTransport(
        parts.hostname,
        port,
        scheme=scheme,
        username=unquote(parts.username) if parts.username else None,
        password=password,
        timeout=timeout,
        ssl_context=ssl_context,
    )
