"""SMTP adapter (aiosmtplib), one connection per message.

``smtps://`` implicit TLS · ``smtp+starttls://`` STARTTLS required · ``smtp://`` plain
only to a loopback relay — anywhere else it is upgraded to required STARTTLS, so a
password or an applicant's mail never crosses a network in clear text.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from typing import Any, Literal

import aiosmtplib

from durable.loopback import is_loopback
from notifier.transports.base import PermanentSendError, TransientSendError

log = logging.getLogger("jiebang.notifier.transports.smtp")

# the URL schemes this adapter serves (notifier.transports.TRANSPORTS maps them here)
DEFAULT_PORTS = {"smtps": 465, "smtp+starttls": 587, "smtp": 25}
Mode = Literal["tls", "starttls", "plain"]


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run *coro* to completion from sync code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _describe(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{code} {text}" if code else f"{type(exc).__name__}: {text}"


class SmtpTransport:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        scheme: str = "smtp",
        username: str | None = None,
        password: Callable[[], str | None] = lambda: None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self.host, self.port = host, port
        modes: dict[str, Mode] = {"smtps": "tls", "smtp+starttls": "starttls"}
        self.mode: Mode = modes.get(scheme, "plain")
        if self.mode == "plain" and not is_loopback(host):
            self.mode = "starttls"
        self.username, self._password = username, password
        self.timeout, self.ssl_context = timeout, ssl_context
        self.local_hostname = local_hostname

    def __repr__(self) -> str:
        return f"SmtpTransport({self.host}:{self.port}, {self.mode}, user={self.username!r})"

    def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        try:
            refused = _run(self._send(message, envelope_from, recipients))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            if codes and all(c >= 500 for c in codes):
                raise PermanentSendError(f"all recipients refused: {detail}") from exc
            raise TransientSendError(f"recipients refused: {detail}") from exc
        except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused) as exc:
            # our credentials or our sender are refused: a config problem that affects every
            # mail alike, so keep retrying (loudly) instead of failing each mail for good
            raise TransientSendError(f"server refused us: {_describe(exc)}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            error = PermanentSendError if exc.code >= 500 else TransientSendError
            raise error(_describe(exc)) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError, ssl.SSLError) as exc:
            raise TransientSendError(_describe(exc)) from exc
        if refused:
            log.warning("smtp %s: some recipients refused: %s", message["Message-ID"], refused)

    async def _send(self, message: EmailMessage, envelope_from: str,
                    recipients: list[str]) -> dict[str, str]:
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.mode == "tls",
            start_tls=self.mode == "starttls",  # True = required, fails if not offered
            tls_context=self.ssl_context,
            timeout=self.timeout,
            local_hostname=self.local_hostname,
        )
        await client.connect()
        try:
            if self.username:
                password = self._password()
                if not password:
                    raise aiosmtplib.SMTPAuthenticationError(530, "no password (set JIEBANG_SMTP_PASSWORD)")
                await client.login(self.username, password)
            refused, _response = await client.send_message(
                message, sender=envelope_from, recipients=recipients
            )
        finally:
            await _quit(client)
        return {k: f"{v.code} {v.message}" for k, v in refused.items()}


async def _quit(client: aiosmtplib.SMTP) -> None:
    # once the server accepted the data, a failed QUIT must not turn into a retry
    # (that would send the mail twice)
    try:
        if client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        client.close()
