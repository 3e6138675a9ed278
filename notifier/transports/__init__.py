"""Transports: one port, two adapters, one factory.

Modules
    base     the ``Transport`` port and the error tree the sender decides retries from
    smtp     ``SmtpTransport`` (aiosmtplib): smtps, smtp+starttls, plain smtp on loopback
    maildir  ``MaildirTransport``: the embedded default, a file outbox
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from notifier.transports.base import (
    PermanentSendError,
    SendError,
    TransientSendError,
    Transport,
    TransportConfigError,
)
from notifier.transports.maildir import MaildirTransport
from notifier.transports.smtp import DEFAULT_PORTS, SmtpTransport

__all__ = [
    "MaildirTransport", "PermanentSendError", "SendError", "SmtpTransport", "TransientSendError",
    "Transport", "TransportConfigError", "open_transport",
]


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
