"""IMAP source (imapclient): TLS / STARTTLS / plain-on-loopback, LOGIN or XOAUTH2,
UID checkpoints, IDLE, bounded fetches, and the quirks of Chinese mail hosts.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import (
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
)

from durable.loopback import is_loopback
from intake.sources.base import (
    AuthenticationFailed,
    FetchedMessage,
    FolderNotFound,
    FolderState,
    MailboxUnavailable,
    SourceConfigError,
)

log = logging.getLogger(__name__)

SEEN = b"\\Seen"
# Coremail / NetEase (163, 126, yeah) refuse SELECT with "Unsafe Login" unless the
# client identifies itself with ID (RFC 2971) after login.
CLIENT_ID = {"name": "jiebang", "version": "0.1", "vendor": "jiebang"}
FETCH_TIMEOUTS_BEFORE_GIVING_UP = 3
# the URL schemes this adapter serves (intake.sources.factory.SOURCES maps them here)
SCHEMES = ("imaps", "imap+starttls", "imap")


class _MessageFields(TypedDict):
    """The FetchedMessage fields every outcome of one fetch shares."""

    source: str
    folder: str
    uidvalidity: int | None
    uid: int
    size: int
    arrived_at: datetime | None


@dataclass(frozen=True)
class ImapEndpoint:
    host: str
    port: int
    user: str
    security: str  # "tls" | "starttls" | "plain"
    folder: str | None

    @property
    def name(self) -> str:
        return f"imap://{self.user}@{self.host}:{self.port}"


def parse_imap_url(url: str) -> ImapEndpoint:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        raise SourceConfigError(f"mailbox.url: cannot use {url!r}")
    if not parts.username:
        raise SourceConfigError("mailbox.url: name the user, e.g. imaps://user@host:993/INBOX")
    security = {"imaps": "tls", "imap+starttls": "starttls"}.get(scheme, "plain")
    if security == "plain" and not is_loopback(parts.hostname):
        # never send a password in clear over a network: upgrade or refuse
        security = "starttls"
    default_port = 993 if security == "tls" else 143
    folder = unquote(parts.path.lstrip("/")) or None
    return ImapEndpoint(
        host=parts.hostname,
        port=parts.port or default_port,
        user=unquote(parts.username),
        security=security,
        folder=folder,
    )


class ImapMailbox:
    """One IMAP connection; not thread-safe (use one instance per thread)."""

    def __init__(
        self,
        url: str,
        *,
        secret: Callable[[], str | None],
        auth: str = "login",
        timeout: float = 30,
        max_message_bytes: int,
        seconds_per_message: float = 120,
        after_commit: str = "seen",
        move_to: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        idle_seconds: float = 300,
    ) -> None:
        self.endpoint = parse_imap_url(url)
        self.name = self.endpoint.name
        self._secret = secret
        self._auth = auth
        self._timeout = timeout
        self.max_message_bytes = max_message_bytes
        self.seconds_per_message = seconds_per_message
        self.after_commit = after_commit
        self.move_to = move_to
        self._ssl = ssl_context or ssl.create_default_context()
        self.idle_seconds = idle_seconds
        self._client: IMAPClient | None = None
        self._selected: str | None = None
        self._timeouts: dict[tuple[str, int | None, int], int] = {}
        self.supports_idle = False

    # --- connection ---------------------------------------------------------
    def connect(self) -> None:
        ep = self.endpoint
        try:
            client = IMAPClient(
                ep.host,
                port=ep.port,
                ssl=ep.security == "tls",
                ssl_context=self._ssl,
                timeout=SocketTimeout(connect=self._timeout, read=self._timeout),
            )
        except (OSError, IMAPClientError) as exc:
            raise MailboxUnavailable(f"cannot connect to {ep.host}:{ep.port}: {_why(exc)}") from exc
        client.normalise_times = False  # keep INTERNALDATE's zone
        try:
            if ep.security == "starttls":
                try:
                    client.starttls(self._ssl)
                except (OSError, IMAPClientError) as exc:  # incl. certificate failures
                    raise MailboxUnavailable(f"STARTTLS with {ep.host}:{ep.port} failed: {_why(exc)}") from exc
            self._login(client)
            try:
                if client.has_capability("ID"):
                    client.id_(CLIENT_ID)
            except IMAPClientError as exc:  # harmless when a server dislikes ID
                log.debug("IMAP ID refused: %s", exc)
            self.supports_idle = client.has_capability("IDLE")
        except BaseException:
            _quietly_logout(client)
            raise
        self._client = client
        self._selected = None

    def _login(self, client: IMAPClient) -> None:
        ep = self.endpoint
        secret = self._secret()
        if not secret:
            var = "JIEBANG_IMAP_OAUTH2_TOKEN" if self._auth == "xoauth2" else "JIEBANG_IMAP_PASSWORD"
            raise AuthenticationFailed(f"no credentials for {ep.user}: set {var} in the environment")
        try:
            if self._auth == "xoauth2":
                client.oauth2_login(ep.user, secret)
            else:
                client.login(ep.user, secret)
        except LoginError as exc:
            raise AuthenticationFailed(
                f"{ep.host} refused the login for {ep.user}: {_why(exc)}"
            ) from exc
        except (OSError, IMAPClientAbortError) as exc:
            raise MailboxUnavailable(f"{ep.host} dropped the connection at login: {_why(exc)}") from exc

    def close(self) -> None:
        if self._client is not None:
            _quietly_logout(self._client)
        self._client = None
        self._selected = None

    def _require(self) -> IMAPClient:
        if self._client is None:
            self.connect()
        assert self._client is not None
        return self._client

    # --- folders ------------------------------------------------------------
    def select(self, folder: str) -> FolderState:
        client = self._require()
        try:
            info = client.select_folder(folder)
        except IMAPClientAbortError as exc:
            self._drop()
            raise MailboxUnavailable(f"connection lost selecting {folder}: {_why(exc)}") from exc
        except IMAPClientError as exc:
            if _looks_missing(exc):
                raise FolderNotFound(f"IMAP folder {folder!r} does not exist on {self.endpoint.host}") from exc
            raise MailboxUnavailable(f"cannot select {folder!r}: {_why(exc)}") from exc
        except OSError as exc:
            self._drop()
            raise MailboxUnavailable(f"connection lost selecting {folder}: {_why(exc)}") from exc
        self._selected = folder
        return FolderState(
            name=folder, uidvalidity=int(info[b"UIDVALIDITY"]), exists=int(info.get(b"EXISTS", 0))
        )

    def ensure_folder(self, folder: str) -> None:
        client = self._require()
        if not client.folder_exists(folder):
            client.create_folder(folder)

    # --- fetching -----------------------------------------------------------
    def fetch_new(self, folder: str, *, after_uid: int, limit: int) -> Iterator[FetchedMessage]:
        state = self.select(folder) if self._selected != folder else None
        client = self._require()
        uidvalidity = state.uidvalidity if state else self._uidvalidity(folder)
        try:
            # "N:*" always matches the highest UID, even below N: filter it out
            uids = sorted(u for u in client.search(["UID", f"{after_uid + 1}:*"]) if u > after_uid)
            uids = uids[:limit]
            meta = client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE"]) if uids else {}
        except (OSError, IMAPClientAbortError) as exc:
            self._drop()
            raise MailboxUnavailable(f"connection lost listing {folder}: {_why(exc)}") from exc
        for uid in uids:
            item = meta.get(uid, {})
            size = int(item.get(b"RFC822.SIZE", 0))
            arrived = item.get(b"INTERNALDATE")
            yield self._fetch_one(folder, uidvalidity, uid, size, _aware(arrived))

    def _uidvalidity(self, folder: str) -> int:
        status = self._require().folder_status(folder, [b"UIDVALIDITY"])
        return int(status[b"UIDVALIDITY"])

    def _fetch_one(
        self, folder: str, uidvalidity: int | None, uid: int, size: int, arrived: datetime | None
    ) -> FetchedMessage:
        client = self._require()
        base = _MessageFields(
            source=self.name, folder=folder, uidvalidity=uidvalidity, uid=uid,
            size=size, arrived_at=arrived,
        )
        if size > self.max_message_bytes:
            headers = self._fetch_part(client, uid, b"BODY.PEEK[HEADER]", b"BODY[HEADER]")
            return FetchedMessage(raw=None, oversize=True, headers=headers or b"", **base)
        slot = (folder, uidvalidity, uid)
        started = time.monotonic()
        client.socket().settimeout(self.seconds_per_message)
        try:
            raw = self._fetch_part(client, uid, b"BODY.PEEK[]", b"BODY[]")
        except TimeoutError as exc:
            self._drop()
            tries = self._timeouts[slot] = self._timeouts.get(slot, 0) + 1
            if tries >= FETCH_TIMEOUTS_BEFORE_GIVING_UP:
                # one hostile message must not stall the folder forever: record and move on
                return FetchedMessage(
                    raw=None, error=f"fetch timed out {tries}× ({self.seconds_per_message:.0f} s)", **base
                )
            raise MailboxUnavailable(f"fetching UID {uid} timed out") from exc
        finally:
            if self._client is not None:
                self._client.socket().settimeout(self._timeout)
        log.debug("fetched UID %s (%d bytes) in %.2fs", uid, len(raw or b""), time.monotonic() - started)
        if raw is None:  # expunged between SEARCH and FETCH
            return FetchedMessage(raw=None, error="message vanished from the server", **base)
        fetched: _MessageFields = {**base, "size": len(raw)}
        return FetchedMessage(raw=raw, **fetched)

    def _fetch_part(self, client: IMAPClient, uid: int, ask: bytes, key: bytes) -> bytes | None:
        try:
            data = client.fetch([uid], [ask])
        except TimeoutError:
            raise
        except (OSError, IMAPClientAbortError) as exc:
            self._drop()
            raise MailboxUnavailable(f"connection lost fetching UID {uid}: {_why(exc)}") from exc
        except IMAPClientError as exc:
            raise MailboxUnavailable(f"server refused to fetch UID {uid}: {_why(exc)}") from exc
        part: bytes | None = data.get(uid, {}).get(key)
        return part

    def acknowledge(self, messages: Sequence[FetchedMessage]) -> None:
        """Flag (or move) committed messages, one command per folder."""
        if self.after_commit == "none":
            return
        by_folder: dict[str, list[int]] = {}
        for m in messages:
            if m.uid is not None:
                by_folder.setdefault(m.folder, []).append(m.uid)
        client = self._require()
        for folder, uids in by_folder.items():
            if self._selected != folder:
                self.select(folder)
            try:
                if self.after_commit == "move" and self.move_to:
                    client.move(uids, self.move_to)
                else:
                    client.add_flags(uids, [SEEN], silent=True)
            except (OSError, IMAPClientAbortError) as exc:
                # the messages are committed already; the flag is a courtesy to humans
                self._drop()
                raise MailboxUnavailable(f"connection lost flagging {len(uids)} message(s)") from exc

    # --- waiting ------------------------------------------------------------
    def wait_for_mail(self, *, timeout: float, stop: threading.Event) -> bool:
        """IDLE until new mail, ``timeout`` or ``stop``; plain sleep without IDLE."""
        if not self.supports_idle or self._client is None or self._selected is None:
            stop.wait(timeout)
            return False
        client = self._client
        deadline = time.monotonic() + min(timeout, self.idle_seconds)
        try:
            client.idle()
            try:
                while not stop.is_set() and time.monotonic() < deadline:
                    for _, what in ((r[0], r[1]) for r in client.idle_check(timeout=1) if len(r) > 1):
                        if what in (b"EXISTS", b"RECENT"):
                            return True
            finally:
                client.idle_done()
        except (OSError, IMAPClientError) as exc:
            self._drop()
            raise MailboxUnavailable(f"connection lost while idle: {_why(exc)}") from exc
        return False

    def _drop(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            try:
                client.shutdown()
            except Exception:  # the socket is already gone
                pass


def _aware(value: object) -> datetime | None:
    return value if isinstance(value, datetime) and value.tzinfo else None


def _why(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, socket.gaierror):
        text = f"host not found ({text})"
    return text.strip().splitlines()[0][:300]


def _looks_missing(exc: IMAPClientError) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("nonexistent", "doesn't exist", "does not exist", "not exist", "no such", "unknown mailbox", "notexist"))


def _quietly_logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # closing a broken connection
        try:
            client.shutdown()
        except Exception:
            pass
