"""Transports: one port, two adapters, one registry.

Modules
    base     the ``Transport`` port and the error tree the sender decides retries from
    smtp     ``SmtpTransport`` (aiosmtplib): smtps, smtp+starttls, plain smtp on loopback
    maildir  ``MaildirTransport``: the embedded default, a file outbox

``TRANSPORTS`` maps each ``smtp.url`` scheme to the factory of its adapter: ``open_transport``
builds from it and the configuration refuses a scheme it does not hold (``check_scheme``).
A new adapter is one module and one entry here.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Protocol
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
    "TRANSPORTS", "MaildirTransport", "PermanentSendError", "SendError", "SmtpTransport", "TransientSendError",
    "Transport", "TransportConfigError", "TransportFactory", "check_scheme", "open_transport", "url_scheme",
]


class TransportFactory(Protocol):
    """Build one adapter from its URL (nothing is connected until it sends)."""

    def __call__(self, url: str, *, base_dir: Path, password: Callable[[], str | None], timeout: float,
                 ssl_context: ssl.SSLContext | None) -> Transport: ...


def _maildir(url: str, *, base_dir: Path, password: Callable[[], str | None], timeout: float,
             ssl_context: ssl.SSLContext | None) -> Transport:
    rest = url.partition(":")[2]
    if not rest:
        raise TransportConfigError(f"{url!r}: maildir: needs a path")
    path = Path(unquote(rest.removeprefix("//"))).expanduser()
    return MaildirTransport(path if path.is_absolute() else base_dir / path)


def _smtp(url: str, *, base_dir: Path, password: Callable[[], str | None], timeout: float,
          ssl_context: ssl.SSLContext | None) -> Transport:
    scheme = url_scheme(url)
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


# scheme → adapter factory: the one list of what ``smtp.url`` may name
TRANSPORTS: Mapping[str, TransportFactory] = MappingProxyType({
    "maildir": _maildir,
    "file": _maildir,
    **{scheme: _smtp for scheme in DEFAULT_PORTS},
})


def url_scheme(url: str) -> str:
    """``smtps://…`` → ``smtps``; ``maildir:var/outbox`` → ``maildir``."""
    return url.partition(":")[0].strip().lower()


def check_scheme(url: str) -> str:
    """*url*'s scheme if a transport serves it; else TransportConfigError naming those that do."""
    scheme = url_scheme(url)
    if scheme not in TRANSPORTS:
        raise TransportConfigError(
            f"unsupported scheme {scheme!r} (allowed: {', '.join(TRANSPORTS)})")
    return scheme


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
    try:
        factory = TRANSPORTS[check_scheme(url)]
    except TransportConfigError as exc:
        raise TransportConfigError(f"{url!r}: {exc}") from None
    return factory(url, base_dir=base_dir, password=password, timeout=timeout, ssl_context=ssl_context)
